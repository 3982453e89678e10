"""The nouns of the pipeline: documents, items, chunks, hits, citations, answers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Units:
    """A parsed responsibility block. ``raw`` is the block exactly as written in the source."""

    raw: str
    lead: tuple[str, ...]
    lead_rule: str  # "explicit" (牵头), "huitong" (会同), "first" (first listed), "none"
    co: tuple[str, ...]
    local: tuple[str, ...]
    written: dict[str, str] = field(default_factory=dict)  # canonical name -> spelling in the source

    @property
    def departments(self) -> tuple[str, ...]:
        return self.lead + self.co


@dataclass(frozen=True)
class Deadline:
    text: str  # as written, e.g. "425日前"
    normalized: str  # as read, e.g. "4月25日前"
    sentence: str  # the source sentence (or the 完成时限 field/cell) that carries it
    source: str = "text"  # "text": a date in the task's sentences; "field": a 完成时限 field or column


@dataclass(frozen=True)
class Count:
    text: str  # as written, e.g. "27家"
    value: int
    unit: str
    sentence: str


@dataclass(frozen=True)
class Item:
    doc: str
    number: int
    section: str  # section numeral, e.g. "五"
    title: str
    body: str
    text: str  # the whole item, an exact substring of the document
    sentences: tuple[str, ...]
    units: Units
    deadlines: tuple[Deadline, ...]
    counts: tuple[Count, ...]
    title_damaged: bool = False
    doc_id: str = ""  # the document's path in the corpus
    path: str = ""  # the numbering path as the document writes it: 第23条, 三（二）5, 二3
    leaders: tuple[str, ...] = ()  # 分管领导 as written
    group: str = ""  # the label of the group heading above the task, e.g. （二）
    label: str = ""  # the text before the task's own words: 「23.」「（二）」, a table row's 「| 5 | 」

    @property
    def key(self) -> tuple[str, str]:
        """A task's identity: (doc_id, path); the bare number may repeat inside a document."""
        return (self.doc_id, self.path)


@dataclass(frozen=True)
class Section:
    numeral: str
    index: int
    title: str
    heading: str  # exact line text, e.g. "一、坚持底线思维,树牢安全发展理念"
    items: tuple[int, ...]
    paths: tuple[str, ...] = ()  # the tasks' paths, in order (numbers may repeat across sections)


@dataclass(frozen=True)
class Heading:
    """A numbered heading that is not a task (一、 or a （一） group above numbered tasks)."""

    path: str  # 一, 一（二）, （一） for a table's group row
    text: str  # the heading line, exact


@dataclass(frozen=True)
class Block:
    """Text outside tasks and headings, kept so that nothing is lost: the header, a preamble,
    an intro between a heading and its first task, a footer (抄送, 印发, 附件, signature)."""

    kind: str  # "header", "preamble", "intro", "footer", "note"
    text: str  # exact


@dataclass(frozen=True)
class DocInfo:
    title: str
    issuer: str | None = None
    doc_number: str | None = None  # 文号, e.g. 示政办〔2022〕12号
    date: str | None = None  # YYYY-MM-DD
    year: int | None = None  # the year the document is about
    place: str | None = None


@dataclass(frozen=True)
class ParseReport:
    doc_id: str
    format: str
    encoding: str | None
    layout: str  # which reader read it
    levels: tuple[str, ...]  # numbering levels found, top first: 一、 （一） 1.
    tasks: int
    blocks: int  # tasks with a responsibility block
    leads: int
    deadlines: int  # tasks with a deadline
    structured_share: float  # share of the stored text's characters inside tasks
    dropped: int  # characters conversion left out (site chrome, page furniture)
    warnings: tuple[str, ...]
    notes: tuple[str, ...] = ()  # what conversion did besides dropping text


@dataclass(frozen=True)
class Document:
    id: str  # doc_id: the file's path inside the corpus folder
    title: str
    meta: dict[str, str]  # 发布时间, 索引号 … as written
    preamble: tuple[str, ...]  # preamble sentences, exact substrings
    sections: tuple[Section, ...]
    items: tuple[Item, ...]
    text: str  # the stored text (after format conversion), untouched
    info: DocInfo | None = None
    headings: tuple[Heading, ...] = ()
    blocks: tuple[Block, ...] = ()
    report: ParseReport | None = None

    def task(self, path: str) -> Item | None:
        return next((item for item in self.items if item.path == path), None)

    def item(self, number: int) -> Item | None:
        """The first task numbered ``number`` (numbers may restart; ``task(path)`` is exact)."""
        for item in self.items:
            if item.number == number:
                return item
        return None

    def section(self, numeral: str) -> Section | None:
        for section in self.sections:
            if section.numeral == numeral:
                return section
        return None


@dataclass(frozen=True)
class Chunk:
    id: str
    doc: str  # document title
    kind: str  # "item", "sentence", "preamble", "section", "header"
    item: int | None
    section: str | None
    title: str
    text: str  # exact source text
    embed_text: str  # what the embedder sees (text with its context)
    doc_id: str = ""
    path: str = ""  # the task's path, "" outside tasks


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # fused rank score
    dense: float = 0.0  # cosine of the chunk with the question (0 when outside the dense top)


@dataclass(frozen=True)
class Citation:
    doc: str  # the document's title
    item: int | None
    section: str | None
    title: str
    quote: str
    doc_id: str = ""
    path: str | None = None  # the task's path as the document writes it (第23条, 三（二）5); None outside tasks


@dataclass
class Answer:
    question: str
    answer: str
    citations: list[Citation]
    refused: bool
    kind: str
    latency_ms: float = 0.0
    focus: dict[str, Any] = field(default_factory=dict)  # resolved item/department, for follow-ups
    candidates: list[dict[str, Any]] = field(default_factory=list)  # kind "clarify": what to pick from
    rows: list[dict[str, Any]] = field(default_factory=list)  # set answers: one row per task, for tables
    support: float = 0.0  # how well the evidence supports the question (compares documents; not output)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "question": self.question,
            "answer": self.answer,
            "citations": [asdict(c) for c in self.citations],
            "refused": self.refused,
            "kind": self.kind,
            "latency_ms": round(self.latency_ms, 2),
            "focus": self.focus,
        }
        if self.candidates:
            out["candidates"] = self.candidates
        if self.rows:
            out["rows"] = self.rows
        return out
