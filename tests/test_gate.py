"""The refusal gate: a logistic model fitted on the evaluation sets (scripts/fit_gate.py), read from
rag/data/gate.json. These tests hold the stored model to what the answerer computes and to the
direction the evidence should push it."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from rag.answering.gate import FEATURES, TRACE, GateModel, gate_features, gate_model


def _features(**given: float) -> dict[str, float]:
    base = {"support": 0.0, "known_share": 0.0, "idf_support": 0.0, "title": 0.0, "dense_top": 0.0,
            "dense_gap": 0.0, "log_grams": 0.0, "outside_tasks": False}
    return gate_features(**{**base, **given})


def test_the_stored_model_is_json_for_the_features_the_answerer_computes():
    raw = json.loads(resources.files("rag.data").joinpath("gate.json").read_text("utf-8"))
    assert tuple(raw["features"]) == FEATURES
    assert 0.0 < raw["threshold"] < 1.0 and raw["cross_validation"]["folds"] == 5
    assert set(raw["training"]["never_fitted_on"]) >= {"multi-heldout.jsonl", "heldout-helpdesk.jsonl"}
    assert not set(raw["training"]["sets"]) & set(raw["training"]["never_fitted_on"])
    with pytest.raises(ValueError, match="other features"):
        GateModel.from_json({**raw, "features": raw["features"][:-1]})


def test_evidence_that_covers_the_question_is_answered_and_none_is_refused():
    gate = gate_model()
    full = _features(support=1.0, known_share=1.0, idf_support=1.0, title=1.0, dense_top=0.9, log_grams=1.5)
    assert gate.answers(full)
    nothing = _features(support=0.0, known_share=0.0, dense_top=0.8, dense_gap=0.1, log_grams=1.5)
    assert not gate.answers(nothing)
    # more of the question covered never lowers the odds, all else equal
    weak, strong = (_features(support=s, known_share=1.0, idf_support=s, dense_top=0.85, log_grams=1.5)
                    for s in (0.2, 0.8))
    assert gate.probability(strong) > gate.probability(weak)


def test_the_answerer_asks_the_gate_with_every_feature(service):
    trace: list = []
    token = TRACE.set(trace)
    try:
        service.ask("液化气里头掺了什么东西要查?")
        service.ask("养老金什么时候上调?")
    finally:
        TRACE.reset(token)
    assert trace, "topic questions reach the gate"
    for _key, features in trace:
        assert set(features) == set(FEATURES)
