"""Stored text → Document: the layout reader that fits what the text shows, the header, and the
blocks that keep every character of the text somewhere (no silent loss)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from rag.errors import CorpusError
from rag.reading import outline, tables
from rag.reading.formats import Converted
from rag.reading.header import Header, read_header
from rag.reading.tasks import TaskSpan, assign_paths, conventions_of, make_item, report_for, sentences_of
from rag.types import Block, Document, Heading, Section

RANK = {kind: i for i, kind in enumerate(outline.KINDS)}


def line_offsets(text: str) -> tuple[list[str], list[int]]:
    lines = text.split("\n")
    offsets, pos = [], 0
    for line in lines:
        offsets.append(pos)
        pos += len(line) + 1
    return lines, offsets


def read_text(text: str, doc_id: str, canonical: Callable[[str], str] = str) -> Document:
    """A Document from stored text; its report says which reader read it and what it found."""
    if not text.strip():
        raise CorpusError(f"document {doc_id!r} is empty")
    lines, offsets = line_offsets(text)
    table = tables.find_table(lines)
    if table is not None:
        return _assemble_table(text, lines, offsets, table, doc_id, canonical)
    return _assemble_outline(text, lines, offsets, doc_id, canonical)


def read_converted(converted: Converted, doc_id: str, canonical: Callable[[str], str] = str) -> Document:
    """A Document from a converted file, its report completed with what the conversion did."""
    doc = read_text(converted.text, doc_id, canonical)
    report = replace(doc.report, format=converted.format, encoding=converted.encoding,
                     dropped=converted.dropped, notes=converted.notes)
    return replace(doc, report=report)


def _span(text: str, offsets: list[int], lines: list[str], first: int, end_line: int) -> tuple[int, int]:
    start = offsets[first]
    end = offsets[end_line] if end_line < len(lines) else len(text)
    return start, start + len(text[start:end].rstrip())


def _front(text: str, lines: list[str], offsets: list[int], header: Header, body_line: int) -> list[Block]:
    """Header and preamble blocks: every non-empty line before the body."""
    blocks: list[Block] = []
    for i in range(min(body_line, len(lines))):
        s = lines[i].strip()
        if not s:
            continue
        kind = "header" if i in header.header_lines else "preamble"
        lead = len(lines[i]) - len(lines[i].lstrip())
        piece = text[offsets[i] + lead : offsets[i] + lead + len(s)]
        blocks.append(Block(kind, piece))
    return blocks


def _assemble_outline(text, lines, offsets, doc_id, canonical) -> Document:
    first = outline.wrapper_end(lines)
    labels, warnings = outline.find_labels(lines, offsets, first)

    def spans_text(kind: str) -> list[str]:
        out = []
        bounds = [lb for lb in labels if RANK[lb.kind] <= RANK[kind]]
        for j, lb in enumerate(bounds):
            if lb.kind != kind:
                continue
            end = bounds[j + 1].start if j + 1 < len(bounds) else len(text)
            out.append(text[lb.start : end])
        return out

    kind = outline.task_kind(labels, spans_text)
    frame = [lb for lb in labels if kind is not None and RANK[lb.kind] <= RANK[kind]]
    body_line = frame[0].line if frame else len(lines)
    header = read_header(lines, body_line, lines[-15:])
    blocks = _front(text, lines, offsets, header, body_line)
    conventions = conventions_of(text)
    sections: list[tuple[str, str, str, list[int]]] = []  # numeral, title, heading, task indexes
    headings: list[Heading] = []
    spans: list[TaskSpan] = []
    current = {"cn": "", "pcn": ""}
    for j, lb in enumerate(frame):
        next_line = frame[j + 1].line if j + 1 < len(frame) else len(lines)
        line_text = lines[lb.line].strip()
        if lb.kind == kind:
            end_line = next_line if j + 1 < len(frame) else outline.tail_start(lines, lb.line, len(lines))
            own_end = outline.furniture_start(lines, lb.line, end_line)
            blocks += [Block("page", lines[k].strip()) for k in range(own_end, end_line) if lines[k].strip()]
            start, end = lb.start, _span(text, offsets, lines, lb.line, own_end)[1]
            labels_path = [current["cn"]] if current["cn"] else []
            if kind == "num" and current["pcn"]:
                labels_path.append(current["pcn"])
            labels_path.append(_shown(lb))
            spans.append(TaskSpan(start, end, lb.number, tuple(labels_path), current["cn"],
                                  group=current["pcn"] if kind == "num" else "", label_end=lb.end))
            if sections:
                sections[-1][3].append(len(spans) - 1)
            if end_line < len(lines) and j + 1 == len(frame):
                blocks += _tail(text, lines, offsets, end_line)
            continue
        if lb.kind == "cn":
            current = {"cn": _shown(lb), "pcn": ""}
            title = line_text[len(lb.text) :].split("。")[0].strip()
            heading = text[lb.start : lb.start + len(lines[lb.line][lb.start - offsets[lb.line] :].rstrip())]
            sections.append((current["cn"], title, heading, []))
            path = current["cn"]
        else:
            current["pcn"] = _shown(lb)
            path = current["cn"] + current["pcn"]
        heading_text = text[lb.start : offsets[lb.line] + len(lines[lb.line].rstrip())]
        headings.append(Heading(path, heading_text))
        start, end = _span(text, offsets, lines, lb.line + 1, next_line) if lb.line + 1 < len(lines) else (0, 0)
        if end > start and text[start:end].strip():
            if j + 1 == len(frame):
                tail = outline.tail_start(lines, lb.line, len(lines))
                start, end = _span(text, offsets, lines, lb.line + 1, tail)
                blocks += _tail(text, lines, offsets, tail)
            piece = text[start:end].strip()
            if piece:
                blocks.append(Block("intro", piece))
    paths = assign_paths(spans)
    title = header.info.title
    items = tuple(make_item(text, s, doc_id, title, p, canonical, conventions) for s, p in zip(spans, paths, strict=True))
    preamble = tuple(s for b in blocks if b.kind == "preamble" for s in sentences_of(b.text))
    doc = Document(
        id=doc_id, title=title, meta=header.meta, preamble=preamble,
        sections=tuple(
            Section(numeral=n, index=i + 1, title=t, heading=h, items=tuple(items[k].number for k in ks),
                    paths=tuple(items[k].path for k in ks))
            for i, (n, t, h, ks) in enumerate(sections)
        ),
        items=items, text=text, info=header.info, headings=tuple(headings), blocks=tuple(blocks),
    )
    levels = tuple(outline.SHOWN[k] for k in outline.KINDS if any(lb.kind == k for lb in frame))
    return _with_report(doc, f"outline (tasks at {outline.SHOWN[kind]})" if kind else "outline (no tasks)",
                        levels, warnings)


def _shown(label: outline.Label) -> str:
    """A label as a path shows it: 三, （二）, 5."""
    if label.kind == "cn":
        return label.text.rstrip("、．. \t\u3000")
    if label.kind == "pcn":
        inner = label.text.strip("（）() \t\u3000")
        return f"（{inner}）"
    return str(label.number)


def _tail(text, lines, offsets, from_line) -> list[Block]:
    out = []
    for i in range(from_line, len(lines)):
        s = lines[i].strip()
        if s:
            lead = len(lines[i]) - len(lines[i].lstrip())
            kind = "note" if outline.NOTE.match(s) else "footer"
            out.append(Block(kind, text[offsets[i] + lead : offsets[i] + lead + len(s)]))
    return out


def _with_report(doc: Document, layout: str, levels, warnings) -> Document:
    return replace(doc, report=report_for(doc, layout, levels, list(warnings)))


def _assemble_table(text, lines, offsets, table, doc_id, canonical) -> Document:
    header = read_header(lines, table.first_line, lines[-15:])
    blocks = _front(text, lines, offsets, header, table.first_line)
    conventions = conventions_of(text)
    spans = table.spans
    paths = assign_paths(spans)
    title = header.info.title
    items = tuple(make_item(text, s, doc_id, title, p, canonical, conventions) for s, p in zip(spans, paths, strict=True))
    blocks += [Block(kind, piece) for kind, piece in table.blocks]
    preamble = tuple(s for b in blocks if b.kind == "preamble" for s in sentences_of(b.text))
    doc = Document(
        id=doc_id, title=title, meta=header.meta, preamble=preamble, sections=(), items=items, text=text,
        info=header.info, headings=tuple(table.headings), blocks=tuple(blocks),
    )
    return _with_report(doc, table.layout, ("序号",), table.warnings)
