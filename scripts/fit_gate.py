"""Fit the refusal gate (rag/answering/gate.py) on the evaluation sets and store it as JSON.

    .venv/bin/python scripts/fit_gate.py            # collect, cross-validate, write rag/data/gate.json
    .venv/bin/python scripts/fit_gate.py --check    # refit, write nothing; exit 1 if it decides unlike the stored one

Every question of the training sets is answered with the stored gate; each time the answerer asks
the gate, its inputs are recorded with the question's label (answerable, or a question the documents
do not answer). A logistic regression over the standardised inputs is fitted with 5-fold
cross-validation grouped by question; the regularisation is chosen on the folds (AUC), and the
threshold on the out-of-fold probabilities of the calls that decided an answer (see _threshold). The sets never used for fixing (multi-heldout, heldout-helpdesk, heldout-helpdesk2) are
left out. ``--bootstrap`` collects with the hand-set rule the model replaced (support 0.34, known
words 0.6, floor 0.15), for a first fit or after the features change.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.answering import answer as answer_module  # noqa: E402
from rag.answering.gate import FEATURES, TRACE, GateModel, gate_model  # noqa: E402
from rag.evaluation import evaluate, load_cases, materialize  # noqa: E402
from rag.service import Service  # noqa: E402

SEED_SETS = ("questions.jsonl", "heldout.jsonl", "blind2.jsonl", "blind3.jsonl", "blind4.jsonl", "blind5.jsonl",
             "blind6.jsonl", "blind7.jsonl", "blind8.jsonl", "blind9.jsonl", "conversations.jsonl", "conversations2.jsonl")
MULTI_SETS = ("multi-a.jsonl", "multi-b.jsonl")
NEVER = ("multi-heldout.jsonl", "heldout-helpdesk.jsonl", "heldout-helpdesk2.jsonl", "heldout-helpdesk3.jsonl")  # never fitted on
WRONG_TASK_GAIN = 0.25
GATE_FILE = ROOT / "rag" / "data" / "gate.json"


class BootstrapGate:
    """The hand-set rule the fitted gate replaced, used only to collect a first training set."""

    def answers(self, f: dict[str, float]) -> bool:
        if f["known_share"] == 0.0 and f["support"] < 0.34:
            return False
        return not (f["support"] < 0.34 and (f["known_share"] < 0.6 or f["support"] < 0.15))


def label(case, key) -> int | None:
    """1 when the task answers the case's question, 0 when it does not, None when the case does not say."""
    doc_id, path, number = key
    if case.refused:
        return 0
    if case.doc is not None:
        return int(doc_id == case.doc and (path == case.path or (number is not None and number in case.items)))
    if not case.items:
        return int(number is None) if case.kind == "overview" else None  # an overview is read outside the tasks
    return int(number is not None and number in case.items)


def collect(bootstrap: bool) -> tuple[np.ndarray, ...]:
    if bootstrap:
        answer_module.gate_model = BootstrapGate  # (the answerer calls gate_model().answers)
    config = json.loads((ROOT / "eval" / "config.json").read_text("utf-8"))
    multi_corpus = materialize(ROOT / "eval" / config["corpora"]["multidoc"], ROOT / ".eval" / "multidoc" / "corpus")
    services = {
        "seed": Service(corpus=ROOT / "corpus", index=ROOT / ".eval" / "seed" / "index"),
        "multi": Service(corpus=multi_corpus, index=ROOT / ".eval" / "multidoc" / "index", today=date(2021, 6, 1)),
    }
    rows, labels, groups, decided, oos, sizes, turn_id = [], [], [], [], [], {}, 0
    for name in (*SEED_SETS, *MULTI_SETS):
        service = services["multi" if name in MULTI_SETS else "seed"]
        cases = load_cases(ROOT / "eval" / name)
        traces: list[list] = []

        def ask(*args, _service=service, _traces=traces, **kwargs):
            trace: list = []
            token = TRACE.set(trace)
            try:
                return _service.ask(*args, **kwargs)
            finally:
                TRACE.reset(token)
                _traces.append(trace)

        texts = {d.id: d.text for d in service.documents()} | {d.title: d.text for d in service.documents()}
        with tqdm(total=len(cases), desc=name, unit="q", leave=False, mininterval=2) as bar:
            report = evaluate(ask, cases, texts.get, progress=bar.update)
        # evaluate asks each earlier turn of a case, then its turns; the last len(turns) asks of a case are scored
        scored = _scored_traces(cases, traces)
        for n, (outcome, trace) in enumerate(zip(report.outcomes, scored, strict=True)):
            for at, (key, features) in enumerate(trace):
                if (y := label(outcome.case, key)) is None:
                    continue
                rows.append([features[f] for f in FEATURES])
                labels.append(y)
                groups.append(turn_id + n)
                decided.append(at == 0 or trace[at - 1][0] == key)  # the call that decided, not an alternative
                oos.append(outcome.case.refused)
        sizes[name] = len(report.outcomes)
        turn_id += len(report.outcomes)
    return np.array(rows), np.array(labels), np.array(groups), np.array(decided), np.array(oos), sizes


def _scored_traces(cases, traces):
    out, at = [], 0
    for case in cases:
        at += len(case.history)
        for _ in case.turns or (case,):
            out.append(traces[at])
            at += 1
    return out


def fit(x: np.ndarray, y: np.ndarray, groups: np.ndarray, decided: np.ndarray, oos: np.ndarray) -> dict:
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    folds = list(StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=0).split(z, y, groups))
    best = None
    for c in (0.1, 0.3, 1.0, 3.0):  # (weaker regularisation only trades stability for nothing on AUC)
        out_of_fold = np.zeros(len(y))
        for train, test in folds:
            model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit(z[train], y[train])
            out_of_fold[test] = model.predict_proba(z[test])[:, 1]
        threshold, answerable_refused, oos_refused = _threshold(out_of_fold[decided], y[decided], oos[decided])
        score = (roc_auc_score(y, out_of_fold), oos_refused)
        if best is None or score > best[0]:
            best = (score, c, threshold, out_of_fold, answerable_refused, oos_refused)
    (_, c, threshold, out_of_fold, answerable_refused, oos_refused) = best
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit(z, y)
    return {
        "features": list(FEATURES), "mean": mean.round(6).tolist(), "scale": scale.round(6).tolist(),
        "coef": model.coef_[0].round(6).tolist(), "intercept": round(float(model.intercept_[0]), 6),
        "threshold": round(float(threshold), 6), "C": c,
        "cross_validation": {
            "folds": 5, "auc": round(float(roc_auc_score(y, out_of_fold)), 4),
            "answerable_refused": round(answerable_refused, 4), "unanswerable_refused": round(oos_refused, 4),
        },
    }


def _threshold(p: np.ndarray, y: np.ndarray, oos: np.ndarray) -> tuple[float, float, float]:
    """The threshold that gains most on the gate's decisions: refusing an unanswerable question gains
    1, refusing where the task answers costs 1, refusing a task that does not answer an answerable
    question gains WRONG_TASK_GAIN (a refusal is more honest than a wrong citation, but still no answer)."""
    gain = np.where(y == 1, -1.0, np.where(oos, 1.0, WRONG_TASK_GAIN))
    best_gain, threshold = 0.0, 0.0
    for candidate in np.unique(p):
        g = float(gain[p < candidate].sum())
        if g > best_gain:
            best_gain, threshold = g, float(candidate)
    refused = p < threshold
    return threshold, float(np.mean(refused[y == 1])), float(np.mean(refused[oos])) if oos.any() else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", action="store_true", help="collect with the hand-set rule (first fit)")
    parser.add_argument("--check", action="store_true", help="refit and compare with the stored model; write nothing")
    args = parser.parse_args()
    x, y, groups, decided, oos, sizes = collect(args.bootstrap)
    fitted = fit(x, y, groups, decided, oos)
    fitted["training"] = {"sets": sizes, "gate_calls": int(len(y)), "answerable": int(y.sum()),
                          "unanswerable": int(len(y) - y.sum()), "never_fitted_on": list(NEVER)}
    cv = fitted["cross_validation"]
    print(f"{len(y)} gate calls ({int(y.sum())} answerable) from {sum(sizes.values())} questions; C={fitted['C']}")
    print(f"cross-validated: AUC {cv['auc']:.3f}, answerable refused {cv['answerable_refused']:.1%}, "
          f"unanswerable refused {cv['unanswerable_refused']:.1%}, threshold {fitted['threshold']:.3f}")
    for name, coef in zip(FEATURES, fitted["coef"], strict=True):
        print(f"  {name:16} {coef:+.3f}")
    if args.check:
        stored, refit = gate_model(), GateModel.from_json(fitted)
        rows = [dict(zip(FEATURES, row, strict=True)) for row in x[decided]]
        agree = float(np.mean([stored.answers(r) == refit.answers(r) for r in rows]))
        print(f"the stored and the refitted gate decide alike on {agree:.1%} of the decisions")
        return 0 if agree >= 0.98 else 1
    tmp = GATE_FILE.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(fitted, ensure_ascii=False, indent=1) + "\n", "utf-8")
    tmp.replace(GATE_FILE)
    GateModel.from_json(fitted)  # (readable by the service)
    gate_model.cache_clear()
    print(f"wrote {GATE_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
