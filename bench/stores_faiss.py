"""FAISS at one size: exact search, the product's HNSW, and the tuning around it (efSearch, M,
efConstruction, IVF-Flat / IVF-SQ8 / IVF-PQ with an nprobe sweep).

One family of configurations runs per process (the caller starts a process per family and size, so
every run is bounded and its RSS growth is the index's own). Builds use every core, as an offline
``rag index`` would; searches run on one thread (OMP_NUM_THREADS=1, as ``rag serve`` sets it) and
again with the default thread count.
"""

from __future__ import annotations

import gc
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from bench.measure import progress
from bench.stores_common import DEPTH, Memory, Search, doc_rows, ground_truth, latency, recall, timed_search
from bench.stores_vectors import CACHE, load_queries, load_set
from rag.indexing.vectors import HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_M

DIM = 384
EF_SWEEP = (16, 32, 64, 128, 256, 512, 1024, 2048)
NPROBE_SWEEP = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
REFINE_SWEEP = (1, 8, 32, 128)  # IVF-PQ: k_factor of the exact re-ranking (1 = the PQ codes alone)
PQ_M = 48  # 48 sub-quantizers of 8 dimensions, 8 bits each: 48 bytes a vector
BUILD_THREADS = os.cpu_count() or 1
BASELINE_EF_SEARCH = 128  # the product's efSearch when this benchmark was written; the report compares
# it with whatever rag/indexing/vectors.py sets at run time (HNSW_EF_SEARCH)


def product_settings() -> dict[str, Any]:
    """The product's vector-store constants as the code sets them now (they may have been tuned since)."""
    import rag.indexing.vectors as vectors

    return {"baseline_ef_search": BASELINE_EF_SEARCH, "flat_limit": vectors.FLAT_LIMIT, "hnsw_m": vectors.HNSW_M,
            "hnsw_ef_construction": vectors.HNSW_EF_CONSTRUCTION, "hnsw_ef_search": vectors.HNSW_EF_SEARCH,
            "exact_scope": getattr(vectors, "EXACT_SCOPE", None)}


@dataclass(frozen=True)
class Family:
    """A kind of index whose search-time parameter is swept after one build."""

    name: str
    kind: str  # flat | hnsw | ivf
    m: int = 0  # HNSW links per node
    ef_construction: int = 0
    codec: str = ""  # IVF: Flat | SQ8 | PQ

    def label(self, size: int) -> str:
        if self.kind == "hnsw":
            return f"HNSW M={self.m} efConstruction={self.ef_construction}"
        if self.kind == "ivf":
            codec = f"PQ{PQ_M}" if self.codec == "PQ" else self.codec
            return f"IVF{nlist_for(size)},{codec}"
        return "Flat (exact)"


FAMILIES = {
    "flat": Family("flat", "flat"),
    "hnsw16": Family("hnsw16", "hnsw", 16, HNSW_EF_CONSTRUCTION),
    "hnsw32": Family("hnsw32", "hnsw", HNSW_M, HNSW_EF_CONSTRUCTION),  # the product's setting
    "hnsw48": Family("hnsw48", "hnsw", 48, HNSW_EF_CONSTRUCTION),
    "hnsw32-efc200": Family("hnsw32-efc200", "hnsw", HNSW_M, 200),
    "ivf-flat": Family("ivf-flat", "ivf", codec="Flat"),
    "ivf-sq8": Family("ivf-sq8", "ivf", codec="SQ8"),
    "ivf-pq": Family("ivf-pq", "ivf", codec="PQ"),
}


def nlist_for(size: int) -> int:
    """About 4·√n lists, a power of two, but at least 39 training vectors a list (FAISS's minimum
    for k-means): 256 at 10⁴, 1024 at 10⁵, 4096 at 10⁶."""
    target = 2 ** round(np.log2(4 * np.sqrt(size)))
    return int(max(16, min(target, 2 ** int(np.log2(size / 39)))))


def _hnsw(family: Family) -> faiss.Index:
    inner = faiss.IndexHNSWFlat(DIM, family.m, faiss.METRIC_INNER_PRODUCT)
    inner.hnsw.efConstruction = family.ef_construction
    inner.hnsw.efSearch = HNSW_EF_SEARCH
    return faiss.IndexIDMap2(inner)


def _ivf(family: Family, size: int) -> faiss.Index:
    codec = {"Flat": "Flat", "SQ8": "SQ8", "PQ": f"PQ{PQ_M}np,RFlat"}[family.codec]  # np: no polysemous training
    return faiss.index_factory(DIM, f"IVF{nlist_for(size)},{codec}", faiss.METRIC_INNER_PRODUCT)


def build(family: Family, vectors: np.ndarray, threads: int = BUILD_THREADS) -> tuple[faiss.Index, dict[str, float]]:
    """The index, built as the product builds (row ids through IndexIDMap2 for flat and HNSW; IVF's
    own ids are the row numbers), and its build and training seconds."""
    faiss.omp_set_num_threads(threads)
    timing: dict[str, float] = {}
    start = time.perf_counter()
    if family.kind == "ivf":
        index = _ivf(family, len(vectors))
        sample = np.random.default_rng(0).choice(len(vectors), min(len(vectors), 64 * nlist_for(len(vectors))),
                                                 replace=False)
        index.train(vectors[np.sort(sample)])
        timing["train_s"] = time.perf_counter() - start
        _add_in_parts(index, vectors, family)
    else:
        index = _hnsw(family) if family.kind == "hnsw" else faiss.IndexIDMap2(faiss.IndexFlatIP(DIM))
        _add_in_parts(index, vectors, family)
    timing["build_s"] = time.perf_counter() - start
    faiss.omp_set_num_threads(1)
    return index, timing


def _add_in_parts(index: faiss.Index, vectors: np.ndarray, family: Family, part: int = 100_000) -> None:
    """Adds in parts only to report progress; FAISS's result is the same as one add."""
    start = time.perf_counter()
    for lo in range(0, len(vectors), part):
        hi = min(len(vectors), lo + part)
        ids = np.arange(lo, hi, dtype=np.int64)
        if isinstance(index, faiss.IndexIDMap):
            index.add_with_ids(vectors[lo:hi], ids)
        else:
            index.add(vectors[lo:hi])
        if len(vectors) > part:
            rate = hi / (time.perf_counter() - start)
            progress(f"faiss {family.name}: added {hi:,}/{len(vectors):,} ({rate:,.0f}/s, "
                     f"ETA {(len(vectors) - hi) / rate:.0f} s)")


def sweep(family: Family, size: int) -> list[dict[str, Any]]:
    """The search-time parameters tried for a family at a size."""
    if family.kind == "flat":
        return [{}]
    if family.kind == "hnsw":
        return [{"efSearch": ef} for ef in EF_SWEEP]
    probes = [p for p in NPROBE_SWEEP if p <= nlist_for(size)]
    if family.codec == "PQ":
        return [{"nprobe": p, "k_factor": k} for p in probes for k in REFINE_SWEEP]
    return [{"nprobe": p} for p in probes]


def apply(index: faiss.Index, params: dict[str, Any]) -> faiss.Index:
    """Sets ``params`` on ``index``; returns the index to search (IVF-PQ with k_factor 1 is the PQ
    index alone, without the exact re-ranking layer)."""
    if "efSearch" in params:
        faiss.downcast_index(index.index).hnsw.efSearch = params["efSearch"]
    if "nprobe" in params:
        faiss.extract_index_ivf(index).nprobe = params["nprobe"]
    if "k_factor" in params:
        index.k_factor = params["k_factor"]
        if params["k_factor"] == 1:
            return faiss.downcast_index(index.base_index)
    return index


def searcher(target: faiss.Index, params: dict[str, Any], only: np.ndarray | None = None) -> Search:
    """(vector, k) -> row ids through ``target``, restricted to rows ``only`` when given (the
    product's scoped search: an IDSelectorBatch in the search parameters)."""
    search_params = None
    if only is not None:
        selector = faiss.IDSelectorBatch(only.astype(np.int64))
        if "efSearch" in params:
            search_params = faiss.SearchParametersHNSW(sel=selector, efSearch=params["efSearch"])
        elif "nprobe" in params:
            search_params = faiss.SearchParametersIVF(sel=selector, nprobe=params["nprobe"])
        else:
            search_params = faiss.SearchParameters(sel=selector)
        search_params._selector = selector  # keep the selector alive with the parameters

    def search(vector: np.ndarray, k: int) -> np.ndarray:
        _, ids = target.search(vector.reshape(1, -1), k, params=search_params)
        return ids[0][ids[0] >= 0]

    return search


def measure(index: faiss.Index, family: Family, params: dict[str, Any], size: int,
            truth: dict[str, np.ndarray], queries: dict[str, np.ndarray]) -> dict[str, Any]:
    """Latency at k=10 and k=50 on one thread, k=10 on the default thread count, recall@10 for both
    query sets and recall@50, and the scoped (filtered) search where the index supports it."""
    target = apply(index, params)
    search = searcher(target, params)
    questions = queries["questions"]
    times10, found10 = timed_search(search, questions, 10)
    times50, found50 = timed_search(search, questions, DEPTH)
    faiss.omp_set_num_threads(BUILD_THREADS)
    default10, _ = timed_search(search, questions, 10)
    _, held = target.search(queries["held_out"], 10)  # a batch: only recall is wanted here
    faiss.omp_set_num_threads(1)
    row: dict[str, Any] = {
        "params": params, "k10": latency(times10), "k50": latency(times50),
        "k10_default_threads": latency(default10),
        "recall@10": recall(found10, truth["questions"], 10),
        "recall@10_held_out": recall(held, truth["held_out"], 10),
        "recall@50": recall(found50, truth["questions"], DEPTH),
    }
    if family.codec != "PQ":  # the re-ranking layer takes no ID selector
        row["scoped"] = scoped(target, params, size, truth, questions)
    return row


def scoped(target: faiss.Index, params: dict[str, Any], size: int, truth: dict[str, np.ndarray],
           questions: np.ndarray) -> dict[str, Any]:
    """Search restricted to 5 documents (150 rows), one question at a time: latency and recall@10
    against the exact top 10 within the scope."""
    times, found = [], []
    for i, q in enumerate(questions):
        search = searcher(target, params, only=doc_rows(np.unique(truth["scopes"][i]), size))
        start = time.perf_counter()
        ids = search(q, 10)
        times.append((time.perf_counter() - start) * 1000)
        found.append(np.pad(ids, (0, 10 - len(ids)), constant_values=-1))
    return {**latency(times), "recall@10": recall(np.stack(found), truth["scoped"], 10)}


def index_path(family: str, size: int) -> Path:
    return CACHE / f"index-{family}-{size}.faiss"


def run(name: str, size: int, set_size: int, keep: bool) -> dict[str, Any]:
    """Builds family ``name`` at ``size``, sweeps its search parameter, and returns every row. The
    index file is kept (for the headline rerun) only when ``keep``."""
    family = FAMILIES[name]
    vectors = load_set(size, set_size)
    truth = ground_truth(size, set_size, vectors)
    queries = load_queries(set_size)
    gc.collect()
    memory = Memory()
    progress(f"faiss {name} at {size:,}: building with {BUILD_THREADS} threads")
    index, timing = build(family, vectors)
    gc.collect()
    rss_growth = memory.growth()
    path = index_path(name, size)
    faiss.write_index(index, str(path))
    index_mb = path.stat().st_size / 2**20
    extra: dict[str, Any] = {}
    if family.kind == "ivf" and family.codec == "PQ":
        extra["pq_codes_mb"] = len(faiss.serialize_index(index.base_index)) / 2**20
    if name == "hnsw32" and size <= 100_000:  # what a reindex inside `rag serve` (one thread) costs
        _, one = build(family, vectors, threads=1)
        extra["build_s_1thread"] = one["build_s"]
    if not keep:
        path.unlink()
    rows = []
    for params in sweep(family, size):
        rows.append(measure(index, family, params, size, truth, queries))
        r = rows[-1]
        progress(f"faiss {name} at {size:,} {params}: p95 {r['k10']['p95_ms']:.2f} ms, "
                 f"recall@10 {r['recall@10']:.3f}")
    return {"store": "faiss", "family": name, "label": family.label(size), "size": size, **timing,
            "build_threads": BUILD_THREADS, "search_threads": 1, "index_mb": index_mb,
            "rss_growth_mb": rss_growth, "nlist": nlist_for(size) if family.kind == "ivf" else None,
            **extra, "rows": rows}


def refine(index: faiss.Index, params: dict[str, Any], size: int, set_size: int,
           target: float = 0.95) -> dict[str, Any]:
    """The sweep doubles efSearch, so the smallest value reaching ``target`` recall lies between the
    chosen point and the one below it: try three values in between (and the chosen one again) on the
    saved index and keep the smallest that reaches it."""
    if "efSearch" not in params:
        return {"params": params, "tried": []}
    upper = params["efSearch"]
    lower = max((ef for ef in EF_SWEEP if ef < upper), default=upper)
    truth = ground_truth(size, set_size, np.empty((0, DIM), np.float32))  # cached by the truth step
    questions = load_queries(set_size)["questions"]
    tried = []
    for ef in sorted({lower + (upper - lower) * i // 4 for i in range(1, 5)}):
        search = searcher(apply(index, {"efSearch": ef}), {"efSearch": ef})
        times, found = timed_search(search, questions, 10)
        tried.append({"efSearch": ef, "recall@10": recall(found, truth["questions"], 10), **latency(times)})
        progress(f"headline refine: efSearch={ef}: recall@10 {tried[-1]['recall@10']:.3f}")
    good = [t for t in tried if t["recall@10"] >= target]
    return {"params": {"efSearch": good[0]["efSearch"]} if good else params, "tried": tried}


def rerun(name: str, size: int, set_size: int, params: dict[str, Any], rounds: int = 5) -> dict[str, Any]:
    """The headline configuration again, from its saved index, on one thread, at the end of the run:
    efSearch refined between the sweep's points, then ``rounds`` passes over the questions at each k,
    so the tail rests on rounds × 200 searches."""
    faiss.omp_set_num_threads(1)
    index = faiss.read_index(str(index_path(name, size)))
    refined = refine(index, params, size, set_size)
    final = refined["params"]
    search = searcher(apply(index, final), final)
    questions = load_queries(set_size)["questions"]
    truth = ground_truth(size, set_size, np.empty((0, DIM), np.float32))
    t10: list[float] = []
    t50: list[float] = []
    for r in range(rounds):
        times, found10 = timed_search(search, questions, 10)
        t10 += times
        times, found50 = timed_search(search, questions, DEPTH)
        t50 += times
        progress(f"headline rerun: round {r + 1}/{rounds}")
    return {"family": name, "size": size, "swept_params": params, "params": final, "refine": refined["tried"],
            "searches": len(t10), "k10": latency(t10), "k50": latency(t50),
            "recall@10": recall(found10, truth["questions"], 10), "recall@50": recall(found50, truth["questions"], DEPTH)}
