"""Fit a model's decision thresholds and the pairing similarity floor on dev data.

The checker runs once per example with the floor at 0 and every candidate's scores kept;
any (floor, thresholds) can then be replayed without running the models again:

* a sentence whose best similarity is below the floor has no match (unsupported, score 0),
  and candidates below the floor are dropped;
* floor and entailment threshold: the best mean balanced accuracy, supported vs not,
  over the dev sets (each set counts equally);
* contradiction threshold, given those: the best mean 3-way macro-F1 over the 3-way dev
  sets (kept as it was when none is given).

Replaying approximates pairing at a higher floor (at floor 0 a window may take in a
neighbour the real floor would refuse); before and after are both replayed, so they compare
like with like. Test splits are refused.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import balanced_accuracy_score, f1_score

from nli_check.config import MODEL_SETTINGS_FILE
from nli_check.datasets.eval_sets import EvalSet
from nli_check.errors import InputError
from nli_check.evaluation.evaluate import Prediction, aggregate, run_checker
from nli_check.inputs import write_atomically
from nli_check.labels import CONTRADICTED, SUPPORTED, UNSUPPORTED, VERDICTS

logger = logging.getLogger(__name__)

# The fitting rule as stored with the fitted values: the module docstring's second and third
# paragraphs (the replay, then what each value maximises).
RULE = " ".join(" ".join(__doc__.split("\n\n")[1:3]).split())
FLOOR_GRID = tuple(round(x, 2) for x in np.arange(0.0, 0.51, 0.05))
THRESHOLD_GRID = tuple(round(x, 2) for x in np.arange(0.05, 0.96, 0.01))


@dataclass(frozen=True)
class Thresholds:
    similarity_floor: float
    entailment_threshold: float
    contradiction_threshold: float


def collect(checker, evalsets: list[EvalSet], *, progress_factory=None) -> dict[str, list[Prediction]]:
    """Run the checker with floor 0, no explanations and all evidence kept."""
    for evalset in evalsets:
        if evalset.split != "dev":
            raise InputError(f"{evalset.name} ({evalset.origin}) is a {evalset.split} split: "
                             "calibration fits on dev data only")
    # The thresholds are what is fitted, so they decide here even for a model with a learned head,
    # and every candidate is scored (no early exit, which depends on the thresholds).
    run = checker.with_settings(explain=False, evidence_shown=1000, similarity_floor=0.0, learned_verdict=False,
                                early_exit=False)
    collected = {}
    for evalset in evalsets:
        bar = progress_factory(evalset) if progress_factory else None
        try:
            collected[evalset.name] = run_checker(run, evalset.examples, progress=bar.advance if bar else None)
        finally:
            if bar:
                bar.close()
    return collected


def replay(predictions: list[Prediction], thresholds: Thresholds) -> tuple[list[str], np.ndarray]:
    """Labels and support scores of the predictions under other thresholds and floor."""
    labels, support = [], []
    for prediction in predictions:
        if prediction.error is not None or not prediction.sentences:
            labels.append(UNSUPPORTED)
            support.append(0.0)
            continue
        sentence_labels, sentence_support = [], []
        for sentence in prediction.sentences:
            kept = [c for c in sentence.candidates if c[0] >= thresholds.similarity_floor]
            entail = max((c[1] for c in kept), default=0.0)
            contradict = max((c[2] for c in kept), default=0.0)
            sentence_support.append(entail)
            sentence_labels.append(SUPPORTED if kept and entail >= thresholds.entailment_threshold else
                                   CONTRADICTED if kept and contradict >= thresholds.contradiction_threshold
                                   else UNSUPPORTED)
        labels.append(aggregate(sentence_labels))
        support.append(min(sentence_support))
    return labels, np.array(support)


def _entailment_curve(predictions: list[Prediction], floor: float) -> np.ndarray:
    """Balanced accuracy, supported vs not, at every entailment threshold of the grid."""
    _, support = replay(predictions, Thresholds(floor, 2.0, 2.0))
    gold = np.array([p.gold == SUPPORTED for p in predictions])
    if len(set(gold.tolist())) < 2:
        raise InputError("a calibration set needs both supported and unsupported examples")
    return np.array([balanced_accuracy_score(gold, support >= t) for t in THRESHOLD_GRID])


def fit(collected: dict[str, list[Prediction]], three_way: set[str], current: Thresholds) -> tuple[Thresholds, dict]:
    """The best thresholds on the collected dev predictions, and the objective values."""
    best = (-1.0, None, None)
    for floor in FLOOR_GRID:
        curve = np.mean([_entailment_curve(predictions, floor) for predictions in collected.values()], axis=0)
        index = int(np.argmax(curve))  # first best: the lowest threshold among ties
        if curve[index] > best[0] + 1e-12:
            best = (float(curve[index]), floor, THRESHOLD_GRID[index])
    objective, floor, entailment = best
    contradiction, contradiction_objective = current.contradiction_threshold, None
    if three_way:
        scores = []
        for t in THRESHOLD_GRID:
            candidate = Thresholds(floor, entailment, t)
            scores.append(np.mean([_macro_f1(collected[name], candidate) for name in sorted(three_way)]))
        index = int(np.argmax(scores))
        contradiction, contradiction_objective = THRESHOLD_GRID[index], round(float(scores[index]), 4)
    fitted = Thresholds(floor, entailment, contradiction)
    return fitted, {"mean_balanced_accuracy_supported_vs_not": round(objective, 4),
                    "mean_three_way_macro_f1": contradiction_objective}


def _macro_f1(predictions: list[Prediction], thresholds: Thresholds) -> float:
    labels, _ = replay(predictions, thresholds)
    return f1_score([p.gold for p in predictions], labels, labels=list(VERDICTS), average="macro", zero_division=0)


def summary(collected: dict[str, list[Prediction]], three_way: set[str], thresholds: Thresholds) -> dict:
    """Per dev set: balanced accuracy supported vs not, and 3-way macro-F1 where defined."""
    result = {}
    for name, predictions in collected.items():
        labels, _ = replay(predictions, thresholds)
        gold = [p.gold == SUPPORTED for p in predictions]
        row = {"n": len(predictions),
               "balanced_accuracy": round(balanced_accuracy_score(gold, [label == SUPPORTED for label in labels]), 4)}
        if name in three_way:
            row["macro_f1"] = round(_macro_f1(predictions, thresholds), 4)
        result[name] = row
    return result


def store(model_path: Path, thresholds: Thresholds, *, evalsets: list[EvalSet], objective: dict,
          before: dict, after: dict, precision: str, previous: Thresholds | None = None) -> Path:
    """Write the fitted values into the model folder's settings file, with what they were
    fitted on and the values they replace (``previous``); other stored settings are kept."""
    path = Path(model_path) / MODEL_SETTINGS_FILE
    stored = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    stored.setdefault("settings", {}).update({
        "similarity_floor": thresholds.similarity_floor,
        "entailment_threshold": thresholds.entailment_threshold,
        "contradiction_threshold": thresholds.contradiction_threshold,
    })
    stored["fitted_on"] = {
        "command": "nli-check calibrate " + " ".join(e.name for e in evalsets),
        "data": [{"name": e.name, "origin": e.origin, "n": len(e.examples), "notes": e.notes} for e in evalsets],
        "rule": RULE,
        "precision": precision,
        **({"previous": asdict(previous)} if previous is not None else {}),
        "objective": objective,
        "before": before,
        "after": after,
    }
    write_atomically(path, json.dumps(stored, indent=2) + "\n")
    return path
