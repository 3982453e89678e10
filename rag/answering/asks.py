"""Several targets in one question (「燃气和消防分别由谁牵头?」「A的配合单位比B多了哪些?」「这两项
哪个截止得早?」): the question is cut into one ask per target, each answered and cited on its own,
and the answers are joined.

The cut is made on the question's structure, not on its words: the part before the ask (the kind's
cue) is split at coordinating words and punctuation, and every piece that still names something
after fillers are taken out becomes a target. A split is kept only when the targets lead to
different tasks; a title that itself contains 和 (消防和森林草原防火) collapses back to one ask.
"""

from __future__ import annotations

import re

from rag.answering.followup import topic_residue
from rag.answering.rules import (
    COMPARED,
    COMPARISON_WORDS,
    CONTEXT_POINTER,
    COORDINATION,
    CUES,
    DISTRIBUTIVE,
    JOINERS,
    MIN_TARGET,
    QUESTION_MARK,
    SAME_CUE,
    SELF_INTRODUCTION,
    SENTENCE_END,
    SPEAKER,
    TARGET_FILLERS,
    TICKET_WORDS,
    UNIT_MEMBERSHIP,
)

# The phrase each sub-question asks with: the kind's own cue, so the reader sees the same ask.
ASK_PHRASE = {"lead": "由谁牵头?", "units": "的配合单位有哪些?", "deadline": "什么时候完成?"}


def split_asks(text: str, kind: str) -> list[str] | None:
    """One sub-question per target, or None when the question names fewer than two targets."""
    cue = CUES.get(kind)
    if kind not in ASK_PHRASE or cue is None or not DISTRIBUTIVE.search(text):
        return None
    m = cue.search(text) or next((c.search(text) for k, c in COMPARED if k == kind), None)
    if m is None:
        return None
    targets = _targets(text[: m.start()])
    if len(targets) < 2:  # 「燃气的配合单位和烟花爆竹的比,多了哪些」「A那条的配合单位比B多了哪些」: the ask sits between the targets
        targets = _targets(cue.sub("、", COMPARISON_WORDS.sub("、", text)))
    if len(targets) < 2 or len(targets) > 5:
        return None
    return [t + ASK_PHRASE[kind] for t in targets]


def split_member(text: str, unit: str) -> list[str] | None:
    """「烟花爆竹和民爆器材,市公安局是不是两项都参与了?」: one ask for the units of each target, the
    targets named before the unit (or after it: 「市司法局在A和B里有没有」); None for fewer than two."""
    at = text.find(unit)
    if at < 0 or not UNIT_MEMBERSHIP.search(text):
        return None
    for part in (UNIT_MEMBERSHIP.sub(",", text[:at]), UNIT_MEMBERSHIP.sub(",", text[at + len(unit):])):
        # the last clause that joins targets (「A和B,这两条里」), not a ticket's context before it
        part = next((c for c in reversed(re.split(r"[,，:：;；。]", part)) if COORDINATION.search(c)), "")
        targets = _targets(part)
        if 2 <= len(targets) <= 5:
            return [t + ASK_PHRASE["units"] for t in targets]
    return None


def compared_kind(text: str, kind: str) -> str:
    """The kind of a comparison: the reader's own, or, where it found no ask of its own, the
    attribute the comparison names."""
    if kind != "fact":  # (a listing, a count … keeps its kind)
        return kind
    return next((k for k, cue in COMPARED if cue.search(text)), kind)


def split_target(sub: str, kind: str) -> str:
    """The target of a sub-question made by ``split_asks``."""
    return sub.removesuffix(ASK_PHRASE.get(kind, ""))


def _targets(text: str) -> list[str]:
    pieces = [TARGET_FILLERS.sub("", p) for p in JOINERS.split(text)]
    return [p for p in pieces if len(re.findall(r"[\u4e00-\u9fff]", p)) >= MIN_TARGET]


def compares(text: str) -> bool:
    """The question asks whether the targets' answers are the same (「一样吗」「有啥不一样」)."""
    return SAME_CUE.search(text) is not None


# -- tickets ------------------------------------------------------------------------------------


def ticket_question(text: str) -> str:
    """The question of a helpdesk ticket: who is asking and why come first, the question last.
    Only the question is analysed and embedded, so context words (a 消防 drill a caller mentions
    before asking about 燃气) do not pull the answer to another task, and a long ticket costs no
    more than a short question. The last sentence that asks something is kept, with the sentence
    before it when the question itself names nothing (「这块文件里是谁牵头?」)."""
    body = SPEAKER.sub("", text, count=1) if not QUESTION_MARK.search(text.split(":")[0].split("：")[0]) else text
    if (m := SELF_INTRODUCTION.match(body)) and not QUESTION_MARK.search(m.group(0)):
        body = body[m.end():]  # 「我们是货运公司,…」: who asks, not what
    sentences: list[str] = []
    for piece in SENTENCE_END.split(body):  # 「…牵头??」: punctuation alone belongs to the sentence before
        if sentences and not re.search(r"[\u4e00-\u9fffA-Za-z0-9]", piece):
            sentences[-1] += piece
        elif piece.strip():
            sentences.append(piece)
    if len(sentences) < 2:
        return body if body.strip() else text
    asking = [i for i, s in enumerate(sentences) if QUESTION_MARK.search(s)]
    if not asking:
        return body
    last = asking[-1]
    first = asking[0] if len(asking) > 1 and asking[0] == last - 1 else last  # 「…,奖多少?」 two questions
    kept = "".join(sentences[first : last + 1])
    pointer = CONTEXT_POINTER.search(kept)  # (「施放气球这一块」 names its task before the pointer)
    if first > 0 and (len(_topic_chars(kept)) < 2 or (pointer and len(_topic_chars(kept[: pointer.start()])) < 2)):
        kept = sentences[first - 1] + kept  # 「…人员密集场所。这一条里谁牵头?」: the task is named before
    return kept.strip()


def _topic_chars(text: str) -> str:
    """What a ticket's asking sentence names, beyond its ask, the document and the asker."""
    return topic_residue(TICKET_WORDS.sub("", text))
