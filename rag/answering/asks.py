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

from rag.answering.question import CUES

JOINERS = re.compile(r"以及|还有|和|与|跟|及|同|、|，|,|;|；|/")
# Words that carry no target: pointers (那条), measure phrases (这两项), politeness, particles.
FILLERS = re.compile(
    r"请问|麻烦|帮忙|帮我|查下|查一下|问一下|想问|我们|这俩|这两(?:个|条|项|块)?|这三(?:个|条|项|块)?|两项|三项|三块|"
    r"那(?:两|三)?(?:条|项|块|个)|这一?(?:条|项|块|个)|那一(?:条|项|块|个)|两条|这类|那类|方面|工作|"
    r"分别|各自|各归|各由|各是|各有|各|由|哪个|的|了|呢|吗|啊|:|：|\s"
)
# What else a comparison says once its targets are named (「…的比,多了哪些」「…哪个截止得早」).
COMPARISON_WORDS = re.compile(r"(?:责任|配合)?(?:单位|部门)|比起?|多了|少了|多出|哪些|哪几个|哪几家|有没有|重合|两边|都有|差在哪|差在|差别|区别|"
                              r"一样|相同|不同|有啥|是不是|同一个|[?？。!！]")
# The phrase each sub-question asks with: the kind's own cue, so the reader sees the same ask.
ASK_PHRASE = {"lead": "由谁牵头?", "units": "的配合单位有哪些?", "deadline": "什么时候完成?"}
# A question about several targets says so (分别, 各, 一样吗, 哪个早, 这两项 …); a plain list of
# examples (「医院、车站、商场这些人多的地方」) describes one target.
DISTRIBUTIVE = re.compile(r"分别|各自|各[归由是有]|一样|相同|不同|同一|区别|差别|差在|哪个[^,，。?？]{0,4}?(?:早|晚|先|后|截止)|谁先|先后|"
                          r"这两|这俩|这三|两项|三项|两条|三条|两块|三块|多了|少了|多出|重合|两边|比")
# What a comparison compares when its own wording is not a kind's cue (「责任单位差在哪」「哪个先到期」).
COMPARED = (("units", re.compile(r"责任单位|配合单位|单位|部门")),
            ("deadline", re.compile(r"到期|期限|截止|时限|先|早|晚")),
            ("lead", re.compile(r"牵头")))
SAME_CUE = re.compile(r"一样|相同|同一|不同|区别|差别|有啥不一样")
MIN_TARGET = 2


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
        targets = _targets(COMPARISON_WORDS.sub("、", cue.sub("、", text)))
    if len(targets) < 2 or len(targets) > 5:
        return None
    return [t + ASK_PHRASE[kind] for t in targets]


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
    pieces = [FILLERS.sub("", p) for p in JOINERS.split(text)]
    return [p for p in pieces if len(re.findall(r"[\u4e00-\u9fff]", p)) >= MIN_TARGET]


def compares(text: str) -> bool:
    """The question asks whether the targets' answers are the same (「一样吗」「有啥不一样」)."""
    return SAME_CUE.search(text) is not None


# -- tickets ------------------------------------------------------------------------------------
QUESTION_MARK = re.compile(r"谁|哪|什么|啥|(?<![十一二三四五六七八九0-9])几|多少|吗|么|呢|是否|是不是|有没有|能否|怎么|如何|[?？]")
SENTENCE_END = re.compile(r"(?<=[。！!？?；;])")
SELF_INTRODUCTION = re.compile(r"^(?:我们|我|咱们|本单位|我单位|本公司|我公司)(?:是|在|这边|单位|公司|家)[^,，。;；:：]{1,20}[,，。;；]")
SPEAKER = re.compile(r"^[^:：。?？]{2,30}[:：]")  # 「物业公司安全员:」「热线留言,一位农户:」


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
    if len(_topic_chars(kept)) < 2 and first > 0:
        kept = sentences[first - 1] + kept
    return kept.strip()


def _topic_chars(text: str) -> str:
    for cue in CUES.values():
        text = cue.sub("", text)
    text = QUESTION_MARK.sub("", FILLERS.sub("", text))
    return "".join(re.findall(r"[\u4e00-\u9fff]", re.sub(r"文件|这块|这一块|那块|里面|里|规定|要求|说", "", text)))
