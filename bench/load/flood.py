"""A heavy key against a light one, on loopback: does the light key's p95 stay within 2× its idle
value while the heavy key sends long questions as fast as it may?

  .venv/bin/python bench/load/flood.py [--seconds 20]

Starts `rag serve` with its default limits and two reader keys. Phase 1 (idle): the light key asks
short questions one at a time, 0.2 s apart. Phase 2 (flood): the same, while the heavy key sends
distinct 500-character questions from 8 threads without pause (its 429 and 503 answers are
counted). Every run stops by itself; the server is stopped afterwards. The result goes to
bench/load/results/flood-<time>.json and a line per phase to standard output.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx

from rag.surfaces.api_process import ServerProcess

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LIGHT, HEAVY = "flood-light-key-0123456789", "flood-heavy-key-0123456789"
SHORT = ("燃气安全由谁牵头?", "校园安全谁负责?", "危化品的配合单位有哪些?", "双控机制建设什么时候完成?")
FILLER = "我们单位最近在梳理安全生产工作台账,领导要求把每一项任务的牵头单位和配合单位都弄清楚,"


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


def light_client(url: str, seconds: float) -> list[float]:
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {LIGHT}"}, timeout=30) as client:
        n = 0
        while time.monotonic() < deadline:
            started = time.perf_counter()
            r = client.post("/v1/ask", json={"question": SHORT[n % len(SHORT)] + " " * (n % 9)})
            if r.status_code == 200:
                latencies.append((time.perf_counter() - started) * 1000)
            n += 1
            time.sleep(0.2)
    return latencies


def heavy_client(url: str, stop: threading.Event, counts: dict[int, int], lock: threading.Lock, seed: int) -> None:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {HEAVY}"}, timeout=60) as client:
        n = 0
        while not stop.is_set():
            n += 1
            question = (FILLER * 12)[: 480] + f"第{seed}-{n}个问题:燃气安全由谁牵头?"
            try:
                code = client.post("/v1/ask", json={"question": question}).status_code
            except httpx.HTTPError:
                code = 0
            with lock:
                counts[code] = counts.get(code, 0) + 1
            if code in (429, 503):
                time.sleep(0.05)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase (default 20)")
    args = parser.parse_args()
    env = {"RAG_API_KEYS": f"{LIGHT},{HEAVY}"}
    with ServerProcess(["--cache-size", "0"], env=env, cwd=ROOT) as srv:
        for q in SHORT:  # warm the query-vector cache for the light key's questions
            httpx.post(f"{srv.url}/v1/ask", json={"question": q}, headers={"Authorization": f"Bearer {LIGHT}"})
        print(f"idle phase: {args.seconds:.0f} s", file=sys.stderr)
        idle = light_client(srv.url, args.seconds)
        stop, lock, counts = threading.Event(), threading.Lock(), {}
        heavy = [threading.Thread(target=heavy_client, args=(srv.url, stop, counts, lock, i)) for i in range(8)]
        for t in heavy:
            t.start()
        print(f"flood phase: {args.seconds:.0f} s", file=sys.stderr)
        try:
            flooded = light_client(srv.url, args.seconds)
        finally:
            stop.set()
            for t in heavy:
                t.join(timeout=90)
    result = {
        "idle": {"n": len(idle), "p50_ms": statistics.median(idle), "p95_ms": percentile(idle, 0.95)},
        "flood": {"n": len(flooded), "p50_ms": statistics.median(flooded), "p95_ms": percentile(flooded, 0.95)},
        "heavy_status_counts": {str(k): v for k, v in sorted(counts.items())},
        "seconds_per_phase": args.seconds,
    }
    result["p95_ratio"] = result["flood"]["p95_ms"] / result["idle"]["p95_ms"]
    out = HERE / "results" / f"flood-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n", "utf-8")
    for phase in ("idle", "flood"):
        r = result[phase]
        print(f"{phase:5}  light key n={r['n']:3}  p50 {r['p50_ms']:6.1f} ms  p95 {r['p95_ms']:6.1f} ms")
    print(f"heavy key: {result['heavy_status_counts']}  p95 flood/idle = {result['p95_ratio']:.2f}  → {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
