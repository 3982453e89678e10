"""Number formatting for BENCHMARKS.md."""

from __future__ import annotations


def rate(rows: list[dict], key: str) -> tuple[float | None, int]:
    vals = [r[key] for r in rows if key in r]
    return (sum(vals) / len(vals) if vals else None), len(vals)


def pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.1%}"


def ms(v: float) -> str:
    return f"{v:.1f} ms" if v < 100 else f"{v:.0f} ms"


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.2f}×"


def pair(row: dict[str, float] | None) -> str:
    return f"{ms(row['p50'])} / {ms(row['p95'])}" if row else "—"


def mib(b: float) -> str:
    return f"{b / 2**20:,.1f} MiB" if b < 2**30 else f"{b / 2**30:.2f} GiB"
