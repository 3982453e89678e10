"""The product's lexical index at scale: ``rag.indexing.lexical.BM25Index`` over synthetic clauses.

Where BM25 lives is part of the store decision (Milvus Lite could hold it as a BM25 Function, or it
stays in the process as bm25s), so this measures what keeping it costs: build time, memory, disk and
the per-question ``scores`` call, plus the top-50 selection the retriever does after it.
"""

from __future__ import annotations

import gc
import shutil
import time
from typing import Any

import numpy as np

from bench.measure import progress, rss_mb
from bench.scale import memo_tokens, tokenizer_for
from bench.stores_common import DEPTH, Memory, folder_mb, latency
from bench.stores_vectors import CACHE, question_texts
from bench.synthetic import generate


def top(scores: np.ndarray, depth: int = DEPTH) -> list[int]:
    """The retriever's selection after scoring: argpartition, then a stable sort of the few."""
    if len(scores) > depth:
        best = np.argpartition(-scores, depth)[:depth]
        best = best[np.argsort(-scores[best], kind="stable")]
    else:
        best = np.argsort(-scores, kind="stable")
    return [int(i) for i in best if scores[i] > 0]


def run(size: int) -> dict[str, Any]:
    """Generate, tokenize (jieba, memoised per phrase), build, save, and time scoring at ``size``."""
    from rag.indexing.lexical import BM25Index

    out: dict[str, Any] = {"store": "bm25s (BM25Index)", "size": size}
    start = time.perf_counter()
    corpus = generate(size, seed=0)
    texts = [c.text for c in corpus.clauses]
    out["generate_s"] = time.perf_counter() - start
    progress(f"bm25 {size:,}: generated in {out['generate_s']:.0f} s; tokenizing")
    start = time.perf_counter()
    tokenizer = tokenizer_for({c.title for c in corpus.clauses})
    tokens = memo_tokens(tokenizer, texts)
    out["tokenize_s"] = time.perf_counter() - start
    out["tokens"] = sum(map(len, tokens))
    questions = question_texts() + [q.question for q in corpus.planted]
    del corpus, texts
    gc.collect()
    progress(f"bm25 {size:,}: tokenized in {out['tokenize_s']:.0f} s; building")
    memory = Memory()
    start = time.perf_counter()
    index = BM25Index.build(tokens)
    out["build_s"] = time.perf_counter() - start
    gc.collect()
    out["rss_growth_mb"], out["rss_mb"] = memory.growth(), rss_mb()  # before the token lists go
    del tokens
    folder = CACHE / f"bm25-{size}"
    shutil.rmtree(folder, ignore_errors=True)
    start = time.perf_counter()
    index.save(folder)
    out["save_s"], out["disk_mb"] = time.perf_counter() - start, folder_mb(folder)
    start = time.perf_counter()
    BM25Index.load(folder)
    out["load_s"] = time.perf_counter() - start
    shutil.rmtree(folder, ignore_errors=True)
    out.update(score_times(index, tokenizer, questions))
    progress(f"bm25 {size:,}: scores p95 {out['scores']['p95_ms']:.1f} ms")
    return out


def score_times(index, tokenizer, questions: list[str]) -> dict[str, Any]:
    """Per question: ``scores(tokens)`` alone, and with the top-50 selection (tokenizing not timed)."""
    token_lists = [tokenizer(q) for q in questions]
    for tokens in token_lists[:5]:
        index.scores(tokens)
    scoring, selecting, hits = [], [], []
    for tokens in token_lists:
        start = time.perf_counter()
        scores = index.scores(tokens)
        middle = time.perf_counter()
        hits.append(len(top(scores)))
        end = time.perf_counter()
        scoring.append((middle - start) * 1000)
        selecting.append((end - start) * 1000)
    return {"questions": len(questions), "scores": latency(scoring), "scores_top50": latency(selecting),
            "mean_hits": float(np.mean(hits))}
