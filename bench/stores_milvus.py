"""Milvus Lite at one size, and whether it can do the lexical (BM25) side too.

The collection is the one the Milvus store would hold: ``pk`` INT64 (the row id, no auto id),
``doc_id`` VARCHAR(512) and ``vector`` FLOAT_VECTOR(384) with a FLAT index on inner product (Lite builds
only FLAT). Milvus Lite runs inside this Python process, so the process's RSS growth is its memory.
"""

from __future__ import annotations

import gc
import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.measure import progress, rss_mb
from bench.stores_common import (
    DEPTH,
    DOC_SIZE,
    Memory,
    Search,
    eta,
    folder_mb,
    ground_truth,
    latency,
    recall,
    timed_search,
)
from bench.stores_vectors import CACHE, DIM, load_queries, load_set

COLLECTION = "clauses"
BATCH = 10_000
MAX_INSERT_S = 15 * 60  # stop a size whose insert is forecast to take longer, and extrapolate
FORECAST_AFTER = 0.05  # forecast once this share of the rows is in
SLOW_SEARCH_MS = 300.0  # above this a search, measure on FEW_QUERIES questions instead of 200
FEW_QUERIES = 50


def db_path(size: int) -> Path:
    return CACHE / f"milvus-{size}.db"


def doc_name(doc: int) -> str:
    return f"doc{doc}"


def create(client, name: str = COLLECTION) -> None:
    """The collection and its FLAT / IP index, as the Milvus store would declare them."""
    from pymilvus import DataType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("pk", DataType.INT64, is_primary=True)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=512)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=DIM)
    index = client.prepare_index_params()
    index.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
    if client.has_collection(name):
        client.drop_collection(name)
    client.create_collection(name, schema=schema, index_params=index)


def insert(client, vectors: np.ndarray) -> dict[str, Any]:
    """Inserts in batches of BATCH rows; gives up (returning the forecast) when the forecast for all
    rows passes MAX_INSERT_S."""
    start, total = time.perf_counter(), len(vectors)
    for lo in range(0, total, BATCH):
        hi = min(total, lo + BATCH)
        rows = vectors[lo:hi].tolist()
        client.insert(COLLECTION, [{"pk": lo + i, "doc_id": doc_name((lo + i) // DOC_SIZE), "vector": v}
                                   for i, v in enumerate(rows)])
        elapsed = time.perf_counter() - start
        forecast = elapsed * total / hi
        if hi % 100_000 == 0 or hi == total or lo == 0:
            progress(f"milvus insert {eta(hi, total, start)}")
        if hi >= FORECAST_AFTER * total and hi < total and forecast > MAX_INSERT_S:
            return {"stopped_at": hi, "forecast_insert_s": forecast, "insert_s": elapsed}
    return {"insert_s": time.perf_counter() - start}


def searcher(client, scope: list[str] | None = None) -> Search:
    """(vector, k) -> row ids; ``scope`` restricts to those documents with a ``doc_id in [...]`` filter.
    Only ``doc_id`` is asked for, so vectors are not returned."""
    expr = "" if scope is None else "doc_id in [" + ", ".join(json.dumps(d) for d in scope) + "]"

    def search(vector: np.ndarray, k: int) -> np.ndarray:
        hits = client.search(COLLECTION, data=[vector.tolist()], limit=k, output_fields=["doc_id"],
                             anns_field="vector", filter=expr, search_params={"metric_type": "IP"})
        return np.array([h.get("pk", h.get("id")) for h in hits[0]], dtype=np.int64)

    return search


def scoped(client, truth: dict[str, np.ndarray], questions: np.ndarray) -> dict[str, Any]:
    """Filtered search over 5 documents per question (the same scopes as FAISS's), k=10."""
    times, found = [], []
    for i, q in enumerate(questions):
        search = searcher(client, [doc_name(int(d)) for d in np.unique(truth["scopes"][i])])
        start = time.perf_counter()
        ids = search(q, 10)
        times.append((time.perf_counter() - start) * 1000)
        found.append(np.pad(ids, (0, 10 - len(ids)), constant_values=-1))
    return {**latency(times), "recall@10": recall(np.stack(found), truth["scoped"], 10)}


def run(size: int, set_size: int) -> dict[str, Any]:
    """Insert, flush, search (k=10, k=50, filtered), reopen from disk; times, recall, disk, RSS."""
    from pymilvus import MilvusClient

    vectors = load_set(size, set_size)
    truth = ground_truth(size, set_size, vectors)
    queries = load_queries(set_size)
    path = db_path(size)
    shutil.rmtree(path, ignore_errors=True)
    gc.collect()
    memory, out = Memory(), {"store": "milvus-lite", "size": size, "index": "FLAT/IP"}
    start = time.perf_counter()
    client = MilvusClient(str(path))
    create(client)
    out["open_create_s"] = time.perf_counter() - start
    out.update(insert(client, vectors))
    if "stopped_at" in out:
        client.close()
        shutil.rmtree(path, ignore_errors=True)
        return out
    start = time.perf_counter()
    client.flush(COLLECTION)
    out["flush_s"] = time.perf_counter() - start
    start = time.perf_counter()
    client.load_collection(COLLECTION)
    searcher(client)(queries["questions"][0], 10)
    out["load_first_search_s"] = time.perf_counter() - start
    out["build_s"] = out["open_create_s"] + out["insert_s"] + out["flush_s"] + out["load_first_search_s"]
    out["index_state"] = client.describe_index(COLLECTION, "vector").get("state")
    out["rss_after_load_growth_mb"] = memory.growth()
    out.update(measure(client, truth, queries))
    out["rss_growth_mb"], out["rss_mb"] = memory.growth(), rss_mb()
    client.close()
    out["disk_mb"] = folder_mb(path)
    out["reopen"] = reopen(path, queries["questions"][0])
    shutil.rmtree(path, ignore_errors=True)
    return out


def measure(client, truth: dict[str, np.ndarray], queries: dict[str, np.ndarray]) -> dict[str, Any]:
    search = searcher(client)
    questions = queries["questions"]
    probe, _ = timed_search(search, questions[:10], 10)
    if np.median(probe) > SLOW_SEARCH_MS:  # keep the step inside its time limit: fewer queries
        questions = questions[:FEW_QUERIES]
        truth = {k: v[:FEW_QUERIES] for k, v in truth.items()}
        queries = {k: v[:FEW_QUERIES] for k, v in queries.items()}
    progress(f"milvus: searching (k=10, k=50, filtered; {len(questions)} questions)")
    times10, found10 = timed_search(search, questions, 10)
    times50, found50 = timed_search(search, questions, DEPTH)
    _, held = timed_search(search, queries["held_out"], 10)
    return {"queries": len(questions), "k10": latency(times10), "k50": latency(times50), "recall@10": recall(found10, truth["questions"], 10),
            "recall@10_held_out": recall(held, truth["held_out"], 10),
            "recall@50": recall(found50, truth["questions"], DEPTH),
            "scoped": scoped(client, truth, questions)}


def reopen(path: Path, query: np.ndarray) -> dict[str, float]:
    """What a restart costs: open the .db again and answer one question."""
    from pymilvus import MilvusClient

    start = time.perf_counter()
    client = MilvusClient(str(path))
    client.load_collection(COLLECTION)
    searcher(client)(query, 10)
    seconds = time.perf_counter() - start
    client.close()
    return {"open_load_first_search_s": seconds}


ANALYZERS = {  # what a Chinese full-text field could be declared with
    "jieba tokenizer": {"tokenizer": "jieba"},
    "built-in 'chinese' analyzer": {"type": "chinese"},
    "built-in 'standard' analyzer": {"type": "standard"},
}


def full_text(sentences: list[str], questions: list[str]) -> dict[str, Any]:
    """Can this Milvus Lite hold the BM25 side? A VARCHAR field with enable_analyzer=True, a BM25
    Function into a SPARSE_FLOAT_VECTOR field, searched with raw question text, per analyzer; where
    it works, how its top 10 overlaps the product's BM25Index (jieba Tokenizer) on the same clauses."""
    from pymilvus import MilvusClient

    from rag.indexing.lexical import BM25Index, Tokenizer

    path = CACHE / "milvus-fts.db"
    shutil.rmtree(path, ignore_errors=True)
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)  # the failures are recorded, not logged
    client = MilvusClient(str(path))
    tokenizer = Tokenizer()
    bm25 = BM25Index.build([tokenizer(s) for s in sentences])
    product = [[int(i) for i in np.argsort(-bm25.scores(tokenizer(q)), kind="stable")[:10]] for q in questions]
    out = {"sentences": len(sentences), "questions": len(questions), "analyzers": {}}
    for label, params in ANALYZERS.items():
        out["analyzers"][label] = _try_analyzer(client, params, sentences, questions, product)
        progress(f"milvus full text, {label}: {out['analyzers'][label]['result']}")
    client.close()
    shutil.rmtree(path, ignore_errors=True)
    return out


def _try_analyzer(client, params: dict, sentences: list[str], questions: list[str],
                  product: list[list[int]]) -> dict[str, Any]:
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    name = "fts_" + "".join(ch for ch in json.dumps(params) if ch.isalnum())
    step = "create"
    try:
        schema = MilvusClient.create_schema(auto_id=False)
        schema.add_field("pk", DataType.INT64, is_primary=True)
        schema.add_field("text", DataType.VARCHAR, max_length=4000, enable_analyzer=True, analyzer_params=params)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                     input_field_names=["text"], output_field_names=["sparse"]))
        index = client.prepare_index_params()
        index.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        if client.has_collection(name):
            client.drop_collection(name)
        client.create_collection(name, schema=schema, index_params=index)
        step = "insert"
        client.insert(name, [{"pk": i, "text": s} for i, s in enumerate(sentences)])
        client.flush(name)
        step = "search"
        times, overlaps, empty, scores = [], [], 0, []
        for q, mine in zip(questions, product, strict=True):
            start = time.perf_counter()
            hits = client.search(name, data=[q], anns_field="sparse", limit=10, output_fields=["pk"],
                                 search_params={"metric_type": "BM25"})[0]
            times.append((time.perf_counter() - start) * 1000)
            ids = [h.get("pk", h.get("id")) for h in hits]
            empty += not ids
            scores += [float(h["distance"]) for h in hits[:1]]
            overlaps.append(len(set(ids) & set(mine)) / 10)
        result = "works" if empty <= len(questions) // 10 else f"runs, but {empty} of {len(questions)} questions find nothing"
        return {"result": result,
                "params": params, "empty_results": empty, "top10_overlap_with_product_bm25": float(np.mean(overlaps)),
                "top1_score_example": scores[:3], **latency(times)}
    except Exception as exc:  # the point is to record whatever this build of Milvus Lite says
        return {"result": f"error at {step}", "params": params, "error": f"{type(exc).__name__}: {exc}"}
