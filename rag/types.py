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
    sentence: str  # the source sentence that carries it


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


@dataclass(frozen=True)
class Section:
    numeral: str
    index: int
    title: str
    heading: str  # exact line text, e.g. "一、坚持底线思维,树牢安全发展理念"
    items: tuple[int, ...]


@dataclass(frozen=True)
class Document:
    id: str  # file stem
    title: str
    meta: dict[str, str]  # 发布时间, 索引号 … as written
    preamble: tuple[str, ...]  # preamble sentences, exact substrings
    sections: tuple[Section, ...]
    items: tuple[Item, ...]
    text: str  # the source text, untouched

    def item(self, number: int) -> Item | None:
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


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float


@dataclass(frozen=True)
class Citation:
    doc: str
    item: int | None
    section: str | None
    title: str
    quote: str


@dataclass
class Answer:
    question: str
    answer: str
    citations: list[Citation]
    refused: bool
    kind: str
    latency_ms: float = 0.0
    focus: dict[str, Any] = field(default_factory=dict)  # resolved item/department, for follow-ups

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "citations": [asdict(c) for c in self.citations],
            "refused": self.refused,
            "kind": self.kind,
            "latency_ms": round(self.latency_ms, 2),
            "focus": self.focus,
        }
