"""What every store's measurement shares: the exact answers (ground truth), the document scopes for
filtered search, one-query-at-a-time latency and recall."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from bench.measure import percentile, progress, rss_mb
from bench.stores_vectors import CACHE, knn, load_queries

DOC_SIZE = 30  # a document is 30 consecutive clauses (rows 30d … 30d+29)
SCOPE_DOCS = 5  # a scoped question looks at 5 documents: the one holding its best match and 4 others
DEPTH = 50  # the product's retriever asks the vector store for 50 neighbours
WARM = 5  # untimed queries first, so the first timed query does not pay for cold caches

Search = Callable[[np.ndarray, int], np.ndarray]  # (query vector, k) -> row ids


def doc_of(row: int) -> int:
    return row // DOC_SIZE


def doc_rows(docs: np.ndarray, size: int) -> np.ndarray:
    rows = (docs[:, None] * DOC_SIZE + np.arange(DOC_SIZE)).ravel()
    return np.sort(rows[rows < size])


def truth_path(size: int, set_size: int):
    return CACHE / f"truth-{size}-of-{set_size}.npz"


def ground_truth(size: int, set_size: int, vectors: np.ndarray) -> dict[str, np.ndarray]:
    """Exact answers for the query sets at this size, cached: the top 50 rows for every question,
    the top 10 for the held-out queries, the 5-document scope of every question and its exact top
    10 within that scope."""
    path = truth_path(size, set_size)
    if path.exists():
        data = np.load(path)
        return {name: data[name] for name in data.files}
    queries = load_queries(set_size)
    _, questions = knn(queries["questions"], vectors, DEPTH, exclude_self=False)
    _, held = knn(queries["held_out"], vectors, 10, exclude_self=False)
    rng = np.random.default_rng(7)
    n_docs = max(1, (size + DOC_SIZE - 1) // DOC_SIZE)
    scopes = np.empty((len(questions), SCOPE_DOCS), dtype=np.int64)
    scoped = np.empty((len(questions), 10), dtype=np.int64)
    for i, q in enumerate(queries["questions"]):
        others = rng.choice(n_docs, SCOPE_DOCS - 1, replace=False)
        scopes[i] = np.concatenate([[doc_of(int(questions[i, 0]))], others])
        rows = doc_rows(np.unique(scopes[i]), size)
        scoped[i] = rows[np.argsort(-(vectors[rows] @ q), kind="stable")[:10]]
    out = {"questions": questions, "held_out": held, "scopes": scopes, "scoped": scoped}
    np.savez(path, **out)
    progress(f"ground truth for {size:,} rows cached")
    return out


def recall(found: np.ndarray, exact: np.ndarray, k: int) -> float:
    """Mean share of the exact top ``k`` that the search returned in its top ``k``."""
    return float(np.mean([len(set(f[:k].tolist()) & set(e[:k].tolist())) / k
                          for f, e in zip(found, exact, strict=True)]))


def timed_search(search: Search, queries: np.ndarray, k: int) -> tuple[list[float], np.ndarray]:
    """One query at a time, as the service asks: per-query milliseconds and the ids found
    (padded with -1 when a search returns fewer than ``k``)."""
    for q in queries[:WARM]:
        search(q, k)
    times, found = [], np.full((len(queries), k), -1, dtype=np.int64)
    for i, q in enumerate(queries):
        start = time.perf_counter()
        ids = search(q, k)
        times.append((time.perf_counter() - start) * 1000)
        found[i, : len(ids)] = ids[:k]
    return times, found


def latency(times: list[float]) -> dict[str, float]:
    return {"p50_ms": percentile(times, 0.5), "p95_ms": percentile(times, 0.95),
            "mean_ms": sum(times) / len(times)}


class Memory:
    """RSS growth of this process across a step (the vectors are already resident before it)."""

    def __init__(self) -> None:
        self.before = rss_mb()

    def growth(self) -> float:
        return rss_mb() - self.before


def folder_mb(path) -> float:
    """Bytes on disk under ``path`` (a file or a folder), in MB."""
    if path.is_file():
        return path.stat().st_size / 2**20
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def eta(done: int, total: int, start: float) -> str:
    rate = done / max(1e-9, time.perf_counter() - start)
    return f"{done:,}/{total:,} ({rate:,.0f}/s, ETA {(total - done) / max(rate, 1e-9):.0f} s)"


def round_floats(obj: Any, digits: int = 4) -> Any:
    """Rounds floats for the JSON file (timings to 0.1 µs are noise)."""
    if isinstance(obj, float):
        return round(obj, digits)
    if isinstance(obj, dict):
        return {k: round_floats(v, digits) for k, v in obj.items()}
    if isinstance(obj, list):
        return [round_floats(v, digits) for v in obj]
    return obj
