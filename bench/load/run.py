"""Bounded load test of the HTTP API on loopback: starts `rag serve`, runs locust headless, writes a
summary. Every run stops by itself (≤ 60 s of load); the server is stopped afterwards.

  .venv/bin/python bench/load/run.py --scenario nocache    # answer cache off (the headline number)
  .venv/bin/python bench/load/run.py --scenario cache      # answer cache on: what repeated questions gain
  .venv/bin/python bench/load/run.py --scenario cold       # answer cache off, no warm-up pass

Scenarios other than `cold` first ask every question once, untimed: the embedder's query-vector cache
(in the core) then holds them, as on a server that has been up for a while; with `cache` the answer
cache holds them too. Results go to bench/load/results/<scenario>-<time>.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from rag.surfaces.api_process import ServerProcess

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
KEY = "load-test-key-0123456789"
SCENARIOS = {"nocache": ("0", True), "cache": ("4096", True), "cold": ("0", False)}  # cache size, warm-up


def machine() -> dict[str, object]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "loadavg_before": os.getloadavg()[0]}


def warm_up(url: str, questions: list[str]) -> float:
    started = time.perf_counter()
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}, timeout=60) as client:
        for question in questions:
            client.post("/v1/ask", json={"question": question}).raise_for_status()
    return time.perf_counter() - started


def read_stats(prefix: Path) -> dict[str, float]:
    with open(f"{prefix}_stats.csv", encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["Name"] == "/v1/ask")
    return {"requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
            "rps": float(row["Requests/s"]), "p50_ms": float(row["50%"]), "p95_ms": float(row["95%"]),
            "p99_ms": float(row["99%"]), "max_ms": float(row["Max Response Time"]),
            "avg_ms": float(row["Average Response Time"])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=SCENARIOS, default="nocache")
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--rate", type=float, default=0.0, help="requests a second per user; 0 = no pause (saturation)")
    parser.add_argument("--seconds", type=int, default=40)
    parser.add_argument("--questions", type=Path, default=ROOT / "eval" / "questions.jsonl")
    args = parser.parse_args()
    if not 1 <= args.seconds <= 60:
        parser.error("--seconds must be 1..60")
    cache_size, warm = SCENARIOS[args.scenario]
    questions = [json.loads(line)["question"] for line in args.questions.read_text("utf-8").splitlines() if line.strip()]
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    scratch = Path(tempfile.mkdtemp(prefix="rag-load-"))  # locust CSVs and the server log
    prefix = scratch / args.scenario
    info = machine()
    server_args = ["--cache-size", cache_size, "--rate-limit", "100000"]  # limiter on, never reached
    with ServerProcess(server_args, env={"RAG_API_KEYS": KEY}, cwd=ROOT, log=scratch / "serve.log") as server:
        warm_seconds = warm_up(server.url, questions) if warm else 0.0
        locust = [str(Path(sys.executable).with_name("locust")), "-f", str(HERE / "locustfile.py"), "--headless",
                  "--host", server.url, "-u", str(args.users), "-r", str(args.users), "-t", f"{args.seconds}s",
                  "--csv", str(prefix), "--only-summary", "--stop-timeout", "5"]
        env = {**os.environ, "LOAD_KEY": KEY, "LOAD_RATE": str(args.rate), "LOAD_QUESTIONS": str(args.questions)}
        subprocess.run(locust, env=env, check=False, timeout=args.seconds + 60, capture_output=True)
    stats = read_stats(prefix)
    shutil.rmtree(scratch)
    result = {
        "scenario": args.scenario, "answer_cache": int(cache_size), "warm_up_pass": warm,
        "warm_up_seconds": round(warm_seconds, 1), "distinct_questions": len(questions),
        "users": args.users, "rate_per_user": args.rate, "seconds": args.seconds, **stats,
        "machine": {**info, "loadavg_after": os.getloadavg()[0]},
        "command": " ".join(["bench/load/run.py", *sys.argv[1:]]), "when": stamp,
    }
    (out / f"{args.scenario}-{stamp}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print(f"| {args.scenario} | {stats['rps']:.1f} | {stats['p50_ms']:.0f} | {stats['p95_ms']:.0f} | "
          f"{stats['p99_ms']:.0f} | {stats['failures']}/{stats['requests']} | "
          f"{info['loadavg_before']:.1f} → {result['machine']['loadavg_after']:.1f} |")
    return 0 if stats["failures"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
