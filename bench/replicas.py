"""Replicas under load, in one run on loopback: ``rag serve --workers 1`` against ``--workers 2``,
then the two workers again while another process (``rag index``, the single writer) publishes a
new index version every few seconds.

  .venv/bin/python -m bench.replicas                # about 3 minutes; docs/replicas.json, docs/replicas.png

The load comes from locust (bench/load/locustfile.py) on the same 2 cores as the servers: the numbers
are what this machine does with its own load generator, not what two free cores would serve.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.load.run import read_stats
from bench.measure import progress
from rag.surfaces.api_process import ServerProcess

ROOT = Path(__file__).resolve().parents[1]
NEW_DOCUMENT = ROOT / "tests" / "fixtures" / "layouts" / "three-level.txt"
OUT = ROOT / "docs"


def questions() -> list[str]:
    lines = (ROOT / "eval" / "questions.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def warm_up(url: str, asked: list[str], rounds: int = 4) -> None:
    """Ask every question ``rounds`` times on new connections, untimed, so that each worker's
    query-vector cache likely holds it (the state of servers that have been up a while)."""
    with httpx.Client(timeout=60, limits=httpx.Limits(max_keepalive_connections=0)) as http:
        for _ in range(rounds):
            for q in asked:
                http.post(url + "/v1/ask", json={"question": q}).raise_for_status()


def load(url: str, seconds: float, users: int, scratch: Path) -> dict[str, Any]:
    """locust headless (bench/load/locustfile.py, FastHttpUser, no pause): ``users`` users for
    ``seconds``, cycling through the eval questions; anything but a 200 with an answer is an error."""
    prefix = scratch / f"locust-{time.monotonic_ns()}"
    command = [str(Path(sys.executable).with_name("locust")), "-f", str(ROOT / "bench" / "load" / "locustfile.py"),
               "--headless", "--host", url, "-u", str(users), "-r", str(users), "-t", f"{seconds:.0f}s",
               "--csv", str(prefix), "--only-summary", "--stop-timeout", "5"]
    env = {**os.environ, "LOAD_QUESTIONS": str(ROOT / "eval" / "questions.jsonl")}
    subprocess.run(command, env=env, check=False, timeout=seconds + 60, capture_output=True)
    stats = read_stats(prefix)
    return {"requests": stats["requests"], "answers_per_s": stats["rps"], "p50_ms": stats["p50_ms"],
            "p95_ms": stats["p95_ms"], "p99_ms": stats["p99_ms"], "errors": stats["failures"]}


def worker_rss_mb(server: ServerProcess) -> list[float]:
    """Resident memory of each process that answers: the replicas (children named rag-replica's
    spawn), or the one server process."""
    import psutil

    parent = psutil.Process(server.proc.pid)
    replicas = [p for p in parent.children(recursive=True) if "spawn_main" in " ".join(p.cmdline())]
    return sorted(round(p.memory_info().rss / 2**20, 1) for p in (replicas or [parent]))


def publisher(where: list[str], corpus: Path, stop: threading.Event, every: float, done: list[float]) -> None:
    """The single writer: add the new document, publish, remove it, publish… (seconds per publish)."""
    target = corpus / NEW_DOCUMENT.name
    while not stop.wait(every):
        if target.exists():
            target.unlink()
        else:
            shutil.copy(NEW_DOCUMENT, target)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "rag.surfaces.cli", "index", *where], check=True,
                       capture_output=True, timeout=300)
        done.append(time.perf_counter() - start)


def versions_seen(url: str, tries: int = 40) -> dict[int, str]:
    seen: dict[int, str] = {}
    for _ in range(tries):
        ready = httpx.get(url + "/readyz", timeout=10).json()
        seen[ready["worker"]] = ready["version"]
    return seen


def run(seconds: float, clients: int, work: Path) -> dict[str, Any]:
    shutil.copytree(ROOT / "corpus", work / "corpus")
    if (ROOT / "index" / "cache").is_dir():  # the embeddings the bundled corpus needs, if built here before
        shutil.copytree(ROOT / "index" / "cache", work / "index" / "cache")
    where = ["--corpus", str(work / "corpus"), "--index", str(work / "index")]
    subprocess.run([sys.executable, "-m", "rag.surfaces.cli", "index", *where], check=True, timeout=900)
    asked = questions()
    rows = []
    for workers, switching in ((1, False), (2, False), (2, True)):
        label = f"{workers} worker{'s' if workers > 1 else ''}" + (", new index versions" if switching else "")
        progress(f"replicas: {label}: starting")
        with ServerProcess(["--workers", str(workers), "--rate-limit", "0", "--cache-size", "0",
                            "--queue", "256", "--queue-per-key", "256", *where],
                           cwd=ROOT, log=work / f"serve-{workers}-{switching}.log") as server:
            warm_up(server.url, asked)
            stop, publishes = threading.Event(), []
            writer = threading.Thread(target=publisher, args=(where, work / "corpus", stop, 1.0, publishes))
            if switching:
                writer.start()
            progress(f"replicas: {label}: {clients} locust users for {seconds:.0f} s")
            row = {"workers": workers, "switching": switching, "clients": clients, "seconds": seconds,
                   **load(server.url, seconds, clients, work), "rss_mb": worker_rss_mb(server)}
            stop.set()
            if switching:
                writer.join()
                row["publishes"] = len(publishes)
                row["publish_s"] = round(sum(publishes) / max(1, len(publishes)), 2)
                row["versions_after"] = len(set(versions_seen(server.url).values()))
            rows.append(row)
            progress(f"replicas: {label}: {row['answers_per_s']:.1f} answers/s, p50 {row['p50_ms']:.1f} ms, "
                     f"p95 {row['p95_ms']:.1f} ms, {row['errors']} errors")
    return {"rows": rows, "cpus": os.cpu_count() or 1}


def table(result: dict[str, Any]) -> str:
    lines = ["| workers | index versions published | answers/s | p50 ms | p95 ms | errors | RSS per worker MB |",
             "|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        published = f"{r['publishes']} (each as soon as the last was done)" if r["switching"] else "none"
        lines.append(f"| {r['workers']} | {published} | {r['answers_per_s']:.1f} | {r['p50_ms']:.1f} | "
                     f"{r['p95_ms']:.1f} | {r['errors']} | {', '.join(f'{m:.0f}' for m in r['rss_mb'])} |")
    return "\n".join(lines)


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["rows"]
    labels = [f"{r['workers']} worker{'s' if r['workers'] > 1 else ''}" + ("\n+ new versions" if r["switching"] else "")
              for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    left.bar(labels, [r["answers_per_s"] for r in rows], color="#4c72b0")
    left.set_ylabel("answers / s")
    right.bar(labels, [r["p95_ms"] for r in rows], color="#dd8452", label="p95")
    right.bar(labels, [r["p50_ms"] for r in rows], color="#55a868", label="p50")
    right.set_ylabel("ms")
    right.legend()
    fig.suptitle(f"rag serve on {result['cpus']} cores, {rows[0]['clients']} local clients (loopback)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=30.0, help="load per configuration (default: 30)")
    p.add_argument("--clients", type=int, default=8, help="locust users, no pause between requests (default: 8)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="replicas-") as tmp:
        result = run(args.seconds, args.clients, Path(tmp))
    (OUT / "replicas.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", "utf-8")
    plot(result, OUT / "replicas.png")
    print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
