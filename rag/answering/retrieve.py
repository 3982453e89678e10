"""Hybrid retrieval: dense (the vector store: FAISS or Milvus) and sparse (BM25) rankings fused by
reciprocal rank."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from rag.indexing.embedders import Embedder
from rag.indexing.lexical import BM25Index, Tokenizer
from rag.indexing.vectors import Scope, VectorStore
from rag.types import Chunk, Hit

RRF_K = 60


def reciprocal_rank_fusion(rankings: list[list[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Fuse ranked id lists: score(id) = Σ 1 / (k + rank), rank from 1. Highest first."""
    if k <= 0:
        raise ValueError("k must be greater than 0.")
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, doc_id in enumerate(ranking, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


@dataclass
class Timings:
    """Milliseconds spent in each stage of one search."""

    stages: dict[str, float] = field(default_factory=dict)

    def add(self, stage: str, since: float) -> float:
        now = time.perf_counter()
        self.stages[stage] = self.stages.get(stage, 0.0) + (now - since) * 1000
        return now


class QueryVectorCache:
    """Small thread-safe LRU of query embeddings: a repeated question skips the embedder."""

    def __init__(self, embedder: Embedder, size: int = 2048) -> None:
        self._embedder, self._size = embedder, size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, text: str) -> np.ndarray:
        with self._lock:
            vector = self._cache.get(text)
            if vector is not None:
                self._cache.move_to_end(text)
                return vector
        vector = self._embedder.embed_query(text)  # outside the lock: embeds run in parallel
        with self._lock:
            self._cache[text] = vector
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return vector


class LazyHits(Sequence):
    """The hits of a search that runs when an answer first reads them: a question that its
    document's structure answers alone (a task named by number, a department's tasks) is answered
    without embedding it."""

    def __init__(self, run: Callable[[], list[Hit]]) -> None:
        self._run, self._hits = run, None

    def _get(self) -> list[Hit]:
        if self._hits is None:
            self._hits = self._run()
        return self._hits

    @property
    def ran(self) -> bool:
        return self._hits is not None

    def __len__(self) -> int:
        return len(self._get())

    def __getitem__(self, i):
        return self._get()[i]

    def __iter__(self):
        return iter(self._get())


class HybridRetriever:
    def __init__(
        self, chunks: list[Chunk], vectors: VectorStore, bm25: BM25Index, tokenizer: Tokenizer,
        embedder: Embedder, depth: int = 50,
    ) -> None:
        if depth <= 0:
            raise ValueError("depth must be greater than 0.")
        self.chunks, self.vectors, self._bm25 = chunks, vectors, bm25
        self.tokenizer, self.embedder, self.depth = tokenizer, embedder, depth
        self.query_vector = QueryVectorCache(embedder)
        self._rows: dict[str, list[int]] = {}  # document -> its chunks' row numbers
        for row, chunk in enumerate(chunks):
            self._rows.setdefault(chunk.doc_id, []).append(row)

    def _scope(self, docs: frozenset[str]) -> Scope:
        """``docs`` and their rows: the part of the index a scoped question searches."""
        return Scope(docs, np.array(sorted(r for d in docs for r in self._rows.get(d, ())), dtype=np.int64))

    def search(self, query: str, k: int = 10, timings: Timings | None = None,
               docs: frozenset[str] | None = None) -> list[Hit]:
        """The ``k`` best chunks for ``query``; with ``docs``, only chunks of those documents."""
        if k <= 0:
            raise ValueError("k must be greater than 0.")
        timings = timings or Timings()
        t = time.perf_counter()
        vector = self.query_vector(query)
        t = timings.add("embed", t)
        if docs is not None and docs >= self._rows.keys():
            docs = None  # every document: no filter
        scope = self._scope(docs) if docs is not None else None
        rows = None if scope is None else scope.rows
        if rows is not None and len(rows) == 0:
            return []
        depth = min(max(self.depth, k), len(self.chunks) if rows is None else len(rows))
        dense, sims = self.vectors.search(vector, depth, scope)
        cosine = dict(zip(dense, sims, strict=True))
        t = timings.add("dense", t)
        scores = self._bm25.scores(self.tokenizer(query))
        if rows is not None:
            mask = np.zeros(len(scores), dtype=bool)
            mask[rows] = True
            scores = np.where(mask, scores, 0.0)
        if len(scores) > depth:
            top = np.argpartition(-scores, depth)[:depth]
            top = top[np.argsort(-scores[top], kind="stable")]
        else:
            top = np.argsort(-scores, kind="stable")
        sparse = [int(i) for i in top if scores[i] > 0]
        t = timings.add("bm25", t)
        fused = reciprocal_rank_fusion([dense, sparse])[:k]
        timings.add("fusion", t)
        return [Hit(self.chunks[i], score, cosine.get(i, 0.0)) for i, score in fused]
