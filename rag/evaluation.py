"""Scoring answers against the evaluation set, by question kind."""

from __future__ import annotations

import json
import re
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
    # Many documents (eval/multi-*.jsonl): the document and task the first citation must be,
    # every document that may be cited, the complete [doc_id, path] set of a listing, the
    # documents a clarify answer must offer, and the `docs` parameter the question is asked with.
    doc: str | None = None
    path: str | None = None
    docs_cited: tuple[str, ...] = ()
    tasks: tuple[tuple[str, str], ...] = ()
    candidates: tuple[str, ...] = ()
    must_not_contain: tuple[str, ...] = ()
    scope: tuple[str, ...] | None = None
    history: tuple[str, ...] = ()  # questions asked before this one in the same chat, not judged


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

    wrong_document: int = 0  # answers citing a document that does not answer the question

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.correct]


def _case(raw: dict[str, Any]) -> Case:
    return Case(
        id=str(raw["id"]), question=str(raw["question"]), kind=str(raw.get("kind", "fact")),
        items=tuple(int(i) for i in raw.get("items", [])),
        must_contain=tuple(raw.get("must_contain", [])), refused=bool(raw.get("refused", False)),
        turns=tuple(_case({"id": f"{raw['id']}.{n}", **t}) for n, t in enumerate(raw.get("turns", []), 1)),
        doc=raw.get("doc"), path=raw.get("path"), docs_cited=tuple(raw.get("docs_cited") or ()),
        tasks=tuple((str(d), str(p)) for d, p in raw.get("tasks") or ()),
        candidates=tuple(raw.get("candidates") or ()), must_not_contain=tuple(raw.get("must_not_contain") or ()),
        scope=tuple(raw["scope"]) if raw.get("scope") else None,
        history=tuple(str(q) for q in raw.get("history") or ()),
    )


def materialize(manifest: Path, dest: Path) -> Path:
    """Copy the files a corpus manifest names ({doc_id: path relative to the manifest}) into
    ``dest``, keeping each doc_id as the path; files already there with the same bytes stay."""
    try:
        entries = json.loads(manifest.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise RagError(f"cannot read corpus manifest {manifest}: {exc}") from None
    wanted = {doc_id: manifest.parent / src for doc_id, src in entries.items() if not doc_id.startswith("_")}
    for doc_id, src in wanted.items():
        if not src.is_file():
            raise RagError(f"{manifest}: {doc_id} names a missing file {src}")
        target = dest / doc_id
        data = src.read_bytes()
        if not target.is_file() or target.read_bytes() != data:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_bytes(data)
            tmp.replace(target)
    for stale in [p for p in dest.rglob("*") if p.is_file() and p.relative_to(dest).as_posix() not in wanted]:
        stale.unlink()
    return dest


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
        text = (source_text(c["doc_id"]) if c.get("doc_id") else None) or source_text(c["doc"])
        if text is None or c["quote"] not in text:
            reasons.append(f"quote not in source: {c['quote'][:30]}")
    if case.refused or answer["refused"]:
        return reasons
    for s in case.must_contain:
        if not any(form in answer["answer"] for form in _forms(s)):
            reasons.append(f"answer lacks {s!r}")
    for s in case.must_not_contain:
        if s in answer["answer"]:
            reasons.append(f"answer has {s!r}")
    if case.kind == "clarify" or answer["kind"] == "clarify":
        offered = {c["doc_id"] for c in answer.get("candidates", [])}
        if case.kind != "clarify":
            reasons.append("asked which document where the question names one")
        elif answer["kind"] != "clarify" or not set(case.candidates) <= offered:
            reasons.append(f"clarify should offer {sorted(case.candidates)}, offered {sorted(offered)}")
        return reasons
    if case.doc or case.docs_cited or case.tasks:
        reasons += _judge_documents(case, answer)
        return reasons
    if case.kind in SET_KINDS:
        got = sorted({i for i in cited if i is not None})
        if got != sorted(case.items):
            reasons.append(f"items {got} != expected {sorted(case.items)}")
    elif case.items:
        if not cited or cited[0] != case.items[0]:
            reasons.append(f"first cited item {cited[:1]} != expected {case.items[0]}")
    return reasons


def _forms(expected: str) -> tuple[str, ...]:
    """A count of tasks may be written with either measure word (「9项」 is 「9条」): the fact is the number."""
    m = re.fullmatch(r"(共?)(\d+)[项条]", expected)
    return (expected,) if m is None else (f"{m.group(1)}{m.group(2)}项", f"{m.group(1)}{m.group(2)}条")


def wrong_documents(case: Case, answer: dict[str, Any]) -> list[str]:
    """Documents the answer cites that the case does not allow."""
    allowed = set(case.docs_cited) | ({case.doc} if case.doc else set()) | {d for d, _ in case.tasks}
    if not allowed or case.kind == "documents":
        return []
    return sorted({c.get("doc_id", "") for c in answer["citations"]} - allowed)


def _judge_documents(case: Case, answer: dict[str, Any]) -> list[str]:
    reasons = []
    citations = answer["citations"]
    wrong = wrong_documents(case, answer)
    if wrong:
        reasons.append(f"cites other documents: {wrong}")
    if case.tasks:
        got = {(c.get("doc_id"), c.get("path")) for c in citations if c.get("path")}
        if got != set(case.tasks):
            missing, extra = set(case.tasks) - got, got - set(case.tasks)
            reasons.append(f"tasks: missing {sorted(missing)[:5]}, extra {sorted(extra)[:5]}")
        return reasons
    if case.kind == "documents":
        return reasons
    if case.doc and (not citations or citations[0].get("doc_id") != case.doc):
        reasons.append(f"first citation from {citations[0].get('doc_id') if citations else None}, expected {case.doc}")
    elif case.path and citations[0].get("path") != case.path:
        reasons.append(f"first cited task {citations[0].get('path')}, expected {case.path}")
    missing_docs = set(case.docs_cited) - {c.get("doc_id") for c in citations}
    if missing_docs:
        reasons.append(f"does not cite {sorted(missing_docs)}")
    return reasons


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def evaluate(
    ask: Callable[..., Answer], cases: Iterable[Case],
    source_text: Callable[[str], str | None],
    ranked_items: Callable[[str], list[int]] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Report:
    outcomes: list[Outcome] = []
    latencies: list[float] = []
    for case in cases:
        history: list[dict[str, Any]] = []
        for earlier in case.history:
            history.append(ask(earlier, history, list(case.scope)) if case.scope else ask(earlier, history))
            history[-1] = history[-1].to_dict()
        for turn in case.turns or (case,):
            scope = turn.scope or case.scope
            answer = (ask(turn.question, history, list(scope)) if scope else ask(turn.question, history)).to_dict()
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
    report.wrong_document = sum(bool(wrong_documents(o.case, o.answer)) for o in outcomes if not o.answer["refused"])
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
    if any(o.case.doc or o.case.docs_cited or o.case.tasks for o in report.outcomes):
        lines.append(f"answers citing a document that does not answer: {report.wrong_document}")
    lines.append(f"latency p50 {report.latency_p50:.1f} ms   p95 {report.latency_p95:.1f} ms")
    if report.retrieval and report.retrieval.get("n"):
        r = report.retrieval
        lines.append(f"retrieval on item numbers (n={r['n']}): hit@1 {r['hit@1']:.1%}  hit@5 {r['hit@5']:.1%}  MRR {r['mrr']:.3f}")
    return "\n".join(lines)
