"""The refusal gate: does the best evidence found answer a topic question, or is the document silent?

The decision is a logistic model over scores the answerer computes anyway (how much of the
question the evidence covers, whether the corpus uses the question's words at all, how closely the
task's title and the nearest passage match), fitted on the evaluation sets with cross-validation by
``scripts/fit_gate.py``. Its coefficients live in ``rag/data/gate.json`` (JSON, never pickle) with
the sets and the cross-validated figures they came from; the code here only reads them.
"""

from __future__ import annotations

import json
import math
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from importlib import resources

# The scores the gate reads, in the order of the stored coefficients.
FEATURES = (
    "support",  # share of the question's content bigrams that the best evidence holds
    "known_share",  # share of them that the corpus uses anywhere (0: none)
    "support_x_known",  # the two together: weak support of words the corpus knows is still support
    "idf_support",  # the same share weighted by rarity: 「主线」 counts more than 「安全」
    "title",  # how much of the task's topical title the question names
    "dense_top",  # cosine of the question with the nearest passage retrieved
    "dense_gap",  # how much nearer that passage is than the task's best one (all of it: not retrieved)
    "log_grams",  # how much the question says: log(1 + content bigrams)
    "outside_tasks",  # 1 when the evidence is the text around the tasks (aims, principles), which has no title
    "support_outside",  # support there: that text is short, and its few sentences must cover the question
)

def gate_features(support: float, known_share: float, idf_support: float, title: float, dense_top: float,
                  dense_gap: float, log_grams: float, outside_tasks: bool) -> dict[str, float]:
    """The gate's inputs from the scores the answerer computes, with the two products it also reads."""
    return {"support": support, "known_share": known_share, "support_x_known": support * known_share,
            "idf_support": idf_support, "title": title, "dense_top": dense_top, "dense_gap": dense_gap,
            "log_grams": log_grams, "outside_tasks": float(outside_tasks),
            "support_outside": support * float(outside_tasks)}


# Set by the fitting script to collect the gate's inputs question by question, for the task the
# answer would cite and for the other tasks retrieved (which mostly do not answer: the negatives a
# gate learns most from); None in service.
TRACE: ContextVar[list[tuple[tuple[str, str, int | None], dict[str, float]]] | None] = ContextVar("gate_trace", default=None)


@dataclass(frozen=True)
class GateModel:
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float  # answer when the probability of "answerable" is at least this

    def probability(self, features: dict[str, float]) -> float:
        z = self.intercept + sum(
            c * (features[name] - m) / s
            for name, m, s, c in zip(FEATURES, self.mean, self.scale, self.coef, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def answers(self, features: dict[str, float]) -> bool:
        return self.probability(features) >= self.threshold

    @classmethod
    def from_json(cls, raw: dict) -> GateModel:
        if tuple(raw["features"]) != FEATURES:
            raise ValueError("gate.json was fitted on other features; run scripts/fit_gate.py")
        return cls(tuple(raw["mean"]), tuple(raw["scale"]), tuple(raw["coef"]), float(raw["intercept"]),
                   float(raw["threshold"]))


@cache
def gate_model() -> GateModel:
    raw = json.loads(resources.files("rag.data").joinpath("gate.json").read_text("utf-8"))
    return GateModel.from_json(raw)
