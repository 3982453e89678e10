"""Document → chunks at the document's own grain: one per item, one per sentence, plus
the preamble, the section headings and the header fields. Every chunk's text is exact source text."""

from __future__ import annotations

from rag.types import Chunk, Document

HEADER_KEYS = ("发布时间", "索引号", "文号", "发布机构", "主题分类", "体裁分类")


def header_quote(doc: Document, key: str) -> str | None:
    """The header field as written in the source (``发布时间:2020-04-22``), or None."""
    value = doc.meta.get(key)
    if value is None:
        return None
    for colon in (":", ":"):
        quote = f"{key}{colon}{value}"
        if quote in doc.text:
            return quote
    return None


def chunk_document(doc: Document) -> list[Chunk]:
    chunks = [
        Chunk(f"{doc.id}#title", doc.title, "header", None, None, "标题", doc.title, doc.title, doc.id)
    ]
    for key in HEADER_KEYS:
        quote = header_quote(doc, key)
        if quote:
            chunks.append(
                Chunk(f"{doc.id}#meta-{key}", doc.title, "header", None, None, key, quote,
                      f"{doc.title} {quote}", doc.id)
            )
    for i, sentence in enumerate(doc.preamble):
        chunks.append(
            Chunk(f"{doc.id}#pre{i}", doc.title, "preamble", None, None, "总体思路", sentence,
                  f"{doc.title}:{sentence}", doc.id)
        )
    for section in doc.sections:
        chunks.append(
            Chunk(f"{doc.id}#sec{section.numeral}", doc.title, "section", None, section.numeral,
                  section.title, section.heading, f"第{section.numeral}部分 {section.heading}", doc.id)
        )
    numerals = {s.numeral for s in doc.sections}
    for heading in doc.headings:  # group headings; section headings have their chunk above
        if heading.path not in numerals:
            chunks.append(Chunk(f"{doc.id}#h{heading.path}", doc.title, "heading", None, None, heading.text,
                                heading.text, f"{doc.title} {heading.text}", doc.id))
    for i, block in enumerate(doc.blocks):  # the rest of the text: nothing is left out of the index
        if block.kind != "preamble":
            chunks.append(Chunk(f"{doc.id}#b{i}", doc.title, "block", None, None, block.kind, block.text,
                                f"{doc.title} {block.text}", doc.id))
    titles = {s.numeral: s.title for s in doc.sections}
    for item in doc.items:
        units = "、".join(item.units.departments)
        chunks.append(
            Chunk(f"{doc.id}#{item.path}", doc.title, "item", item.number, item.section,
                  item.title, item.text,
                  f"{item.title}。{titles.get(item.section, '')}。{item.body} {units}", doc.id, item.path)
        )
        for j, sentence in enumerate(item.sentences):
            chunks.append(
                Chunk(f"{doc.id}#{item.path}.{j}", doc.title, "sentence", item.number,
                      item.section, item.title, sentence, f"{item.title}:{sentence}", doc.id, item.path)
            )
    return chunks
