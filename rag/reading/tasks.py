"""What every layout reader shares: a task's text → Item (title, sentences, responsibility,
deadlines, counts), the path rule, sentence splitting, and the parse report."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rag.reading.duties import Conventions, Fields, duties_of, read_duties
from rag.reading.fields import counts_in, deadlines_in
from rag.types import Deadline, Document, Item, ParseReport

# Verbs that open an item's body: where a title lost its 「。」, the body starts at one of them.
BODY_OPENERS = (
    "深化", "深入", "加强", "强化", "全面", "持续", "推进", "严格", "认真", "坚持", "开展",
    "加快", "落实", "组织", "进一步", "积极", "统筹", "完善", "建立", "督促", "扎实", "以",
)
MAX_TITLE = 20
MARKUP = "#|*"  # Markdown's heading, table and emphasis marks carry no words
COMMA_LEADS = re.compile(r"逗号(?:之)?前[^。\n]{0,12}牵头")


def conventions_of(text: str) -> Conventions:
    """What the document says once about its blocks (「责任单位中逗号前的单位为牵头单位」)."""
    return Conventions(comma_leads=bool(COMMA_LEADS.search(text)))


def sentences_of(text: str) -> tuple[str, ...]:
    """Sentences as exact substrings. 「;」 splits only outside brackets, so an enumeration
    such as 六查六看(即:查…;查…) stays one sentence; 「。」 and line ends always split."""
    out, start, depth = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "((":
            depth += 1
        elif ch in "))":
            depth = max(0, depth - 1)
        if ch in "。!?!?\n" or (ch in ";;" and depth == 0):
            out.append(text[start : i + 1])
            start, depth = i + 1, (0 if ch in "。\n" else depth)
    out.append(text[start:])
    return tuple(s.strip() for s in out if s.strip(" \t\u3000\xa0。;;\n|"))


def split_title(rest: str) -> tuple[str, str, bool]:
    """Title and body of a task's text after its number; True when the title lost its 「。」."""
    rest = rest.split("\n", 1)[0] if "\n" in rest[:MAX_TITLE + 2] and "。" not in rest[: rest.find("\n")] else rest
    stop = rest.find("。")
    if 0 < stop <= MAX_TITLE and not any(p in rest[:stop] for p in ",,;;"):
        return rest[:stop], rest[stop + 1 :], False
    for i in range(2, MAX_TITLE):
        if rest.startswith(BODY_OPENERS, i):
            return rest[:i], rest[i:], True
    cut = min([p for p in (rest.find(","), rest.find(","), stop, rest.find("\n")) if p > 0] or [len(rest)])
    return rest[:cut], rest[cut:].lstrip(",,。"), True


@dataclass(frozen=True)
class TaskSpan:
    """A task as a reader found it: where its text is and how it is numbered."""

    start: int
    end: int
    number: int
    labels: tuple[str, ...]  # the path's labels from the top: ("三", "（二）", "5")
    section: str  # the section numeral, or ""
    group: str = ""
    label_end: int = 0  # where the text after the number label starts (offset into the document)
    title: str | None = None  # a table's task cell, when the reader knows it
    fields: Fields | None = None  # a table reader's columns, when it has them


def make_item(text: str, span: TaskSpan, doc_id: str, doc_title: str, path: str,
              canonical: Callable[[str], str], conventions: Conventions) -> Item:
    own = text[span.start : span.end]
    rest = text[span.label_end : span.end] if span.label_end else own
    if span.title is not None:
        title, body, damaged = span.title, rest, False
    else:
        title, body, damaged = split_title(rest)
    duties = duties_of(span.fields, canonical, conventions) if span.fields else read_duties(own, canonical, conventions)
    excluded = [duties.span] if duties.span and duties.units.raw else []
    if duties.deadline_span:
        excluded.append(duties.deadline_span)
    sentences = sentences_of(own)
    deadlines: list[Deadline] = []
    if duties.deadline:
        deadlines.append(Deadline(duties.deadline, duties.deadline, duties.deadline, source="field"))
    body_text = own
    for a, b in sorted(excluded, reverse=True):
        body_text = body_text[:a] + "\n" * (b - a) + body_text[b:]
    for s in sentences:
        if s in body_text:  # not the responsibility block or the 完成时限 field
            deadlines += deadlines_in(s)
    return Item(
        doc=doc_title, number=span.number, section=span.section, title=title, body=body, text=own,
        sentences=sentences, units=duties.units, deadlines=tuple(deadlines),
        counts=tuple(c for s in sentences for c in counts_in(s)), title_damaged=damaged,
        doc_id=doc_id, path=path, leaders=duties.leaders, group=span.group,
        label=text[span.start : span.label_end] if span.label_end else "",
    )


def assign_paths(spans: list[TaskSpan]) -> list[str]:
    """第N条 where task numbers never repeat in the document; else the labels from the top (三（二）5)."""
    numbers = [s.number for s in spans]
    if len(set(numbers)) == len(numbers):
        return [f"第{n}条" for n in numbers]
    return ["".join(s.labels) for s in spans]


def unplaced(doc: Document) -> int:
    """Characters of the stored text (whitespace aside) that no task, heading or block holds."""
    covered = bytearray(len(doc.text))
    pieces = [it.text for it in doc.items] + [h.text for h in doc.headings] + [b.text for b in doc.blocks]
    pieces += [s.heading for s in doc.sections]
    for piece in pieces:
        start = doc.text.find(piece) if piece else -1
        while start >= 0:
            covered[start : start + len(piece)] = b"\1" * len(piece)
            start = doc.text.find(piece, start + 1)
    return sum(1 for i, ch in enumerate(doc.text) if not covered[i] and not ch.isspace() and ch not in MARKUP)


def report_for(doc: Document, layout: str, levels: tuple[str, ...], warnings: list[str]) -> ParseReport:
    """What the reader found; the conversion's facts (format, encoding, dropped) are the text's
    defaults until ``read_converted`` fills them in."""
    total = len(re.sub(r"\s+", "", doc.text)) or 1
    inside = sum(len(re.sub(r"\s+", "", it.text)) for it in doc.items)
    blocks = sum(1 for it in doc.items if it.units.raw or it.units.lead)
    leads = sum(1 for it in doc.items if it.units.lead)
    if not doc.items:
        warnings = ["no tasks found", *warnings]
    no_unit = [it.path for it in doc.items if not it.units.lead and not it.units.co]
    if doc.items and no_unit:
        shown = "、".join(no_unit[:5]) + ("…" if len(no_unit) > 5 else "")
        warnings = [*warnings, f"{len(no_unit)} task(s) name no unit: {shown}"]
    lost = unplaced(doc)
    if lost:
        warnings = [*warnings, f"{lost} characters fit no pattern and are in no chunk"]
    return ParseReport(
        doc_id=doc.id, format="txt", encoding=None, layout=layout, levels=levels, tasks=len(doc.items),
        blocks=blocks, leads=leads, deadlines=sum(1 for it in doc.items if it.deadlines),
        structured_share=round(min(1.0, inside / total), 3), dropped=0, warnings=tuple(warnings),
    )
