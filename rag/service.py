"""The one facade every surface calls: ask(), search(), item(), department(), documents(), reindex().

The loaded state (documents, index, retriever) is one immutable object swapped by reference,
so a re-index never disturbs requests already running.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import fcntl
import functools
import hashlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from rag.answering.answer import Answerer
from rag.answering.evidence import bigrams
from rag.answering.library import Library, analyzer_for
from rag.answering.question import QuestionAnalyzer, clean_question
from rag.answering.retrieve import HybridRetriever, Timings
from rag.errors import BadDocumentPath, BadQuestion, CorpusError, IndexError_, RagError
from rag.indexing.chunks import chunk_document
from rag.indexing.embedders import Embedder, make_embedder
from rag.indexing.lexical import Tokenizer
from rag.indexing.store import IndexStore, Manifest, atomic_write_bytes
from rag.indexing.vectors import StoreSpec, VectorStore, new_store
from rag.reading import load_corpus, source_hash
from rag.reading.departments import Directory
from rag.reading.document import read_text
from rag.reading.formats import MAX_FILE_BYTES, UnreadableFile, convert, supported
from rag.types import Answer, Chunk, Document, Hit, Item, ParseReport

Progress = Callable[[str, int, int], None]


def project_root() -> Path:
    return Path(os.environ.get("RAG_HOME", Path.cwd()))


def default_corpus() -> Path:
    return Path(os.environ.get("RAG_CORPUS", project_root() / "corpus"))


def default_index() -> Path:
    return Path(os.environ.get("RAG_INDEX", project_root() / "index"))


def reference_date() -> date:
    """What 今年/明年 are read against: RAG_TODAY (YYYY-MM-DD) when set, else today."""
    raw = os.environ.get("RAG_TODAY")
    if not raw:
        return date.today()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise RagError(f"RAG_TODAY must be a date like 2021-06-01, not {raw!r}") from None


@dataclass(frozen=True)
class BuildReport:
    built: bool
    chunks: int
    embedded: int  # chunks that needed the embedder (not in the cache)
    seconds: float
    manifest: Manifest
    documents: tuple[ParseReport, ...] = ()  # when built: what was read from each document
    problems: tuple[tuple[str, str], ...] = ()  # when built: files that could not be read, and why
    added: tuple[str, ...] = ()  # documents new to the index
    changed: tuple[str, ...] = ()  # documents whose chunks changed: their rows were replaced
    removed: tuple[str, ...] = ()  # documents gone from the corpus: their rows were deleted
    unchanged: int = 0  # documents whose rows were kept as they were


@dataclass(frozen=True)
class State:
    docs: list[Document]
    directory: Directory
    analyzer: QuestionAnalyzer
    retriever: HybridRetriever
    answerer: Answerer
    manifest: Manifest
    library: Library
    version: str = ""  # the index version folder it was loaded from


def _tokenizer_for(docs: list[Document], directory: Directory) -> Tokenizer:
    return _tokenizer_of(tuple(directory.all_aliases()) + tuple(it.title for d in docs for it in d.items))


@functools.lru_cache(maxsize=4)
def _tokenizer_of(words: tuple[str, ...]) -> Tokenizer:
    """One tokenizer per word list: a build and the load after it share it (loading jieba's
    dictionary with the words added takes most of a second)."""
    return Tokenizer(list(words))


def _signature(chunks: list[Chunk]) -> str:
    """What a document contributes to the index: when it is unchanged its rows are kept."""
    raw = json.dumps([asdict(c) for c in chunks], ensure_ascii=False, sort_keys=True)
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()


def _previous(store: IndexStore, embedder: Embedder) -> tuple[VectorStore, dict[str, dict[str, Any]]] | None:
    """The current version's vectors and document rows, when an update can start from them."""
    try:
        folder = store.current_version()
        if folder is None:
            return None
        _, _, vectors, _ = store.read(folder, embedder.name, embedder.dim)
        return vectors, store.read_documents(folder)
    except IndexError_:
        return None  # a damaged or foreign index: rebuild everything (the embedding cache still helps)


@contextlib.contextmanager
def writer_lock(index: Path) -> Iterator[None]:
    """One writer at a time for an index folder, across processes (``rag index``, the replicas of
    ``rag serve --workers N``, the web chat): an exclusive lock on ``index/.writer.lock``."""
    try:
        index.mkdir(parents=True, exist_ok=True)
        handle = open(index / ".writer.lock", "a+b")  # noqa: SIM115 - closed below
    except OSError:  # a read-only index (a replica's mount): nobody writes here, an up-to-date one is read
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_index(
    corpus: Path, index: Path, embedder: Embedder, force: bool = False,
    progress: Progress | None = None, vectors: StoreSpec | None = None,
) -> BuildReport:
    """Bring the index for ``corpus`` up to date: nothing when no file changed; otherwise only the
    rows of added, changed and removed documents are touched (``force``: every row is rebuilt).
    ``vectors`` names the vector store (default: $RAG_STORE or FAISS). One writer at a time."""
    with writer_lock(index):
        return _build_index(corpus, index, embedder, force, progress, vectors)


def _build_index(
    corpus: Path, index: Path, embedder: Embedder, force: bool, progress: Progress | None,
    vectors: StoreSpec | None,
) -> BuildReport:
    started = time.perf_counter()
    digest = source_hash(corpus)  # the files' bytes: an unchanged corpus is not even parsed
    spec = vectors or StoreSpec(None)
    store = IndexStore(index, spec)
    if not force:
        try:
            folder = store.current_version()
            manifest = store.read_manifest(folder) if folder else None
            if manifest is not None:
                store.verify(folder, manifest)  # a damaged file is never reported "up to date"
        except IndexError_ as exc:
            manifest = None
            if progress:
                progress(f"rebuilding: {exc}", 0, 0)
        if manifest and manifest.corpus_hash == digest and manifest.embedder == embedder.name \
                and spec.accepts(manifest.store):
            from rag.indexing.store import FORMAT_VERSION

            if manifest.format_version == FORMAT_VERSION:
                return BuildReport(False, manifest.chunks, 0, time.perf_counter() - started, manifest)
    corpus_read = load_corpus(corpus)
    docs, directory = corpus_read.docs, corpus_read.directory
    per_doc = {d.id: chunk_document(d) for d in docs}
    chunks = [c for d in docs for c in per_doc[d.id]]
    # the words for BM25 (jieba: most of a second to load, all of it one core) are cut while the
    # embedder, which releases the GIL, fills the other core
    lexical = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="bm25-words")
    words = lexical.submit(lambda: [_tokenizer_for(docs, directory)(c.embed_text) for c in chunks])
    lexical.shutdown(wait=False)
    cache = store.cache(embedder.name, embedder.dim)
    report = (lambda done, total: progress("embedding", done, total)) if progress else None
    documents, first = {}, 0
    for d in docs:
        documents[d.id] = {"first": first, "count": len(per_doc[d.id]), "signature": _signature(per_doc[d.id])}
        first += len(per_doc[d.id])
    previous = None if force else _previous(store, embedder)
    before = previous[1] if previous else {}
    kept = [d for d in documents if before.get(d, {}).get("signature") == documents[d]["signature"]]
    fresh = [d for d in documents if d not in kept]  # added or changed: their rows are (re)made
    texts = [c.embed_text for d in fresh for c in per_doc[d]]
    missing = len({cache.key(t) for t in texts} - set(cache._vectors))
    vectors = cache.embed(texts, embedder.embed_passages, progress=report, batch=getattr(embedder, "passage_batch", 32))
    if hasattr(embedder, "release_passage_engine"):
        embedder.release_passage_engine()
    tokens = words.result()
    if previous is None and spec.kind == "faiss":
        full = np.zeros((len(chunks), embedder.dim), dtype=np.float32)
        at = 0
        for d in fresh:
            n = documents[d]["count"]
            full[documents[d]["first"] : documents[d]["first"] + n] = vectors[at : at + n]
            at += n
        folder = store.write(chunks, tokens, full, embedder.name, digest, documents)
    else:
        vstore = previous[0] if previous else new_store(spec, embedder.name, embedder.dim, index)
        stale = [d for d in before if d not in kept]  # removed or changed
        vstore.delete(before, stale)
        vstore.relayout({d: before[d] for d in kept}, documents)
        vstore.add(documents, fresh, vectors)
        folder = store.write(chunks, tokens, vstore, embedder.name, digest, documents)
    return BuildReport(True, len(chunks), missing, time.perf_counter() - started, store.read_manifest(folder),
                       tuple(d.report for d in docs if d.report), tuple(corpus_read.problems),
                       added=tuple(d for d in fresh if d not in before),
                       changed=tuple(d for d in fresh if d in before),
                       removed=tuple(d for d in before if d not in documents), unchanged=len(kept))


class Service:
    def __init__(
        self, corpus: Path | None = None, index: Path | None = None, embedder: str | None = None,
        progress: Progress | None = None, today: date | None = None, store: str | None = None,
        build: bool = True,
    ) -> None:
        """``build`` False: a reader (a replica of ``rag serve --workers N``) that loads the index
        version a writer published and never builds one itself (``refresh`` picks up the next)."""
        self.today = today or reference_date()
        self.corpus = corpus or default_corpus()
        self.index = index or default_index()
        self.embedder = make_embedder(embedder)
        self.vectors = StoreSpec(store)  # faiss, or milvus:… (--store, RAG_STORE)
        self._lock = threading.RLock()
        self.last_build: BuildReport | None = None
        self._progress = progress
        self._build = build
        self.state = self._load()

    def _load(self, force: bool = False, build: bool | None = None) -> State:
        build = self._build if build is None else build
        if build:
            report = build_index(self.corpus, self.index, self.embedder, force=force, progress=self._progress,
                                 vectors=self.vectors)
            self.last_build = report
            if report.built and self._progress:
                self._progress("indexed", report.chunks, report.chunks)
        docs, directory = load_corpus(self.corpus)
        store = IndexStore(self.index, self.vectors)
        folder = store.current_version()
        if folder is None:
            raise IndexError_(f"no index in {self.index}; build it with: rag index")
        try:
            manifest, chunks, vectors, bm25 = store.read(folder, self.embedder.name, self.embedder.dim)
        except IndexError_ as exc:
            if force or not build:
                raise
            if self._progress:  # a damaged index is rebuilt (from the embedding cache), never served
                self._progress(f"rebuilding: {exc}", 0, 0)
            return self._load(force=True)
        tokenizer = _tokenizer_for(docs, directory)
        retriever = HybridRetriever(chunks, vectors, bm25, tokenizer, self.embedder)
        analyzer = analyzer_for(docs, directory)
        retriever.search(docs[0].title, k=1)  # load jieba's dictionary and the model now, not on a user's question
        vocabulary = frozenset(g for d in docs for g in bigrams(d.text))
        answerer = Answerer(docs, vocabulary=vocabulary)
        library = Library(docs, directory, retriever, self.today)
        return State(docs, directory, analyzer, retriever, answerer, manifest, library, folder.name)

    def refresh(self) -> bool:
        """Swap in the index version a writer elsewhere (``rag index``, another replica) published
        since this one was loaded; False when there is none or it cannot be read yet (a newer one
        replaced it mid-read: the next call takes that). Questions in flight keep their state."""
        try:
            folder = IndexStore(self.index, self.vectors).current_version()
        except IndexError_:
            return False
        if folder is None or folder.name == self.state.version:
            return False
        with self._lock:
            if folder.name == self.state.version:
                return False
            try:
                self.state = self._load(build=False)
            except (RagError, OSError) as exc:
                if self._progress:
                    self._progress(f"index version {folder.name} not loaded yet: {exc}", 0, 0)
                return False
        return True

    def watch(self, every: float = 1.0) -> threading.Thread:
        """Check for a new index version every ``every`` seconds, in a daemon thread."""
        def loop() -> None:
            while True:
                time.sleep(every)
                self.refresh()

        thread = threading.Thread(target=loop, name="rag-watch", daemon=True)
        thread.start()
        return thread

    def reindex(self, force: bool = True) -> Manifest:
        """Rebuild and swap in the new state; requests in flight keep the old one."""
        with self._lock:
            new_state = self._load(force=force)
            self.state = new_state
        return new_state.manifest

    # -- documents ---------------------------------------------------------------------------
    def add_document(self, doc_id: str, data: bytes) -> tuple[str, BuildReport]:
        """Put one file into the corpus as ``doc_id`` (its path there) and update the index; only
        that document's rows change. The file is read first: a file the reader refuses is never
        written, and the message says why. Returns ("added" or "replaced", the build report)."""
        target = self._corpus_path(doc_id)
        if not supported(target):
            raise BadQuestion(f"{doc_id}: not a supported file type (.txt .md .html .docx .pdf)")
        if len(data) > MAX_FILE_BYTES:
            raise BadQuestion(f"{doc_id}: file over {MAX_FILE_BYTES // 2**20} MB")
        with self._lock:
            self.index.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".upload-", dir=self.index))  # outside the corpus
            try:
                probe = staging / target.name
                probe.write_bytes(data)
                try:
                    read_text(convert(probe).text, doc_id)
                except (UnreadableFile, CorpusError) as exc:
                    raise BadQuestion(f"{doc_id}: {exc}") from None
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            status = "replaced" if target.exists() else "added"
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(target, data)
            self.state = self._load()
        return status, self.last_build

    def remove_document(self, doc_id: str) -> BuildReport:
        """Take one document out of the corpus and its rows out of the index."""
        target = self._corpus_path(doc_id)
        with self._lock:
            if not target.is_file():
                raise LookupError(doc_id)
            target.unlink()
            self.state = self._load()
        return self.last_build

    def _corpus_path(self, doc_id: str) -> Path:
        """The file a doc_id names, which must stay inside the corpus folder."""
        parts = Path(doc_id).parts
        if not doc_id or Path(doc_id).is_absolute() or ".." in parts or any(p.startswith(".") for p in parts):
            raise BadDocumentPath(f"{doc_id!r} is not a document path inside the corpus (like 2021/plan.docx)")
        path = (self.corpus / doc_id).resolve()
        if not path.is_relative_to(self.corpus.resolve()):
            raise BadDocumentPath(f"{doc_id!r} is not a document path inside the corpus")
        return path

    # -- questions ---------------------------------------------------------------------------
    def ask(self, question: str, history: list[dict[str, Any]] | None = None,
            docs: list[str] | None = None) -> Answer:
        """Answer one question; ``history`` is the earlier answers of the conversation, ``docs``
        restricts it to these documents (ids, ids without the file type, or titles)."""
        started = time.perf_counter()
        state = self.state
        chosen = None if docs is None else self.resolve_documents(docs)
        answer = state.library.ask(question, history or [], chosen)
        answer.latency_ms = (time.perf_counter() - started) * 1000
        return answer

    def resolve_documents(self, refs: list[str]) -> list[str]:
        """Document ids for references by id, id without its file type, or title; an unknown
        reference is a BadQuestion naming it."""
        ids = []
        for ref in refs:
            doc = self.document(str(ref))
            if doc is None:
                raise BadQuestion(f"unknown document: {ref} (see: rag documents)")
            ids.append(doc.id)
        return ids

    def search(self, query: str, k: int = 10, timings: Timings | None = None,
               docs: frozenset[str] | None = None) -> list[Hit]:
        """The ``k`` best chunks; with ``docs`` (document ids), only chunks of those documents."""
        return self.state.retriever.search(clean_question(query), k=k, timings=timings, docs=docs)

    # -- browsing ----------------------------------------------------------------------------
    def documents(self) -> list[Document]:
        return self.state.docs

    def document(self, ref: str) -> Document | None:
        """A document by its id (its path in the corpus), that path without the file type, or its title."""
        return next((d for d in self.state.docs if ref in (d.id, d.title, str(Path(d.id).with_suffix("")))), None)

    def item(self, doc_ref: str, number: int) -> Item | None:
        doc = self.document(doc_ref)
        return doc.item(number) if doc else None

    def department(self, name: str) -> tuple[str, list[Item]] | None:
        """Canonical name and every item whose responsibility block names it (aliases resolve)."""
        directory = self.state.directory
        canonical = directory.lookup(name) or (directory.find(name) or [None])[0]
        if canonical is None:
            return None
        rows = [it for d in self.state.docs for it in d.items if canonical in it.units.departments]
        return canonical, rows


class StderrProgress:
    """Progress on stderr: the embedding's count, rate and ETA, redrawn in place on a terminal and a
    line every LOG_EVERY seconds elsewhere (a log); rebuild notices as they come."""

    LOG_EVERY = 30.0

    def __init__(self) -> None:
        self._start = self._logged = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in ("embedding", "indexed"):
            print(stage, file=sys.stderr, flush=True)  # a rebuild, a version not loaded yet
        if stage != "embedding":
            return
        now = time.monotonic()
        if done == 0 or not self._start:  # a new run (the cache reports 0 before its first batch)
            self._start = self._logged = now
        elapsed = now - self._start
        rate = done / elapsed if elapsed > 0 else 0.0
        line = f"embedding {done}/{total} chunks, {rate:.1f}/s"
        if done < total and rate > 0:
            line += f", about {_duration((total - done) / rate)} left"
        if sys.stderr.isatty():
            print(f"\r{line}\033[K", end="" if done < total else "\n", file=sys.stderr, flush=True)
        elif done >= total:
            print(f"embedded {total} chunks in {_duration(elapsed)} ({rate:.1f}/s)", file=sys.stderr, flush=True)
        elif now - self._logged >= self.LOG_EVERY:
            self._logged = now
            print(line, file=sys.stderr, flush=True)
        if done >= total:
            self._start = 0.0


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


stderr_progress = StderrProgress()
