"""Metrics of the eval harness. Each function is a small self-describing unit: it checks its
inputs (with messages that show what was expected and what was received) and returns plain
data. scikit-learn computes everything it has; expected calibration error and the bootstrap
are short and written out here, with their definitions.

Conventions: percentages are not used (all values in [0, 1]); a metric that is undefined
for the input (ROC-AUC with one class, anything on an empty set) is ``None``, never a guess.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    roc_auc_score,
)

from nli_check.labels import CONTRADICTED, SUPPORTED

DIGITS = 4  # rounding of every reported value, so reruns compare equal as text
# The other class of the supported-vs-not view: contradicted and unsupported together (a flagged claim).
NOT_SUPPORTED = "not supported"


def _check_lengths(**arrays: Sequence) -> int:
    lengths = {name: len(values) for name, values in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"inputs must have equal lengths, received {lengths}")
    return next(iter(lengths.values()))


def _check_labels(values: Sequence[str], labels: Sequence[str], name: str) -> None:
    unknown = sorted(set(values) - set(labels))
    if unknown:
        raise ValueError(f"{name} holds unknown label(s) {unknown}; expected only {list(labels)}")


def _round(value: float | None) -> float | None:
    return None if value is None or np.isnan(value) else round(float(value), DIGITS)


def classification(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> dict:
    """Multi-class agreement of ``predicted`` with ``gold``.

    Returns n, accuracy, balanced accuracy (mean recall over the classes present in
    ``gold``), macro-F1 over ``labels`` (a class never predicted nor present scores 0),
    per-class precision/recall/F1/support and the confusion matrix (rows gold, columns
    predicted, in the order of ``labels``).
    """
    n = _check_lengths(gold=gold, predicted=predicted)
    _check_labels(gold, labels, "gold")
    _check_labels(predicted, labels, "predicted")
    labels = list(labels)
    if n == 0:
        return {"n": 0, "accuracy": None, "balanced_accuracy": None, "macro_f1": None,
                "per_class": {label: {"precision": None, "recall": None, "f1": None, "support": 0}
                              for label in labels},
                "confusion_matrix": {"labels": labels, "matrix": [[0] * len(labels) for _ in labels]}}
    with warnings.catch_warnings():
        # one class only: sklearn warns and we report what is defined
        warnings.simplefilter("ignore", (UndefinedMetricWarning, UserWarning, RuntimeWarning))
        precision, recall, f1, support = precision_recall_fscore_support(
            gold, predicted, labels=labels, zero_division=0)
        balanced = balanced_accuracy_score(gold, predicted)
    return {
        "n": n,
        "accuracy": _round(accuracy_score(gold, predicted)),
        "balanced_accuracy": _round(balanced),
        "macro_f1": _round(float(np.mean(f1))),
        "per_class": {label: {"precision": _round(p), "recall": _round(r), "f1": _round(f), "support": int(s)}
                      for label, p, r, f, s in zip(labels, precision, recall, f1, support)},
        "confusion_matrix": {"labels": labels,
                             "matrix": confusion_matrix(gold, predicted, labels=labels).tolist()},
    }


def contradiction(gold: Sequence[str], predicted: Sequence[str]) -> dict:
    """How well "contradicted" is said: its precision, recall and F1 against the gold
    contradictions, and the false-contradiction rate (the share of gold-supported claims
    called contradicted: the costliest error an editor can be shown).

    Examples:
        >>> contradiction(gold=["contradicted", "supported"], predicted=["contradicted", "contradicted"])["precision"]
        0.5
    """
    n = _check_lengths(gold=gold, predicted=predicted)
    gold, predicted = np.asarray(gold, dtype=object), np.asarray(predicted, dtype=object)
    said, true, supported = predicted == CONTRADICTED, gold == CONTRADICTED, gold == SUPPORTED
    precision, recall, f1 = _prf(true, said)
    return {"n": n, "gold_contradicted": int(true.sum()), "predicted_contradicted": int(said.sum()),
            "precision": _round(precision), "recall": _round(recall), "f1": _round(f1),
            "false_contradiction_rate": _round((said & supported).sum() / supported.sum()) if supported.any() else None}


def roc_auc(positive: Sequence[bool], score: Sequence[float]) -> float | None:
    """Area under the ROC curve of ``score`` for ``positive``; None with one class only."""
    _check_lengths(positive=positive, score=score)
    if len(set(positive)) < 2:
        return None
    return _round(roc_auc_score(np.asarray(positive, dtype=bool), np.asarray(score, dtype=float)))


def expected_calibration_error(positive: Sequence[bool], probability: Sequence[float], *, bins: int = 10) -> float | None:
    """ECE of ``probability`` as P(positive): the bin-size-weighted mean of
    |fraction positive - mean probability| over ``bins`` equal-width bins of [0, 1]."""
    n = _check_lengths(positive=positive, probability=probability)
    if n == 0:
        return None
    probability = np.asarray(probability, dtype=float)
    if probability.min() < 0 or probability.max() > 1:
        raise ValueError(f"probabilities must lie in [0, 1], received min {probability.min()} max {probability.max()}")
    positive = np.asarray(positive, dtype=float)
    which = np.minimum((probability * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            error += inside.sum() / n * abs(positive[inside].mean() - probability[inside].mean())
    return _round(error)


def binary(gold_supported: Sequence[bool], predicted_supported: Sequence[bool], support_score: Sequence[float]) -> dict:
    """Supported vs not: accuracy, balanced accuracy, F1 of "supported", precision and
    recall of "supported" and of "not supported" (a flagged claim), ROC-AUC and ECE of the
    support score (read as P(supported)), confusion matrix and counts."""
    n = _check_lengths(gold_supported=gold_supported, predicted_supported=predicted_supported,
                       support_score=support_score)
    gold = [SUPPORTED if g else NOT_SUPPORTED for g in gold_supported]
    predicted = [SUPPORTED if p else NOT_SUPPORTED for p in predicted_supported]
    base = classification(gold, predicted, [SUPPORTED, NOT_SUPPORTED])
    return {
        "n": n,
        "positives": int(sum(bool(g) for g in gold_supported)),
        "accuracy": base["accuracy"],
        "balanced_accuracy": base["balanced_accuracy"],
        "f1_supported": base["per_class"][SUPPORTED]["f1"] if n else None,
        "precision_supported": base["per_class"][SUPPORTED]["precision"] if n else None,
        "recall_supported": base["per_class"][SUPPORTED]["recall"] if n else None,
        "precision_not_supported": base["per_class"][NOT_SUPPORTED]["precision"] if n else None,
        "recall_not_supported": base["per_class"][NOT_SUPPORTED]["recall"] if n else None,
        "roc_auc": roc_auc(gold_supported, support_score),
        "ece": expected_calibration_error(gold_supported, support_score),
        "confusion_matrix": base["confusion_matrix"],
    }


def bootstrap_interval(statistic: Callable[..., float | None], *arrays: Sequence, resamples: int = 1000,
                       confidence: float = 0.95, seed: int = 0) -> list[float] | None:
    """Percentile bootstrap interval of ``statistic(*arrays)``, resampling examples with
    replacement (the arrays are paired). Resamples where the statistic is undefined are
    skipped; a fixed seed keeps reruns identical. None when the set is empty."""
    n = _check_lengths(**{f"array_{i}": a for i, a in enumerate(arrays)})
    if n == 0:
        return None
    columns = [np.asarray(a) for a in arrays]
    rng = np.random.default_rng(seed)
    values = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (UndefinedMetricWarning, UserWarning, RuntimeWarning))
        for _ in range(resamples):
            index = rng.integers(0, n, size=n)
            value = statistic(*(column[index] for column in columns))
            if value is not None and not np.isnan(value):
                values.append(value)
    if not values:
        return None
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return [_round(low), _round(high)]


def _prf(gold: np.ndarray, predicted: np.ndarray) -> tuple[float | None, float | None, float | None]:
    """Precision, recall and F1 of boolean ``predicted`` against ``gold`` (None where undefined)."""
    hits = int((gold & predicted).sum())
    precision = hits / predicted.sum() if predicted.sum() else None
    recall = hits / gold.sum() if gold.sum() else None
    f1 = (2 * precision * recall / (precision + recall) if precision and recall else
          (0.0 if precision is not None and recall is not None else None))
    return precision, recall, f1


def token_prf(gold: Sequence[bool], predicted: Sequence[bool]) -> dict:
    """Token-level precision, recall and F1 of predicted unsupported tokens, pooled."""
    n = _check_lengths(gold=gold, predicted=predicted)
    gold, predicted = np.asarray(gold, dtype=bool), np.asarray(predicted, dtype=bool)
    precision, recall, f1 = _prf(gold, predicted)
    return {"tokens": n, "gold_tokens": int(gold.sum()), "predicted_tokens": int(predicted.sum()),
            "precision": _round(precision), "recall": _round(recall), "f1": _round(f1)}


# Statistics for the bootstrap: each takes the resampled arrays.

def balanced_accuracy_of(gold, predicted) -> float:
    return balanced_accuracy_score(gold, predicted)


def macro_f1_of(labels: Sequence[str]) -> Callable[[np.ndarray, np.ndarray], float]:
    def statistic(gold, predicted):
        return f1_score(gold, predicted, labels=list(labels), average="macro", zero_division=0)
    return statistic


def roc_auc_of(positive, score) -> float | None:
    return roc_auc_score(positive, score) if len(set(positive.tolist())) == 2 else None
