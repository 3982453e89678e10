"""The benchmark's figures (matplotlib, PNG), drawn from the results of one run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _save(fig, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def side_by_side(kinds: list[str], recipe_ev5: list[float], ours_acc: list[float], path: Path) -> str:
    fig, ax = plt.subplots(figsize=(9, 3.8))
    x = range(len(kinds))
    ax.bar([i - 0.2 for i in x], [v * 100 for v in recipe_ev5], 0.4, label="recipe: evidence in top-5 chunks")
    ax.bar([i + 0.2 for i in x], [v * 100 for v in ours_acc], 0.4, label="ours: answer correct")
    ax.set_xticks(list(x), kinds, rotation=30, ha="right")
    ax.set_ylabel("% of questions")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=8)
    ax.set_ylim(0, 118)
    ax.set_title("Eval set by question kind")
    return _save(fig, path)


def _log_axes(ax, xlabel: str, ylabel: str, title: str, legend_size: int = 7) -> None:
    """Log-log axes with labels, title and a small legend: the scale plots all look alike."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=legend_size)


def scale_latency(scale: list[dict[str, Any]], path: Path) -> str:
    sizes = [s["build"]["size"] for s in scale]
    fig, ax = plt.subplots(figsize=(7, 4))
    total = [s["serve"]["stages_ms"]["total"] for s in scale]
    ax.plot(sizes, [t["p50"] for t in total], "o-", label="search p50 (all stages)")
    ax.plot(sizes, [t["p95"] for t in total], "o--", label="search p95 (all stages)")
    for stage in ("embed", "dense", "bm25", "fusion"):
        ax.plot(sizes, [s["serve"]["stages_ms"][stage]["p50"] for s in scale], ".:", label=f"{stage} p50")
    ax.axhline(50, color="grey", lw=0.8)
    ax.text(sizes[0], 52, "50 ms", color="grey", fontsize=8)
    _log_axes(ax, "clauses in the index", "ms per query", "Query latency against corpus size", legend_size=7)
    return _save(fig, path)


def scale_build(scale: list[dict[str, Any]], extrapolated_embed_s: list[float], path: Path) -> str:
    sizes = [s["build"]["size"] for s in scale]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    t = [s["build"]["timings"] for s in scale]
    for key, label in (("tokenize_s", "tokenize (memoized jieba)"), ("bm25_s", "BM25 build"),
                       ("faiss_s", "FAISS build"), ("write_s", "whole index write")):
        ax.plot(sizes, [max(x.get(key, 0), 1e-3) for x in t], "o-", label=label)
    ax.plot(sizes, extrapolated_embed_s, "k--", label="embedding (measured rate, extrapolated)")
    _log_axes(ax, "clauses", "seconds", "Build time", legend_size=7)
    for part in ("chunks.json", "vectors.faiss", "bm25"):
        ax2.plot(sizes, [s["build"]["disk_bytes"].get(part, 0) / 2**20 for s in scale], "o-", label=part)
    ax2.plot(sizes, [s["serve"]["serving_rss_mb"] for s in scale], "k--", label="serving RSS")
    _log_axes(ax2, "clauses", "MiB", "Index on disk, memory to serve", legend_size=7)
    return _save(fig, path)


def flat_vs_hnsw(rows: list[tuple[int, float | None, float | None]], path: Path) -> str:
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for col, label in ((1, "flat (exact)"), (2, "HNSW M=32")):
        pts = [(r[0], r[col]) for r in rows if r[col] is not None]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=label)
    _log_axes(ax, "vectors", "ms per search (p50, depth 50)", "Dense search: flat against HNSW", legend_size=8)
    return _save(fig, path)
