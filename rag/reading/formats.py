"""Files → stored text. Each format is a converter in front of the layout readers; what it returns
is the text every quote comes from. Tables become Markdown pipe rows (``| 1 | 建设… | 市科技局 |``),
so a .docx table, an HTML ``<table>`` and a Markdown table reach the table reader in one form.

Libraries, each the maintained standard for its format: charset-normalizer (encodings beyond
UTF-8/GB18030), BeautifulSoup with the standard library's parser (HTML), python-docx (Word),
pypdf (PDF text layer); OpenCC folds a document written in traditional characters to simplified
ones, so that its labels (牽頭單位) and unit names read like every other document's.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from rag.errors import CorpusError
from rag.reading.outline import PAGE_NUMBER, starts_with_label

MAX_TEXT_BYTES = 4 * 2**20  # a policy document as text is rarely 200 KB; 4 MB of text is not one
MAX_FILE_BYTES = 16 * 2**20
CONVERT_ADVICE = {
    ".doc": "save it as .docx",
    ".wps": "save it as .docx",
    ".et": "save the sheet as .docx or .txt",
    ".xls": "save the sheet as .docx or .txt",
    ".xlsx": "save the sheet as .docx or .txt",
    ".ofd": "export it as a PDF with a text layer, or as .docx",
    ".rtf": "save it as .docx",
    ".png": "run OCR on it and save the text as .txt",
    ".jpg": "run OCR on it and save the text as .txt",
}
SENTENCE_END = "。；;！!？?：:）)」”"
TRADITIONAL_SHARE = 0.05  # simplified text changes under t2s by ~0%, traditional text by ~35%


class UnreadableFile(CorpusError):
    code = "unreadable_file"


@dataclass(frozen=True)
class Converted:
    text: str  # the stored text: every quote is a substring of it
    format: str  # txt, md, html, docx, pdf
    encoding: str | None = None
    dropped: int = 0  # characters the conversion left out (site chrome, page headers and numbers)
    notes: tuple[str, ...] = ()


def supported(path: Path) -> bool:
    return path.suffix.lower() in CONVERTERS or path.suffix.lower() in CONVERT_ADVICE


def convert(path: Path) -> Converted:
    """The stored text of one file, or ``UnreadableFile`` with one line saying what to do."""
    suffix = path.suffix.lower()
    if suffix in CONVERT_ADVICE:
        raise UnreadableFile(f"{suffix} files cannot be read: {CONVERT_ADVICE[suffix]}")
    converter = CONVERTERS.get(suffix)
    if converter is None:
        raise UnreadableFile(f"unknown file type {suffix or '(none)'}: use .txt, .md, .html, .docx or .pdf")
    try:
        size = path.stat().st_size
        limit = MAX_TEXT_BYTES if suffix in (".txt", ".md") else MAX_FILE_BYTES
        if size > limit:
            raise UnreadableFile(f"file is {size / 2**20:.1f} MB, over the {limit // 2**20} MB limit for {suffix}: "
                                 "is it really one policy document?")
        raw = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"cannot read the file: {exc.strerror or exc}") from None
    if not raw.strip():
        raise UnreadableFile("the file is empty")
    converted = converter(raw)
    if not converted.text.strip():
        raise UnreadableFile("no text in the file")
    return simplified(converted)


def simplified(converted: Converted) -> Converted:
    """A document in traditional characters, stored in simplified ones (and the report says so)."""
    import opencc

    text = converted.text
    folded = opencc.OpenCC("t2s").convert(text)
    cjk = len(re.findall(r"[\u4e00-\u9fff]", text)) or 1
    changed = sum(1 for a, b in zip(text, folded, strict=False) if a != b)
    if len(folded) != len(text) or changed / cjk < TRADITIONAL_SHARE:
        return converted
    note = f"written in traditional characters: stored in simplified ones ({changed} characters)"
    return replace(converted, text=folded, notes=(*converted.notes, note))


# -- plain text --------------------------------------------------------------------------------
def decode(raw: bytes) -> tuple[str, str]:
    """Text and the encoding it was in: UTF-8 (with or without BOM), UTF-16 with a BOM, GB18030
    (which covers GBK and GB2312), else what charset-normalizer finds; binary data is refused."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16"
    if b"\0" in raw[:8192]:
        raise UnreadableFile("binary data, not text (NUL bytes)")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _plausible(text):
            return text, "utf-8" if encoding == "utf-8-sig" else encoding
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is not None and _plausible(str(best)):
        return str(best), best.encoding
    raise UnreadableFile("unknown text encoding: save it as UTF-8")


def _plausible(text: str) -> bool:
    """Text, not bytes that happen to decode: few control characters, and some letters."""
    if not text:
        return False
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\r\n\t\f")
    letters = sum(1 for ch in text if ch.isalnum())
    return controls <= len(text) // 100 and letters >= len(text) // 5


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _chinese(text: str) -> str:
    if not re.search(r"[\u4e00-\u9fff]", text):
        raise UnreadableFile("no Chinese text found: is it a policy document in a common Chinese encoding? "
                             "save it as UTF-8")
    return text


def _text(raw: bytes) -> Converted:
    text, encoding = decode(raw)
    return Converted(_chinese(_newlines(text)), "txt", encoding)


def _markdown(raw: bytes) -> Converted:
    text, encoding = decode(raw)
    return Converted(_chinese(_newlines(text)), "md", encoding)


# -- tables ------------------------------------------------------------------------------------
def pipe_row(cells: list[str]) -> str:
    """One table row as a Markdown pipe row; a row that is one cell across (a group heading) is a
    plain line. Line breaks inside a cell become spaces."""
    # a break after full-width punctuation joins (「…清单。」 + 「推动…」); between names it separates
    cells = [re.sub(r"\s+", " ", re.sub(r"(?<=[。；：，！？、])\s+", "", c.replace("|", "｜"))).strip() for c in cells]
    if len(set(cells)) == 1 or sum(bool(c) for c in cells) == 1 and cells[0]:
        return cells[0]
    return "| " + " | ".join(cells) + " |"


# -- HTML --------------------------------------------------------------------------------------
CHROME_TAGS = ("script", "style", "noscript", "template", "iframe", "svg", "nav", "header", "footer",
               "aside", "form", "button", "select", "head")
CHROME_NAMES = re.compile(r"nav|menu|footer|header|breadcrumb|crumb|share|print|tool|copyright|sidebar|"
                          r"banner|top-?bar|bottom|fontsize|font-size|related|login|location|position|"
                          r"search|link|qrcode|weixin|wechat", re.I)
BLOCK_TAGS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "table", "section", "article",
              "blockquote", "pre", "ul", "ol", "dd", "dt", "main", "center"}


def _html(raw: bytes) -> Converted:
    from bs4 import BeautifulSoup, Tag

    soup = BeautifulSoup(raw, "html.parser")
    body = soup.body or soup
    visible = _visible_length(body)
    for tag in body.find_all(CHROME_TAGS):
        tag.decompose()
    for tag in body.find_all(True):
        if isinstance(tag, Tag) and tag.attrs is not None and tag.name not in ("body", "html"):
            names = " ".join([*tag.get("class", []), tag.get("id", "") or ""])
            if names and CHROME_NAMES.search(names) and not _holds_most_text(tag, body):
                tag.decompose()
    main = _main_content(body)
    lines: list[str] = []
    _render(main, lines)
    text = "\n".join(line for line in (ln.strip() for ln in lines) if line) + "\n"
    encoding = soup.original_encoding if hasattr(soup, "original_encoding") else None
    # counted on the page, not on the rendering, where a merged cell repeats in every row it spans
    return Converted(text, "html", encoding, dropped=max(0, visible - _length(main.get_text())))


def _length(text: str) -> int:
    return len(re.sub(r"\s+", "", text))


def _visible_length(node) -> int:
    from bs4 import BeautifulSoup

    copy = BeautifulSoup(str(node), "html.parser")
    for tag in copy.find_all(("script", "style", "noscript", "template", "head")):
        tag.decompose()
    return _length(copy.get_text())


def _holds_most_text(tag, body) -> bool:
    return _length(tag.get_text()) > 0.5 * max(1, _length(body.get_text()))


def _main_content(body):
    """The element that holds the document: the parent of the most paragraph text."""
    from bs4 import Tag

    scores: Counter = Counter()
    for p in body.find_all(("p", "br", "tr", "li", "h1", "h2", "h3")):
        parent = p.parent
        while isinstance(parent, Tag) and parent.name in ("span", "font", "strong", "b", "tbody", "table", "ul", "ol"):
            parent = parent.parent
        if isinstance(parent, Tag):
            scores[id(parent)] += _length(p.get_text())
    if not scores:
        return body
    best_id, best = scores.most_common(1)[0]
    element = next(t for t in body.find_all(True) if id(t) == best_id) if best_id != id(body) else body
    # A content box may split the document over sibling containers: climb while the parent adds
    # little besides them.
    while element is not body and isinstance(element.parent, Tag) and \
            _length(element.parent.get_text()) <= 1.15 * _length(element.get_text()):
        element = element.parent
    return element if best > 0 else body


def _render(node, lines: list[str]) -> None:
    from bs4 import NavigableString, Tag

    if not lines:
        lines.append("")
    for child in node.children:
        if isinstance(child, NavigableString):
            if type(child).__name__ in ("Comment", "Doctype", "Declaration", "ProcessingInstruction"):
                continue
            text = re.sub(r"[ \t\r\n\f]+", " ", str(child)).replace("\xa0", " ")
            lines[-1] += text if lines[-1] else text.lstrip()
        elif isinstance(child, Tag):
            if child.name == "br":
                lines.append("")
            elif child.name == "table":
                lines.append("")
                lines += [pipe_row(row) for row in _table_grid(child) if any(c.strip() for c in row)]
                lines.append("")
            elif child.name in BLOCK_TAGS:
                lines.append("")
                _render(child, lines)
                lines.append("")
            else:
                _render(child, lines)


def _table_grid(table) -> list[list[str]]:
    """An HTML table's rows as full rows of cell texts: a colspan cell fills every column it spans
    and a rowspan cell every row (as a merged Word cell reads in each row it covers)."""
    grid: list[list[str]] = []
    carried: dict[int, tuple[str, int]] = {}  # column → (text, rows still to fill)
    for tr in table.find_all("tr"):
        row: list[str] = []
        cells = iter(tr.find_all(("td", "th"), recursive=False))
        column = 0
        while True:
            if column in carried:
                text, left = carried.pop(column)
                if left > 1:
                    carried[column] = (text, left - 1)
                row.append(text)
                column += 1
                continue
            cell = next(cells, None)
            if cell is None:
                break
            text = cell.get_text("\n")
            for _ in range(max(1, _int(cell.get("colspan", 1)))):
                if _int(cell.get("rowspan", 1)) > 1:
                    carried[column] = (text, _int(cell.get("rowspan", 1)) - 1)
                row.append(text)
                column += 1
        grid.append(row)
    return grid


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 1


# -- Word --------------------------------------------------------------------------------------
def _docx(raw: bytes) -> Converted:
    import io
    import zipfile

    try:
        from docx import Document as WordDocument
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        word = WordDocument(io.BytesIO(raw))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise UnreadableFile(f"not a Word .docx file ({type(exc).__name__}): open it in Word and save as .docx") from None
    except Exception as exc:  # python-docx raises its own and lxml's errors on a damaged package
        raise UnreadableFile(f"damaged .docx file ({type(exc).__name__}): open it in Word and save it again") from None
    lines: list[str] = []
    for element in word.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(Paragraph(element, word).text)
        elif tag == "tbl":
            for row in Table(element, word).rows:
                cells, seen = [], []
                for cell in row.cells:  # a merged cell appears once per grid column it spans
                    if any(cell._tc is s for s in seen):
                        continue
                    seen.append(cell._tc)
                    cells.append(cell.text)
                if any(c.strip() for c in cells):
                    lines.append(pipe_row(cells))
    text = "\n".join(line.rstrip() for line in lines).strip("\n") + "\n"
    return Converted(text, "docx")


# -- PDF ---------------------------------------------------------------------------------------


def _pdf(raw: bytes) -> Converted:
    import io
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            raise UnreadableFile("the PDF is encrypted: save an unprotected copy")
        pages = [(page.extract_text() or "") for page in reader.pages]
    except UnreadableFile:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise UnreadableFile(f"damaged PDF ({type(exc).__name__}): save it again or convert it to .docx") from None
    page_lines = [[ln.strip() for ln in _newlines(p).split("\n") if ln.strip()] for p in pages]
    if sum(_length("".join(lines)) for lines in page_lines) < 20 * max(1, len(pages)):
        raise UnreadableFile("the PDF has no text layer (a scan): run OCR on it or convert it to .docx")
    # Running headers: a first or last line that repeats on most pages.
    repeated = Counter(ln for lines in page_lines for ln in {*lines[:1], *lines[-1:]})
    furniture = {ln for ln, n in repeated.items() if len(pages) >= 2 and n >= max(2, len(pages) // 2)}
    dropped = 0
    kept: list[str] = []
    for lines in page_lines:
        for ln in lines:
            if ln in furniture or PAGE_NUMBER.match(ln):
                dropped += _length(ln)
                continue
            kept.append(ln)
    return Converted(_join_wrapped(kept), "pdf", dropped=dropped)


def _width(line: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in line)


def _join_wrapped(lines: list[str]) -> str:
    """A PDF line that fills the page's width continues on the next line, unless that one starts a
    numbered heading or task."""
    widths = sorted(_width(ln) for ln in lines)
    full = widths[int(len(widths) * 0.9)] - 4 if widths else 0
    out: list[str] = []
    joining = False
    for ln in lines:
        if joining and not starts_with_label(ln):
            out[-1] += ln
        else:
            out.append(ln)
        joining = _width(ln) >= full
    return "\n".join(out) + "\n"


CONVERTERS: dict[str, Callable[[bytes], Converted]] = {
    ".txt": _text, ".text": _text, ".md": _markdown, ".markdown": _markdown,
    ".html": _html, ".htm": _html, ".docx": _docx, ".pdf": _pdf,
}
