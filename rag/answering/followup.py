"""Follow-up questions (那它的完成时限呢?还有哪些部门配合?第二十四条呢?那市公安局呢?) resolved
against the conversation so far.

Three things may carry over from earlier turns, each for its own reason:

- the **item** (or department) the conversation is about, when the new question names no topic of
  its own or points back with a pronoun (它, 这条, 该项 …), or moves relative to it (下一条, 上一条);
- the **kind** of question (lead, units, deadline …), when the new question is elliptical
  (那第二十四条呢?那危化品呢?) and asks nothing of its own;
- the **department**, when the last answer was a department's list and the question points back at it.

Nothing here looks at the wording of particular questions; it works on what is left of a question
once its cue words, pronouns and fillers are taken out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from rag.answering.question import Query
from rag.answering.rules import (
    AMONG,
    CARRY_KINDS,
    CONTENTS,
    CUES,
    ELLIPSIS,
    FILLER,
    INTERROGATIVE,
    ITEM_ASK,
    ITEM_PRONOUN,
    ITEM_REF,
    ITEM_REF_BARE,
    LAW_ASK,
    LEAD_YESNO,
    LOCAL_GOVERNMENT,
    ORDINAL,
    OTHER_ITEM,
    PICK_AMONG,
    PRONOUN,
    RELATIVE,
    TALK,
    THAT_UNIT,
    THIS_SECTION,
    WHICH_ITEM,
)
from rag.indexing.lexical import STOPWORDS
from rag.reading.fields import chinese_number

LOOKBACK = 4  # turns searched for the thing a follow-up points back to


@dataclass(frozen=True)
class Anchor:
    """What the conversation is currently about."""

    items: tuple[int, ...] = ()
    departments: tuple[str, ...] = ()
    kind: str | None = None
    paths: tuple[str, ...] = ()  # the items' numbering paths, where numbers restart inside a document
    section: str | None = None  # the section the last answer listed
    lead: tuple[str, ...] = ()  # the lead unit(s) of the task the last answer was about


def anchor_of(history: list[dict[str, Any]]) -> Anchor:
    """The most recent item or department focus, looking back over refusals that had none.

    A refusal about one item (第23条没有写明完成时限) still anchors on that item; a refusal with
    several guesses, or none, is passed over.
    """
    for turn in reversed(history[-LOOKBACK:]):
        focus = turn.get("focus") or {}
        if turn.get("refused"):
            nearest = focus.get("nearest") or []
            if len(nearest) == 1:
                return Anchor((int(nearest[0]),), (), turn.get("kind"))
            continue
        return turn_anchor(turn)
    return Anchor()


def list_anchor(history: list[dict[str, Any]]) -> Anchor:
    """The most recent answer that listed several items: what 「第三个」 counts in, even after a
    follow-up about one of them (「第二个什么时候完成」, then 「第三个谁牵头」)."""
    for turn in reversed(history[-LOOKBACK:]):
        if len((turn.get("focus") or {}).get("items") or []) >= 2 and not turn.get("refused"):
            return turn_anchor(turn)
    return Anchor()


def turn_anchor(turn: dict[str, Any]) -> Anchor:
    """What one answered turn was about, from its focus."""
    focus = turn.get("focus") or {}
    items = tuple(int(i) for i in focus.get("items") or [])
    paths = tuple(focus.get("paths") or [])
    return Anchor(items, tuple(focus.get("departments") or []), turn.get("kind"),
                  paths if len(paths) == len(items) else (), focus.get("section"), tuple(focus.get("lead") or ()))


def _other_item(history: list[dict[str, Any]]) -> tuple[int, str | None] | None:
    """The task of the last two-task answer that the conversation is not on: the other one than the
    latest single task talked about (before that answer or after it)."""
    turns = [t for t in history[-LOOKBACK:] if not t.get("refused")]
    pairs = [a for t in turns if len((a := turn_anchor(t)).items) == 2]
    if not pairs:
        return None
    pair = pairs[-1]
    current = next((a.items[0] for t in reversed(turns) if len((a := turn_anchor(t)).items) == 1
                    and a.items[0] in pair.items), None)
    if current is None:
        return None
    at_other = 1 - pair.items.index(current)
    return pair.items[at_other], pair.paths[at_other] if pair.paths else None


def last_kind(history: list[dict[str, Any]]) -> str | None:
    """The kind of the latest question that was about the corpus."""
    for turn in reversed(history[-LOOKBACK:]):
        kind = turn.get("kind")
        if kind and kind != "out_of_scope":
            return kind
    return None


def topic_residue(text: str, departments: tuple[str, ...] = ()) -> str:
    """What a question says beyond cue words, pronouns, item numbers and fillers."""
    for pattern in (ITEM_REF, ITEM_REF_BARE, RELATIVE, PRONOUN, ITEM_ASK, TALK, WHICH_ITEM, *CUES.values()):
        text = pattern.sub(" ", text)
    for name in departments:
        text = text.replace(name, " ")
    text = LOCAL_GOVERNMENT.sub(" ", text)  # (各县区党委政府 is a unit of the block, not a topic)
    for word in sorted((w for w in STOPWORDS if len(w) >= 2), key=len, reverse=True):
        text = text.replace(word, " ")
    text = FILLER.sub(" ", text)
    return "".join(re.findall(r"[\u4e00-\u9fff]+", text))


def resolve_follow_up(query: Query, history: list[dict[str, Any]]) -> Query:
    """Fill in what a follow-up leaves out (item, department, kind) from the earlier turns."""
    if not history or query.refusal:
        return query
    anchor = anchor_of(history)
    previous_kind = last_kind(history)
    text = query.text
    has_topic = len(topic_residue(text, query.departments)) >= 2 or bool(query.departments)
    points_back = PRONOUN.search(text) is not None or not has_topic
    # 「那危化品呢」, or a bare topic that asks nothing of its own (「水利」): the last ask again
    elliptical = ELLIPSIS.search(text) is not None or not has_topic or not INTERROGATIVE.search(text)
    kind, item, departments, path = query.kind, query.item, query.departments, query.path

    names_item = ITEM_PRONOUN.search(text) is not None
    ordinal = ORDINAL.search(text)
    position = chinese_number(ordinal.group(1) or ordinal.group(2)) if ordinal else None
    listed = list_anchor(history) if position else anchor
    if position and len(listed.items) >= position >= 1 and item is None:
        item = listed.items[position - 1]  # 「其中第二个谁牵头」: into the last list an answer gave
        path = listed.paths[position - 1] if listed.paths else None
        if kind not in CARRY_KINDS:  # 「第三个呢」 asks what was asked of the others; 「第四个具体要做什么」 its text
            carried = ELLIPSIS.search(text) and previous_kind in CARRY_KINDS and not ITEM_ASK.search(text)
            kind = previous_kind if carried else "item"
        return replace(query, kind=kind, item=item, departments=departments, path=path)
    if item is None and kind == "deadline" and PICK_AMONG.search(text) and len(listed := list_anchor(history).items) >= 2 \
            and len(topic_residue(PICK_AMONG.sub(" ", text), departments)) < 2:
        return replace(query, among=listed)  # 「里面哪条有明确的截止时间」: among the tasks just listed
    if item is None and OTHER_ITEM.search(text) and (other := _other_item(history)) is not None:
        item, path = other  # 「另外那条什么时候完成」 after a two-task answer; 「另外那条呢」 asks the same again
        if kind not in CARRY_KINDS:
            carried = ELLIPSIS.search(text) and previous_kind in CARRY_KINDS and not ITEM_ASK.search(text)
            kind = previous_kind if carried else "item"
        return replace(query, kind=kind, item=item, path=path)
    if (not departments and THAT_UNIT.search(text) and anchor.lead and item is None
            and kind in ("department", "list", "fact", "units", "lead")):
        # 「这个部门还负责哪些」: the unit the last question asked about (「公安局在里面吗」), else the task's lead
        return replace(query, kind="department", departments=(anchor.departments or anchor.lead)[:1])
    if (not anchor.section and len(anchor.items) == 1 and item is None and query.section is None and not departments
            and THIS_SECTION.search(text) and len(topic_residue(THIS_SECTION.sub(" ", CONTENTS.sub(" ", text)))) < 2):
        return replace(query, kind="section", item=anchor.items[0])  # 「这一部分包括哪几条」 after a task
    if anchor.section and item is None and query.section is None and not departments and CONTENTS.search(text) \
            and len(topic_residue(CONTENTS.sub(" ", text))) < 2:
        return replace(query, kind="section", section=anchor.section)  # 「包括哪些条目」 after a section
    if LAW_ASK.search(text) and len(anchor.items) == 1 and item is None and not departments \
            and len(topic_residue(LAW_ASK.sub(" ", text))) < 2:
        item, path = anchor.items[0], anchor.paths[0] if anchor.paths else None  # 「依据的是哪个规定」
        return replace(query, kind="fact", item=item, path=path)
    if departments and LEAD_YESNO.search(text) and len(anchor.items) == 1 and item is None \
            and len(topic_residue(LEAD_YESNO.sub(" ", text), (*query.unit_mentions, *departments))) < 2:
        item, path = anchor.items[0], anchor.paths[0] if anchor.paths else None  # 「广播电视局是牵头的吗」
        return replace(query, kind="lead", item=item, path=path)
    if departments and AMONG.search(text) and len(anchor.items) == 1 and item is None \
            and len(topic_residue(AMONG.sub(" ", text), (*query.unit_mentions, *departments))) < 2:  # (「校园安全那条,卫健委在不在」 names its own)
        item, path = anchor.items[0], anchor.paths[0] if anchor.paths else None  # 「Y局也在里面吧」
        return replace(query, kind="units", item=item, path=path)
    if item is None and len(anchor.items) == 1 and (m := RELATIVE.search(text)):
        item = anchor.items[0] + (-1 if m.group(1) in "上前" else 1)
    elif item is None and departments and names_item and len(anchor.items) == 1:
        item, path = anchor.items[0], anchor.paths[0] if anchor.paths else None  # 市公安局也参与这项工作吗?
        if kind == "department":
            kind = "units"
    elif (
        not departments and item is None and query.section is None and anchor.kind == "department"
        and anchor.departments and points_back and not names_item
        and kind not in ("deadline", "section", "overview")
    ):
        return replace(query, kind="department", departments=anchor.departments[:1])
    elif (item is None and not departments and query.section is None and len(anchor.items) == 1
          and points_back and kind != "overview"):
        item, path = anchor.items[0], anchor.paths[0] if anchor.paths else None

    asks_content = ITEM_ASK.search(text) is not None
    if kind in ("fact", "item") and elliptical and not asks_content and previous_kind in CARRY_KINDS:
        kind = previous_kind  # 那第二十四条呢? / 那危化品呢? after 燃气安全由谁牵头?
    elif kind == "fact" and elliptical and previous_kind == "list" and item is None and has_topic:
        kind = "list"  # 那应急演练呢? after 哪些条目提到隐患排查?
    elif kind == "fact" and item is not None and not has_topic:
        kind = "item"  # 这条呢? / 具体内容? about the item in focus
    if (kind, item, departments, path) == (query.kind, query.item, query.departments, query.path):
        return query
    return replace(query, kind=kind, item=item, departments=departments, path=path)
