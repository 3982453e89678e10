"""Answering is stateless: one Service shared by many threads gives each question the answer it
gives alone. (Before, the Answerer kept a question's working state on itself, and a question
answered while another was in flight could take the other's evidence gates.)"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from conftest import ROOT


def _questions() -> list[str]:
    out = []
    for name in ("questions", "blind2", "blind3", "blind4", "blind5"):
        with open(ROOT / "eval" / f"{name}.jsonl", encoding="utf-8") as f:
            out += [json.loads(line)["question"] for line in f if line.strip()]
    return out


def _comparable(answer) -> dict:
    out = answer.to_dict()
    out.pop("latency_ms")
    return out


def test_many_threads_give_the_single_threaded_answers(service):
    questions = _questions()
    assert len(questions) > 300
    alone = [_comparable(service.ask(q)) for q in questions]
    # Each thread answers the whole list from its own starting point, so that different
    # questions are in flight together.
    step = len(questions) // 8
    orders = [questions[i * step :] + questions[: i * step] for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(lambda qs: {q: _comparable(service.ask(q)) for q in qs}, orders))
    expected = dict(zip(questions, alone, strict=True))
    changed = [q for answers in together for q, a in answers.items() if a != expected[q]]
    assert changed == []
