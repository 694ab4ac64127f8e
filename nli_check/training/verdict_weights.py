"""Weights per claim-pair rule and per training set for the verdict head, chosen by
leave-one-dataset-out (issue 31).

The head's training pairs are made by rules (a claim against its gold chunk, the chunk with
its evidence removed, another claim's document, ...) from several sets. Some rules and sets
teach the head what the mission dev sets look like, others teach it habits that do not
transfer. :func:`choose_weights` looks for a weight per rule and per set by coordinate
ascent over :data:`WEIGHT_GRID`, each candidate scored by leave-one-dataset-out on the dev
features ``nli-check eval`` recorded: a dev set drawn from a training set (``DEV_ORIGINS``)
is scored by a head fitted without that set, so a weight is only kept where it helps on
data the head did not see. The score counts both criteria of the issue: the mean balanced
accuracy (supported vs not) of the dev sets and the mean 3-way macro-F1 of those with
refutations.

No model runs here: heads are refitted on stored features and replayed on stored dev
features (:func:`replay_set`), seconds each.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nli_check.errors import InputError
from nli_check.labels import CONTRADICTED, UNSUPPORTED, VERDICTS
from nli_check.pipeline.features import FEATURE_NAMES
from nli_check.pipeline.verdict import contradiction_gated
from nli_check.training.verdict import (DEV_ORIGINS, MISSION_DEV_SETS, REFUTATION_DEV_SETS, FeatureTable,
                                        GroupWeights, LinearModel, fit_linear, replay_scores, sentence_features)

# Each rule's and each set's weight is one of these (1: as drawn; 0: left out).
WEIGHT_GRID = (0.0, 0.5, 1.0, 2.0)
# A new weight is kept only if it raises the score by more than this (ties keep 1).
MIN_GAIN = 1e-3


@dataclass(frozen=True)
class DevSet:
    """The stored features of one mission dev set: per example, its claim sentences'
    feature vectors (None: no source statement matched), which of them the slot step made
    contradicted (an aligned number, date, name... in conflict: it does so again for any
    head that leaves the sentence unsupported), and the gold verdicts."""

    name: str
    examples: list[list[np.ndarray | None]]
    gold: list[str]
    origin: str | None  # the training set it was drawn from, if any
    conflicts: list[list[bool]] | None = None  # None: none recorded


def read_dev_sets(dev_records: Path, *, start: int = 0, stop: int | None = None,
                  contradiction_floor: float | None = None) -> list[DevSet]:
    """The mission dev sets recorded under ``dev_records`` (``nli-check eval`` output:
    ``<set>/checker/predictions.jsonl``), examples ``start`` to ``stop`` of each (to choose
    on some and confirm on others). A sentence recorded as contradicted that its head's
    recorded scores (under ``contradiction_floor``) did not call so was made contradicted
    by the slot step."""
    found = []
    for name in MISSION_DEV_SETS:
        path = Path(dev_records) / name / "checker" / "predictions.jsonl"
        if path.is_file():
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()][start:stop]
            if rows:
                found.append(DevSet(name, [sentence_features(row) for row in rows], [row["gold"] for row in rows],
                                    DEV_ORIGINS.get(name),
                                    [[_by_slots(s, contradiction_floor) for s in row.get("sentences", [])]
                                     for row in rows]))
    if not found:
        raise InputError(f"{dev_records}: no mission dev set recorded (expected <set>/checker/predictions.jsonl "
                         f"for one of {', '.join(MISSION_DEV_SETS)})")
    return found


def _by_slots(sentence: dict, floor: float | None) -> bool:
    if sentence.get("label") != str(CONTRADICTED) or sentence.get("scores") is None or sentence.get("features") is None:
        return False
    return contradiction_gated(np.asarray(sentence["scores"]), np.asarray(sentence["features"]), floor) != CONTRADICTED


@dataclass(frozen=True)
class Score:
    """Leave-one-dataset-out scores of one weighting: the means and each set's."""

    balanced_accuracy: float  # mean over the dev sets
    macro_f1: float  # 3-way, mean over the dev sets with refutations (REFUTATION_DEV_SETS) present
    per_set: dict[str, dict]

    @property
    def objective(self) -> float:
        """What the search raises: both criteria, equally."""
        return (self.balanced_accuracy + self.macro_f1) / 2

    def to_json(self) -> dict:
        return {"mean_balanced_accuracy": round(self.balanced_accuracy, 4), "mean_macro_f1": round(self.macro_f1, 4),
                "per_set": self.per_set}


def sentence_verdicts(model: LinearModel, features: np.ndarray, *, contradiction_floor: float | None) -> list[str]:
    """The head's verdict on each row of ``features``, as :func:`~nli_check.training.verdict.head_label`
    gives it one row at a time (contradicted only where the model's p(contradiction) reaches the floor)."""
    if not len(features):
        return []
    logits = model.logits(features)
    if contradiction_floor is not None:
        seen = np.maximum(features[:, FEATURE_NAMES.index("contradict_max")],
                          features[:, FEATURE_NAMES.index("chunk_contradict")])
        logits[seen < contradiction_floor, VERDICTS.index(CONTRADICTED)] = -np.inf
    return [str(VERDICTS[i]) for i in np.argmax(logits, axis=1)]


def replay_set(model: LinearModel, dev: DevSet, *, contradiction_floor: float | None) -> list[str]:
    """Each example's verdict by ``model``, aggregated over its sentences as eval does."""
    from nli_check.evaluation.evaluate import aggregate

    rows = [x for sentences in dev.examples for x in sentences if x is not None]
    labels = iter(sentence_verdicts(model, np.array(rows).reshape(len(rows), len(FEATURE_NAMES)),
                                    contradiction_floor=contradiction_floor))
    found = []
    for index, sentences in enumerate(dev.examples):
        said = [next(labels) if x is not None else str(UNSUPPORTED) for x in sentences]
        if dev.conflicts is not None:
            said = [str(CONTRADICTED) if label == str(UNSUPPORTED) and conflict else label
                    for label, conflict in zip(said, dev.conflicts[index])]
        found.append(aggregate(said or [str(UNSUPPORTED)]))
    return found


def lodo_score(table: FeatureTable, dev_sets: Sequence[DevSet], *, weights: GroupWeights,
               contradiction_floor: float | None) -> Score:
    """Each dev set scored by the head fitted with ``weights`` on every training set but the
    one it was drawn from (with that set's whole-document pairs); a dev set with no training
    counterpart by the head fitted on all."""
    sample_weight = weights.of(table)
    base_sets = np.char.partition(table.datasets.astype(str), ":")[:, 0]
    heads: dict[str | None, LinearModel] = {}
    per_set = {}
    for dev in dev_sets:
        if dev.origin not in heads:
            keep = base_sets != dev.origin if dev.origin else np.ones(len(table.labels), dtype=bool)
            heads[dev.origin] = fit_linear(table.features[keep], table.labels[keep], classes=len(VERDICTS),
                                           sample_weight=sample_weight[keep])
        predicted = replay_set(heads[dev.origin], dev, contradiction_floor=contradiction_floor)
        per_set[dev.name] = replay_scores(dev.gold, predicted)
    three_way = [per_set[name]["macro_f1"] for name in REFUTATION_DEV_SETS if "macro_f1" in per_set.get(name, {})]
    return Score(float(np.mean([s["balanced_accuracy"] for s in per_set.values()])),
                 float(np.mean(three_way)) if three_way else 0.0, per_set)


def choose_weights(table: FeatureTable, dev_sets: Sequence[DevSet], *, contradiction_floor: float | None,
                   grid: Sequence[float] = WEIGHT_GRID, passes: int = 2,
                   progress: Callable[[str], None] | None = None) -> tuple[GroupWeights, Score, Score]:
    """Coordinate ascent over a weight per rule, then per set, ``passes`` times over all.

    Args:
        table: the head's training features, with each row's rule and set.
        dev_sets: the dev features to score on (:func:`read_dev_sets`).
        contradiction_floor: the deciding model's contradiction threshold, as the head uses it.
        grid: the weights tried for each rule and set.
        passes: rounds over every rule and set; stops early when a round changes nothing.
        progress: called with a line per kept change.

    Returns:
        The chosen weights, the score of equal weights, and the chosen weights' score.
    """
    uniform = lodo_score(table, dev_sets, weights=GroupWeights(), contradiction_floor=contradiction_floor)
    best, best_score = GroupWeights(), uniform
    # (equal weights scored above: a table without rules was refused there)
    groups = [("rule", r) for r in sorted(set(table.rules.tolist()))]
    groups += [("set", s) for s in sorted(set(table.datasets.tolist()))]
    for _ in range(passes):
        changed = False
        for kind, name in groups:
            current = (best.rules if kind == "rule" else best.sets).get(name, 1.0)
            for value in grid:
                if value == current:
                    continue
                candidate = best.with_weight(kind, name, value)
                try:
                    score = lodo_score(table, dev_sets, weights=candidate, contradiction_floor=contradiction_floor)
                except (InputError, ValueError):  # a weighting that leaves out a whole verdict
                    continue
                if score.objective > best_score.objective + MIN_GAIN:
                    best, best_score, current, changed = candidate, score, value, True
                    if progress:
                        progress(f"{kind} {name} -> {value}: BAcc {score.balanced_accuracy:.4f}, "
                                 f"3-way F1 {score.macro_f1:.4f}")
        if not changed:
            break
    return best, uniform, best_score


def choose_and_confirm(table: FeatureTable, dev_records: Path, *, contradiction_floor: float | None,
                       choose_on: int | None = None, progress: Callable[[str], None] | None = None) -> dict:
    """Weights chosen on the first ``choose_on`` examples of each dev set recorded under
    ``dev_records`` (all: None), and both weightings scored on the examples after them,
    which the choice did not see (where a set has more).

    Returns:
        ``weights`` (:class:`GroupWeights`), ``chosen_on`` and ``confirmed_on`` (each a
        ``{"equal": Score, "chosen": Score}``; ``confirmed_on`` None when no example is
        left), and ``choose_on``.
    """
    chosen_sets = read_dev_sets(dev_records, stop=choose_on, contradiction_floor=contradiction_floor)
    weights, equal, best = choose_weights(table, chosen_sets, contradiction_floor=contradiction_floor,
                                          progress=progress)
    confirmed = None
    if choose_on is not None:
        try:
            rest = read_dev_sets(dev_records, start=choose_on, contradiction_floor=contradiction_floor)
        except InputError:  # no set has examples past choose_on
            rest = []
        if rest:
            confirmed = {name: lodo_score(table, rest, weights=w, contradiction_floor=contradiction_floor)
                         for name, w in (("equal", GroupWeights()), ("chosen", weights))}
    return {"weights": weights, "chosen_on": {"equal": equal, "chosen": best}, "confirmed_on": confirmed,
            "choose_on": choose_on}


def choice_json(choice: dict) -> dict:
    """What :func:`choose_and_confirm` found, as JSON (the transfer file keeps it)."""
    def scores(found):
        return {name: score.to_json() for name, score in found.items()} if found else None

    return {"weights": choice["weights"].to_json(), "grid": list(WEIGHT_GRID),
            "chosen_on_first_examples": choice["choose_on"], "chosen_on": scores(choice["chosen_on"]),
            "confirmed_on_the_rest": scores(choice["confirmed_on"])}
