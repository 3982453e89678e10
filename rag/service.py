"""The one facade every surface calls: ask(), search(), item(), department(), documents(), reindex().

The loaded state (documents, index, retriever) is one immutable object swapped by reference,
so a re-index never disturbs requests already running.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.answering.answer import Answerer
from rag.answering.evidence import bigrams
from rag.answering.followup import resolve_follow_up
from rag.answering.question import QuestionAnalyzer, clean_question
from rag.answering.retrieve import HybridRetriever, Timings
from rag.errors import IndexError_
from rag.indexing.chunks import chunk_document
from rag.indexing.embedders import Embedder, make_embedder
from rag.indexing.lexical import Tokenizer
from rag.indexing.store import IndexStore, Manifest
from rag.reading import load_corpus, source_hash
from rag.reading.departments import Directory
from rag.types import Answer, Document, Hit, Item, ParseReport

Progress = Callable[[str, int, int], None]


def project_root() -> Path:
    return Path(os.environ.get("RAG_HOME", Path.cwd()))


def default_corpus() -> Path:
    return Path(os.environ.get("RAG_CORPUS", project_root() / "corpus"))


def default_index() -> Path:
    return Path(os.environ.get("RAG_INDEX", project_root() / "index"))


@dataclass(frozen=True)
class BuildReport:
    built: bool
    chunks: int
    embedded: int  # chunks that needed the embedder (not in the cache)
    seconds: float
    manifest: Manifest
    documents: tuple[ParseReport, ...] = ()  # when built: what was read from each document
    problems: tuple[tuple[str, str], ...] = ()  # when built: files that could not be read, and why


@dataclass(frozen=True)
class State:
    docs: list[Document]
    directory: Directory
    analyzer: QuestionAnalyzer
    retriever: HybridRetriever
    answerer: Answerer
    manifest: Manifest


def _tokenizer_for(docs: list[Document], directory: Directory) -> Tokenizer:
    words = list(directory.all_aliases()) + [it.title for d in docs for it in d.items]
    return Tokenizer(words)


def build_index(
    corpus: Path, index: Path, embedder: Embedder, force: bool = False,
    progress: Progress | None = None,
) -> BuildReport:
    """Build the index for ``corpus`` unless the one on disk already matches it."""
    started = time.perf_counter()
    digest = source_hash(corpus)  # the files' bytes: an unchanged corpus is not even parsed
    store = IndexStore(index)
    if not force:
        try:
            folder = store.current_version()
            manifest = store.read_manifest(folder) if folder else None
        except IndexError_:
            manifest = None
        if manifest and manifest.corpus_hash == digest and manifest.embedder == embedder.name:
            from rag.indexing.store import FORMAT_VERSION

            if manifest.format_version == FORMAT_VERSION:
                return BuildReport(False, manifest.chunks, 0, time.perf_counter() - started, manifest)
    corpus_read = load_corpus(corpus)
    docs, directory = corpus_read.docs, corpus_read.directory
    chunks = [c for d in docs for c in chunk_document(d)]
    tokenizer = _tokenizer_for(docs, directory)
    tokens = [tokenizer(c.embed_text) for c in chunks]
    cache = store.cache(embedder.name, embedder.dim)
    texts = [c.embed_text for c in chunks]
    missing = len({cache.key(t) for t in texts} - set(cache._vectors))
    report = (lambda done, total: progress("embedding", done, total)) if progress else None
    vectors = cache.embed(texts, embedder.embed_passages, progress=report)
    folder = store.write(chunks, tokens, vectors, embedder.name, digest)
    return BuildReport(True, len(chunks), missing, time.perf_counter() - started, store.read_manifest(folder),
                       tuple(d.report for d in docs if d.report), tuple(corpus_read.problems))


class Service:
    def __init__(
        self, corpus: Path | None = None, index: Path | None = None, embedder: str | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.corpus = corpus or default_corpus()
        self.index = index or default_index()
        self.embedder = make_embedder(embedder)
        self._lock = threading.Lock()
        self._progress = progress
        self.state = self._load()

    def _load(self, force: bool = False) -> State:
        report = build_index(self.corpus, self.index, self.embedder, force=force, progress=self._progress)
        if report.built and self._progress:
            self._progress("indexed", report.chunks, report.chunks)
        docs, directory = load_corpus(self.corpus)
        store = IndexStore(self.index)
        folder = store.current_version()
        if folder is None:
            raise IndexError_(f"no index in {self.index}; build it with: rag index")
        try:
            manifest, chunks, faiss_index, bm25 = store.read(folder, self.embedder.name, self.embedder.dim)
        except IndexError_ as exc:
            if force:
                raise
            if self._progress:  # a damaged index is rebuilt (from the embedding cache), never served
                self._progress(f"rebuilding: {exc}", 0, 0)
            return self._load(force=True)
        tokenizer = _tokenizer_for(docs, directory)
        retriever = HybridRetriever(chunks, faiss_index, bm25, tokenizer, self.embedder)
        text = "\n".join(d.text for d in docs)
        analyzer = QuestionAnalyzer(directory, text, {it.number for d in docs for it in d.items},
                                    [(s.numeral, s.title) for d in docs for s in d.sections],
                                    [it.title for d in docs for it in d.items],
                                    [it.text for d in docs for it in d.items])
        retriever.search(docs[0].title, k=1)  # load jieba's dictionary and the model now, not on a user's question
        vocabulary = frozenset(g for d in docs for g in bigrams(d.text))
        answerer = Answerer(docs, vocabulary=vocabulary)
        return State(docs, directory, analyzer, retriever, answerer, manifest)

    def reindex(self, force: bool = True) -> Manifest:
        """Rebuild and swap in the new state; requests in flight keep the old one."""
        with self._lock:
            new_state = self._load(force=force)
            self.state = new_state
        return new_state.manifest

    # -- questions ---------------------------------------------------------------------------
    def ask(self, question: str, history: list[dict[str, Any]] | None = None) -> Answer:
        started = time.perf_counter()
        state = self.state
        query = state.analyzer.analyze(question)
        query = resolve_follow_up(query, history or [])
        hits = [] if query.refusal else state.retriever.search(query.retrieval_text, k=30)
        answer = state.answerer.answer(query, hits)
        answer.latency_ms = (time.perf_counter() - started) * 1000
        return answer

    def search(self, query: str, k: int = 10, timings: Timings | None = None) -> list[Hit]:
        return self.state.retriever.search(clean_question(query), k=k, timings=timings)

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


def stderr_progress(stage: str, done: int, total: int) -> None:
    """Progress on stderr: a line redrawn in place on a terminal, the last count elsewhere."""
    if stage.startswith("rebuilding"):
        print(stage, file=sys.stderr, flush=True)
    elif stage == "embedding" and sys.stderr.isatty():
        print(f"\rembedding {done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)
    elif stage == "embedding" and done == total:
        print(f"embedded {total} chunks", file=sys.stderr, flush=True)
