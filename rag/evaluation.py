"""Scoring answers against the evaluation set, by question kind."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import RagError
from rag.types import Answer

SET_KINDS = ("department", "list", "section")


@dataclass(frozen=True)
class Case:
    id: str
    question: str
    kind: str
    items: tuple[int, ...]
    must_contain: tuple[str, ...]
    refused: bool
    turns: tuple[Case, ...] = ()  # a conversation: the case is its turns, asked in order


@dataclass
class Outcome:
    case: Case
    answer: dict[str, Any]
    correct: bool
    reasons: list[str]


@dataclass
class Report:
    outcomes: list[Outcome]
    by_kind: dict[str, dict[str, float]] = field(default_factory=dict)
    overall: float = 0.0
    oos_refused: float = 0.0
    wrongly_refused: float = 0.0
    quotes_verified: bool = True
    latency_p50: float = 0.0
    latency_p95: float = 0.0
    retrieval: dict[str, float] = field(default_factory=dict)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.correct]


def _case(raw: dict[str, Any]) -> Case:
    return Case(
        id=str(raw["id"]), question=str(raw["question"]), kind=str(raw.get("kind", "fact")),
        items=tuple(int(i) for i in raw.get("items", [])),
        must_contain=tuple(raw.get("must_contain", [])), refused=bool(raw.get("refused", False)),
        turns=tuple(_case({"id": f"{raw['id']}.{n}", **t}) for n, t in enumerate(raw.get("turns", []), 1)),
    )


def load_cases(path: Path) -> list[Case]:
    if not path.exists():
        raise RagError(f"evaluation file not found: {path}")
    cases = []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            cases.append(_case(json.loads(line) | ({"question": ""} if "turns" in line else {})))
        except (ValueError, KeyError, TypeError) as exc:
            raise RagError(f"{path}:{n}: not a valid evaluation case ({type(exc).__name__}: {exc})") from None
    return cases


def judge(case: Case, answer: dict[str, Any], source_text: Callable[[str], str | None]) -> list[str]:
    """Reasons the answer is wrong (empty when right)."""
    reasons = []
    if answer["refused"] != case.refused:
        reasons.append(f"refused={answer['refused']}, expected {case.refused}")
    cited = [c["item"] for c in answer["citations"]]
    for c in answer["citations"]:
        text = source_text(c["doc"])
        if text is None or c["quote"] not in text:
            reasons.append(f"quote not in source: {c['quote'][:30]}")
    if case.refused or answer["refused"]:
        return reasons
    for s in case.must_contain:
        if s not in answer["answer"]:
            reasons.append(f"answer lacks {s!r}")
    if case.kind in SET_KINDS:
        got = sorted({i for i in cited if i is not None})
        if got != sorted(case.items):
            reasons.append(f"items {got} != expected {sorted(case.items)}")
    elif case.items:
        if not cited or cited[0] != case.items[0]:
            reasons.append(f"first cited item {cited[:1]} != expected {case.items[0]}")
    return reasons


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def evaluate(
    ask: Callable[[str, list[dict[str, Any]]], Answer], cases: Iterable[Case],
    source_text: Callable[[str], str | None],
    ranked_items: Callable[[str], list[int]] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Report:
    outcomes: list[Outcome] = []
    latencies: list[float] = []
    for case in cases:
        history: list[dict[str, Any]] = []
        for turn in case.turns or (case,):
            answer = ask(turn.question, history).to_dict()
            latencies.append(answer["latency_ms"])
            history.append(answer)
            reasons = judge(turn, answer, source_text)
            outcomes.append(Outcome(turn, answer, not reasons, reasons))
        if progress:
            progress(1)
    report = Report(outcomes)
    kinds: dict[str, list[Outcome]] = {}
    for o in outcomes:
        kinds.setdefault(o.case.kind, []).append(o)
    report.by_kind = {
        k: {"n": len(v), "correct": sum(o.correct for o in v), "accuracy": sum(o.correct for o in v) / len(v)}
        for k, v in sorted(kinds.items())
    }
    report.overall = sum(o.correct for o in outcomes) / max(1, len(outcomes))
    oos = [o for o in outcomes if o.case.refused]
    answerable = [o for o in outcomes if not o.case.refused]
    report.oos_refused = sum(o.answer["refused"] for o in oos) / max(1, len(oos))
    report.wrongly_refused = sum(o.answer["refused"] for o in answerable) / max(1, len(answerable))
    report.quotes_verified = not any(r.startswith("quote not in source") for o in outcomes for r in o.reasons)
    report.latency_p50, report.latency_p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    if ranked_items:
        report.retrieval = retrieval_metrics(
            [o.case for o in outcomes if o.case.items and o.case.kind not in SET_KINDS and not o.case.turns],
            ranked_items,
        )
    return report


def retrieval_metrics(cases: list[Case], ranked_items: Callable[[str], list[int]]) -> dict[str, float]:
    hit1 = hit5 = rr = 0.0
    for case in cases:
        ranking = ranked_items(case.question)
        target = case.items[0]
        if ranking[:1] == [target]:
            hit1 += 1
        if target in ranking[:5]:
            hit5 += 1
        if target in ranking:
            rr += 1 / (ranking.index(target) + 1)
    n = max(1, len(cases))
    return {"n": len(cases), "hit@1": hit1 / n, "hit@5": hit5 / n, "mrr": rr / n}


def format_report(report: Report) -> str:
    lines = [f"{'kind':<14}{'n':>5}{'correct':>9}{'accuracy':>10}"]
    for kind, row in report.by_kind.items():
        lines.append(f"{kind:<14}{row['n']:>5}{row['correct']:>9}{row['accuracy']:>10.1%}")
    total = len(report.outcomes)
    lines.append(f"{'overall':<14}{total:>5}{sum(o.correct for o in report.outcomes):>9}{report.overall:>10.1%}")
    lines.append("")
    lines.append(f"out-of-scope refused: {report.oos_refused:.1%}   answerable wrongly refused: {report.wrongly_refused:.1%}")
    lines.append(f"quotes verified as exact substrings: {'yes' if report.quotes_verified else 'NO'}")
    lines.append(f"latency p50 {report.latency_p50:.1f} ms   p95 {report.latency_p95:.1f} ms")
    if report.retrieval:
        r = report.retrieval
        lines.append(f"retrieval on item numbers (n={r['n']}): hit@1 {r['hit@1']:.1%}  hit@5 {r['hit@5']:.1%}  MRR {r['mrr']:.3f}")
    return "\n".join(lines)
