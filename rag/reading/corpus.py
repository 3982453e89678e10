"""A corpus folder → Documents. Every supported file under the folder is read; one that cannot
be read is reported in one line and the rest are indexed. A document's id is its path inside
the folder (``2021/safety-points.docx``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import CorpusError
from rag.reading.departments import Directory
from rag.reading.document import read_converted, read_text
from rag.reading.formats import Converted, UnreadableFile, convert, supported
from rag.types import Document

READER_VERSION = "3"  # part of the source hash: a reader change re-indexes


@dataclass
class Corpus:
    docs: list[Document]
    directory: Directory
    problems: list[tuple[str, str]] = field(default_factory=list)  # (doc_id, one-line message)

    def __iter__(self):  # ``docs, directory = load_corpus(folder)`` keeps working
        return iter((self.docs, self.directory))


def corpus_files(folder: Path) -> tuple[list[tuple[str, Path]], list[tuple[str, str]]]:
    """(doc_id, path) of every file to read, sorted; and the entries skipped, with why."""
    if not folder.exists():
        raise CorpusError(f"corpus folder not found: {folder} (pass --corpus DIR with the documents)")
    if not folder.is_dir():
        raise CorpusError(f"corpus path is not a folder: {folder}")
    root = folder.resolve()
    files, skipped = [], []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        doc_id = rel.as_posix()
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_symlink():
            target = path.resolve()
            if not target.exists():
                skipped.append((doc_id, "a link to a file that does not exist"))
                continue
            if root not in target.parents:
                skipped.append((doc_id, "a link to a file outside the corpus folder: not followed"))
                continue
        if path.is_dir():
            if supported(path):
                skipped.append((doc_id, "a folder, not a document"))
            continue
        if not supported(path):
            skipped.append((doc_id, f"unknown file type {path.suffix or '(none)'}: use .txt, .md, .html, .docx or .pdf"))
            continue
        files.append((doc_id, path))
    return files, skipped


def source_hash(folder: Path) -> str:
    """A digest of the corpus as files (names and bytes), taken before any parsing."""
    h = hashlib.sha256(READER_VERSION.encode())
    files, _ = corpus_files(folder)
    for doc_id, path in files:
        h.update(doc_id.encode() + b"\0")
        try:
            h.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            h.update(b"unreadable")
    return h.hexdigest()


def load_corpus(folder: Path) -> Corpus:
    """Every readable document under ``folder``, with unit names made canonical through an alias
    table built from the whole corpus."""
    files, problems = corpus_files(folder)
    converted: list[tuple[str, Converted]] = []
    for doc_id, path in files:
        try:
            converted.append((doc_id, convert(path)))
        except UnreadableFile as exc:
            problems.append((doc_id, str(exc)))
    raw = []
    for doc_id, c in converted:
        try:
            raw.append(read_text(c.text, doc_id))
        except CorpusError as exc:
            problems.append((doc_id, str(exc)))
    directory = Directory(name for doc in raw for item in doc.items for name in item.units.written.values())
    readable = {d.id for d in raw}
    docs = [read_converted(c, doc_id, directory.canonical) for doc_id, c in converted if doc_id in readable]
    if not docs:
        detail = "; ".join(f"{d}: {m}" for d, m in problems[:3])
        raise CorpusError(f"no readable documents in corpus folder {folder}" + (f" ({detail})" if detail else ""))
    return Corpus(docs, directory, sorted(problems))
