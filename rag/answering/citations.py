"""Citations: every quote checked to be exact source text, and the labels answers use."""

from __future__ import annotations

import re

from rag.answering.rules import UNITS_LEAD_IN
from rag.types import Citation, Document, Item


def cite(doc: Document, item: Item | None, quote: str, section: str | None = None) -> Citation:
    if quote not in doc.text:  # the contract: quotes are exact substrings of the source
        raise AssertionError(f"quote is not in the source: {quote[:40]}")
    return Citation(
        doc=doc.title, item=item.number if item else None,
        section=item.section if item else section,
        title=item.title if item else (section_title(doc, section) or _unnumbered_part(doc, quote)), quote=quote,
        doc_id=doc.id, path=item.path if item else None,
    )


def _unnumbered_part(doc: Document, quote: str) -> str:
    """Where a quote outside the items sits: the preamble (总体思路) or the header fields and title."""
    return "总体思路" if any(quote in sentence for sentence in doc.preamble) else "文件信息"


def section_title(doc: Document, numeral: str | None) -> str | None:
    section = doc.section(numeral) if numeral else None
    return section.title if section else None


def shown_name(doc: Document, item: Item, canonical: str) -> str:
    """How an answer names a unit: the corpus's canonical name when this document uses it too,
    else the document's own spelling (a name from another document never enters this one's answer)."""
    written = item.units.written.get(canonical, canonical)
    return canonical if written == canonical or canonical in doc.text else written


def ref(item: Item) -> str:
    """How answers name a task: its path as the document writes it (第23条, 三（二）5)."""
    return item.path or f"第{item.number}条"


def label(item: Item) -> str:
    return f"{ref(item)}“{item.title}”"


ITEM_TEXT_LIMIT = 600  # characters of a task shown in full; a longer one is cut at a sentence end


def item_body(item: Item) -> str:
    """What the task says, exactly as written: its number, title and every sentence before the
    responsibility block (「第N条讲了什么」「具体要做什么」 want all of it, not its first line)."""
    text = item.text
    if item.units.raw and (at := text.rfind(item.units.raw)) > 0:
        text = UNITS_LEAD_IN.sub("", text[:at])
    if len(text) > ITEM_TEXT_LIMIT:
        ends = [m.end() for m in re.finditer(r"[。；;！!]", text[:ITEM_TEXT_LIMIT])]
        text = text[: ends[-1]] if ends else text[:ITEM_TEXT_LIMIT]
    return text.strip() or (item.sentences[0] if item.sentences else item.text)


def clauses(sentence: str) -> list[tuple[int, int]]:
    """Spans of the comma-separated clauses of a sentence."""
    spans, start = [], 0
    for m in re.finditer(r"[,,:]", sentence):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(sentence)))
    return [(a, b) for a, b in spans if b > a]
