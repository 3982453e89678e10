"""Text → Document: header, preamble, sections, numbered items and their fields.

Everything kept from the source (item text, title, sentences, blocks) is an exact substring of it;
damage is read through, never repaired in place.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

from rag.departments import Directory
from rag.errors import CorpusError
from rag.fields import counts_in, deadlines_in
from rag.responsibility import find_block, parse_block
from rag.types import Document, Item, Section, Units

SECTION_LINE = re.compile(r"^[ \t\u3000\xa0]*([一二三四五六七八九十]{1,3})、(\S.*?)\s*$")
ITEM_LINE = re.compile(r"^[ \t\u3000\xa0]*(\d{1,3})[.．、](?!\d)(.*?)\s*$")
META_FIELD = re.compile(r"^([\u4e00-\u9fff]{2,6})[::](.*)$")
WIDE_GAP = re.compile(r"[ \t\u3000\xa0]{2,}")
# Verbs that open an item's body: where a title lost its 「。」, the body starts at one of them.
BODY_OPENERS = (
    "深化", "深入", "加强", "强化", "全面", "持续", "推进", "严格", "认真", "坚持", "开展",
    "加快", "落实", "组织", "进一步", "积极", "统筹", "完善", "建立", "督促", "扎实", "以",
)
MAX_TITLE = 20


def sentences_of(text: str) -> tuple[str, ...]:
    """Sentences as exact substrings. 「;」 splits only outside brackets, so an enumeration
    such as 六查六看(即:查…;查…) stays one sentence; 「。」 always splits."""
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
    return tuple(s.strip() for s in out if s.strip(" \t\u3000\xa0。;;\n"))


def _split_title(rest: str) -> tuple[str, str, bool]:
    """Title and body of an item's text after its number; True when the title lost its 「。」."""
    stop = rest.find("。")
    if 0 < stop <= MAX_TITLE and not any(p in rest[:stop] for p in ",,;;"):
        return rest[:stop], rest[stop + 1 :], False
    for i in range(2, MAX_TITLE):
        if rest.startswith(BODY_OPENERS, i):
            return rest[:i], rest[i:], True
    cut = min([p for p in (rest.find(","), rest.find(","), stop) if p > 0] or [len(rest)])
    return rest[:cut], rest[cut:].lstrip(",,。"), True


def _parse_meta(lines: list[str]) -> dict[str, str]:
    meta: dict[str, str] = {}
    for line in lines:
        for piece in WIDE_GAP.split(line.strip()):
            m = META_FIELD.match(piece.strip())
            value = m.group(2).strip() if m else ""
            if m and value and not re.fullmatch(r"\[[\s\xa0]*\]?|\]", value):
                meta[m.group(1)] = value
    return meta


def parse_document(text: str, doc_id: str, canonical: Callable[[str], str] = str) -> Document:
    if not text.strip():
        raise CorpusError(f"document {doc_id!r} is empty")
    lines = text.splitlines(keepends=True)
    offsets, pos = [], 0
    for line in lines:
        offsets.append(pos)
        pos += len(line)

    title = next(line.strip() for line in lines if line.strip())
    meta_lines: list[str] = []
    preamble_spans: list[tuple[int, int]] = []
    sections: list[tuple[str, str, str, list[int]]] = []
    item_spans: list[tuple[int, str, int, int]] = []  # number, section, start, end
    current_section = ""
    seen_title = False

    for line, start in zip(lines, offsets, strict=True):
        stripped = line.strip()
        if not stripped:
            continue
        lead = len(line) - len(line.lstrip())
        end = start + len(line.rstrip())
        if not seen_title:
            seen_title = True
            continue
        if m := SECTION_LINE.match(line):
            current_section = m.group(1)
            sections.append((m.group(1), m.group(2), stripped, []))
            continue
        m = ITEM_LINE.match(line)
        expected = item_spans[-1][0] + 1 if item_spans else None
        if m and (expected is None or int(m.group(1)) == expected):
            item_spans.append((int(m.group(1)), current_section, start + lead, end))
            if sections:
                sections[-1][3].append(int(m.group(1)))
            continue
        if item_spans:  # a continuation line of the last item
            number, sec, s, _ = item_spans[-1]
            item_spans[-1] = (number, sec, s, end)
        elif not sections and META_FIELD.match(stripped) and len(stripped) < 120:
            meta_lines.append(stripped)
        elif not sections:
            preamble_spans.append((start + lead, end))

    items = tuple(
        _parse_item(text[s:e], number, sec, title, canonical) for number, sec, s, e in item_spans
    )
    preamble = tuple(s for a, b in preamble_spans for s in sentences_of(text[a:b]))
    return Document(
        id=doc_id,
        title=title,
        meta=_parse_meta(meta_lines),
        preamble=preamble,
        sections=tuple(
            Section(numeral=n, index=i + 1, title=t, heading=h, items=tuple(its))
            for i, (n, t, h, its) in enumerate(sections)
        ),
        items=items,
        text=text,
    )


def _parse_item(
    text: str, number: int, section: str, doc_title: str, canonical: Callable[[str], str]
) -> Item:
    m = ITEM_LINE.match(text)
    rest = m.group(2) if m else text
    title, body, damaged = _split_title(rest)
    span = find_block(text)
    units = parse_block(text[span[0] : span[1]], canonical) if span else Units("", (), "none", (), ())
    sentences = sentences_of(text)
    return Item(
        doc=doc_title,
        number=number,
        section=section,
        title=title,
        body=body,
        text=text,
        sentences=sentences,
        units=units,
        deadlines=tuple(d for s in sentences for d in deadlines_in(s)),
        counts=tuple(c for s in sentences for c in counts_in(s)),
        title_damaged=damaged,
    )


def load_corpus(folder: Path) -> tuple[list[Document], Directory]:
    """Every .txt document in ``folder``, sorted by name, with unit names made canonical
    through an alias table built from the whole corpus."""
    if not folder.exists():
        raise CorpusError(f"corpus folder not found: {folder} (pass --corpus DIR with .txt documents)")
    if not folder.is_dir():
        raise CorpusError(f"corpus path is not a folder: {folder}")
    paths = sorted(folder.glob("*.txt"))
    if not paths:
        raise CorpusError(f"no .txt documents in corpus folder {folder}")
    texts = []
    for path in paths:
        try:
            texts.append((path.read_text(encoding="utf-8"), path.stem))
        except UnicodeDecodeError as exc:
            raise CorpusError(f"{path} is not UTF-8 text ({exc.reason})") from None
    raw = [parse_document(text, stem) for text, stem in texts]
    directory = Directory(
        name for doc in raw for item in doc.items for name in item.units.written.values()
    )
    docs = [parse_document(text, stem, directory.canonical) for text, stem in texts]
    return docs, directory


def corpus_hash(docs: list[Document]) -> str:
    h = hashlib.sha256()
    for doc in docs:
        h.update(doc.id.encode())
        h.update(b"\0")
        h.update(doc.text.encode())
        h.update(b"\0")
    return h.hexdigest()
