"""Fitting the learned verdict (:mod:`nli_check.pipeline.verdict`) on claim-level pairs.

``nli-check fit-verdict`` draws a sample of the pairs of :mod:`nli_check.datasets.claim_pairs`
(capped per set and label, so no set dominates), runs the real checker on each (the claim
against its chunk as the source: the same segmentation, pairing, NLI and features as a
check), and fits

* the verdict: a multinomial logistic regression over the claim sentence's features,
  classes weighted to balance;
* the word marking: a logistic regression over each content word of a claim that is not
  supported, from the pairs whose changed or inserted words are known (gold spans), with
  the threshold that gives the best word F1 on those pairs.

Features are computed in pieces of :data:`PIECE` pairs, each written to the work folder as
it is done, so an interrupted run continues where it stopped. Dev sets are never read here:
they are scored with ``nli-check eval``, and :func:`leave_one_out` reads those records.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from nli_check.batch.chunks import BatchChecker
from nli_check.batch.corpus import Article, BadRow
from nli_check.datasets.claim_pairs import ClaimPair
from nli_check.errors import InputError
from nli_check.labels import SUPPORTED, UNSUPPORTED, VERDICTS
from nli_check.pipeline.decide import threshold_verdict
from nli_check.pipeline.features import FEATURE_NAMES
from nli_check.pipeline.verdict import (WORD_FEATURE_NAMES, LinearModel, VerdictHead, contradiction_gated,
                                        word_features)

logger = logging.getLogger(__name__)

PIECE = 250  # pairs whose features are computed, then saved, together
MAX_MARKED_WORDS = 10  # an editor reads a few marked words per claim, not half the sentence
REGULARISATION = 1.0  # logistic regression's C (inverse strength), not tuned


@dataclass
class FeatureTable:
    """One row per claim sentence the checker paired with its chunk."""

    features: np.ndarray  # (n, len(FEATURE_NAMES))
    labels: np.ndarray  # (n,) index into VERDICTS
    datasets: np.ndarray  # (n,) the set each row came from
    words: np.ndarray  # (m, len(WORD_FEATURE_NAMES)): content words of rows with gold spans
    word_labels: np.ndarray  # (m,) 1: inside a gold span
    word_rows: np.ndarray  # (m,) the row each word belongs to
    rules: np.ndarray | None = None  # (n,) the claim-pair rule of each row (None: not recorded)

    def save(self, path: Path) -> None:
        np.savez(path, features=self.features, labels=self.labels, datasets=self.datasets, words=self.words,
                 word_labels=self.word_labels, word_rows=self.word_rows,
                 rules=self.rules if self.rules is not None else np.full(len(self.labels), "", dtype=str))

    @classmethod
    def load(cls, path: Path) -> FeatureTable:
        with np.load(path, allow_pickle=False) as data:
            rules = data["rules"] if "rules" in data.files else None  # pieces written before rules were kept
            return cls(*(data[name] for name in ("features", "labels", "datasets", "words", "word_labels",
                                                 "word_rows")), rules=rules)

    @classmethod
    def concat(cls, tables: Sequence[FeatureTable]) -> FeatureTable:
        offsets = np.cumsum([0] + [len(t.labels) for t in tables])
        rules = [t.rules if t.rules is not None else np.full(len(t.labels), "", dtype=str) for t in tables]
        return cls(np.concatenate([t.features for t in tables]), np.concatenate([t.labels for t in tables]),
                   np.concatenate([t.datasets for t in tables]), np.concatenate([t.words for t in tables]),
                   np.concatenate([t.word_labels for t in tables]),
                   np.concatenate([t.word_rows + offset for t, offset in zip(tables, offsets)]),
                   np.concatenate(rules) if rules else None)


@dataclass(frozen=True)
class GroupWeights:
    """A weight per claim-pair rule and per training set for the head's rows (absent: 1; chosen
    by :mod:`nli_check.training.verdict_weights`); a row's weight is the product of its two.

    Examples:
        >>> GroupWeights(rules={"other_document": 2.0}).weight(rule="other_document", dataset="wice")
        2.0
    """

    rules: dict[str, float] = field(default_factory=dict)
    sets: dict[str, float] = field(default_factory=dict)

    def weight(self, *, rule: str, dataset: str) -> float:
        return self.rules.get(rule, 1.0) * self.sets.get(dataset, 1.0)

    def of(self, table: FeatureTable) -> np.ndarray:
        """One weight per row of ``table``."""
        if table.rules is None:
            raise InputError("the feature table records no rule per row: recompute its features "
                             "(nli-check fit-verdict with a new --workdir)")
        return np.array([self.weight(rule=r, dataset=d) for r, d in zip(table.rules.tolist(),
                                                                         table.datasets.tolist())])

    def with_weight(self, kind: str, name: str, value: float) -> GroupWeights:
        rules, sets = dict(self.rules), dict(self.sets)
        (rules if kind == "rule" else sets)[name] = value
        return GroupWeights({k: v for k, v in rules.items() if v != 1.0}, {k: v for k, v in sets.items() if v != 1.0})

    def to_json(self) -> dict:
        return {"rules": dict(sorted(self.rules.items())), "sets": dict(sorted(self.sets.items()))}


def sample_pairs(pairs: Sequence[ClaimPair], *, per_label: int, seed: int = 13) -> list[ClaimPair]:
    """At most ``per_label`` pairs of each (set, verdict), drawn at random; pairs with gold
    spans first among the unsupported and contradicted ones (the word marking learns from them)."""
    rng = random.Random(seed)
    groups: dict[tuple[str, str], list[ClaimPair]] = defaultdict(list)
    for pair in pairs:
        groups[(pair.dataset, str(pair.label))].append(pair)
    chosen = []
    for key in sorted(groups):
        group = groups[key]
        rng.shuffle(group)
        with_spans = [p for p in group if p.spans]
        rest = [p for p in group if not p.spans]
        # Half from the span-marked pairs where there are enough, so both kinds are seen.
        take_spans = min(len(with_spans), per_label // 2 if rest else per_label)
        picked = with_spans[:take_spans] + rest[:per_label - take_spans]
        chosen += picked[:per_label]
    rng.shuffle(chosen)
    return chosen


def compute_features(checker, pairs: Sequence[ClaimPair], *, workdir: Path,
                     progress: Callable[[int, int], None] | None = None) -> FeatureTable:
    """Features of every pair, computed in pieces saved under ``workdir`` (resumable: a
    piece already there is read back, if it was made from the same pairs)."""
    workdir.mkdir(parents=True, exist_ok=True)
    # Features only: the thresholds decide, so a head already in the model folder plays no part.
    checker = checker.with_settings(explain=False, features=True, learned_verdict=False)
    tables = []
    for start in range(0, len(pairs), PIECE):
        piece = pairs[start:start + PIECE]
        key = _piece_key(piece)
        path = workdir / f"piece-{start // PIECE:04d}-{key}.npz"
        if path.is_file():
            tables.append(FeatureTable.load(path))
        else:
            table = _features_of(checker, piece)
            table.save(path)
            tables.append(table)
        if progress:
            progress(min(start + PIECE, len(pairs)), len(pairs))
    return FeatureTable.concat(tables)


def _piece_key(pairs: Sequence[ClaimPair]) -> str:
    digest = hashlib.sha1()
    for pair in pairs:
        digest.update(f"{pair.claim}\x00{pair.chunk}\x00{pair.label}\x01".encode())
    return digest.hexdigest()[:12]


def _features_of(checker, pairs: Sequence[ClaimPair]) -> FeatureTable:
    rows, labels, datasets, words, word_labels, word_rows, rules = [], [], [], [], [], [], []
    # The batch engine's driver: every pair's model work done together, step by step.
    articles = [Article(line=index + 1, id=index, text=pair.claim, sources=[pair.chunk], source_names=["chunk"])
                for index, pair in enumerate(pairs)]
    for pair, report in zip(pairs, BatchChecker(checker).reports(articles)):
        # A claim the segmenter splits has one label for several sentences: not a clean example.
        if isinstance(report, BadRow) or len(report.claims) != 1 or report.claims[0].features is None:
            continue
        claim = report.claims[0]
        row = len(rows)
        rows.append(claim.features.vector)
        labels.append(VERDICTS.index(pair.label))
        datasets.append(pair.dataset)
        rules.append(pair.rule)
        claim_words = claim.features.words
        if pair.spans and pair.label != SUPPORTED and claim_words:
            # Gold spans are offsets into pair.claim; the sentence's text starts at claim.start.
            inside = [any(a < w.end + claim.start and w.start + claim.start < b for a, b in pair.spans)
                      for w in claim_words]
            words.append(word_features(claim_words))
            word_labels += inside
            word_rows += [row] * len(claim_words)
    width = len(WORD_FEATURE_NAMES)
    return FeatureTable(np.array(rows, dtype=np.float64).reshape(len(rows), len(FEATURE_NAMES)),
                        np.array(labels, dtype=np.int64), np.array(datasets, dtype=str),
                        np.concatenate(words) if words else np.zeros((0, width)),
                        np.array(word_labels, dtype=np.int64), np.array(word_rows, dtype=np.int64),
                        np.array(rules, dtype=str))


def fit_head(table: FeatureTable, *, trained_on: dict, sample_weight: np.ndarray | None = None) -> VerdictHead:
    """The verdict and word models fitted on ``table`` (the verdict's rows weighted by
    ``sample_weight``, e.g. per rule and set)."""
    verdict = fit_linear(table.features, table.labels, classes=len(VERDICTS), sample_weight=sample_weight)
    if not len(table.word_labels) or len(set(table.word_labels.tolist())) < 2:
        raise InputError("no claim with gold spans among the training pairs: the word marking cannot be fitted")
    words = fit_linear(table.words, table.word_labels, classes=2)
    threshold, f1 = best_word_threshold(table, words)
    return VerdictHead(verdict, words, threshold, MAX_MARKED_WORDS,
                       {**trained_on, "rows": len(table.labels), "word_rows": len(table.word_labels),
                        "word_f1_on_training_pairs": round(f1, 4)})


def fit_linear(x: np.ndarray, y: np.ndarray, *, classes: int, regularisation: float = REGULARISATION,
               sample_weight: np.ndarray | None = None) -> LinearModel:
    """Logistic regression on standardised inputs, classes weighted to balance (``sample_weight``:
    a weight per row on top of that, e.g. per rule)."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    model = LogisticRegression(C=regularisation, class_weight="balanced", max_iter=5000)
    model.fit((x - mean) / scale, y, sample_weight=sample_weight)
    if classes > 2 and len(model.classes_) != classes:
        raise InputError(f"training pairs hold {len(model.classes_)} of the {classes} verdicts: "
                         f"expected every verdict at least once")
    return LinearModel(mean, scale, model.coef_.copy(), model.intercept_.copy())


def best_word_threshold(table: FeatureTable, words: LinearModel) -> tuple[float, float]:
    """The threshold with the best word F1 over the span-marked claims (at most
    MAX_MARKED_WORDS per claim, as :meth:`VerdictHead.mark` keeps)."""
    scores = 1 / (1 + np.exp(-words.logits(table.words)[:, 0]))
    rank = np.zeros(len(scores), dtype=np.int64)
    for row in np.unique(table.word_rows):
        members = np.flatnonzero(table.word_rows == row)
        rank[members[np.argsort(-scores[members], kind="stable")]] = np.arange(len(members))
    best = (0.5, -1.0)
    for threshold in np.arange(0.05, 0.96, 0.01):
        marked = (scores >= threshold) & (rank < MAX_MARKED_WORDS)
        tp = float((marked & (table.word_labels == 1)).sum())
        precision = tp / max(marked.sum(), 1)
        recall = tp / max((table.word_labels == 1).sum(), 1)
        f1 = 2 * precision * recall / max(precision + recall, 1e-12)
        if f1 > best[1]:
            best = (round(float(threshold), 2), f1)
    return best


def counts(table: FeatureTable) -> dict[str, dict[str, int]]:
    """Rows per set and verdict."""
    found: dict[str, Counter] = defaultdict(Counter)
    for dataset, label in zip(table.datasets.tolist(), table.labels.tolist()):
        found[dataset][str(VERDICTS[label])] += 1
    return {name: {str(v): found[name][str(v)] for v in VERDICTS} for name in sorted(found)}


# The claim-versus-source dev sets of the mission (the leave-one-out table's rows).
MISSION_DEV_SETS = ("wice-dev", "xsumfaith-dev", "check-covid-dev", "citation-integrity-dev", "healthver-dev",
                    "attributionbench-dev")
# The mission dev sets with refutations: the 3-way criterion (mean macro-F1) is theirs.
REFUTATION_DEV_SETS = ("check-covid-dev", "citation-integrity-dev", "healthver-dev")
# Which claim-pair set each mission dev set comes from (a leave-one-out fit drops it).
DEV_ORIGINS = {"wice-dev": "wice", "check-covid-dev": "check_covid", "citation-integrity-dev": "citation_integrity"}


def read_eval_features(predictions: Path) -> tuple[list[list[np.ndarray]], list[str]]:
    """Per example, the feature vectors of its claim sentences (empty list for a sentence the
    head did not decide: no match), and the gold labels, from an eval predictions.jsonl."""
    rows = [json.loads(line) for line in predictions.read_text(encoding="utf-8").splitlines()]
    return [sentence_features(row) for row in rows], [row["gold"] for row in rows]


def sentence_features(row: dict) -> list[np.ndarray | None]:
    """The feature vectors of one eval prediction's claim sentences (None: no match)."""
    return [np.asarray(s["features"]) if s.get("features") is not None else None for s in row.get("sentences", [])]


def fit_verdict(*, data_root: Path, checker, model_folder: Path, workdir: Path, per_label: int, seed: int = 13,
                documents: bool = True, choose_weights: Callable[[FeatureTable], GroupWeights] | None = None,
                progress: Callable[[int, int], None] | None = None) -> tuple[VerdictHead, FeatureTable]:
    """Build the claim pairs, sample them, compute their features and fit the head; the
    head is written to ``model_folder`` (``verdict_head.json``).

    Args:
        data_root: the labelled-data folder (``shared/data``).
        checker: a :class:`~nli_check.pipeline.checker.Checker` with the NLI model the head is for.
        model_folder: where the head goes (the NLI model's folder).
        workdir: feature pieces (an interrupted run resumes from them); outside the repository.
        per_label: pairs drawn per (set, verdict) at most.
        documents: also claims against whole documents, their own and another claim's
            (:func:`~nli_check.datasets.claim_pairs.documents.document_pairs`), drawn as sets
            of their own: the shape of a check and of the dev sets.
        choose_weights: given the features, a weight per rule and set for the head's rows
            (:func:`~nli_check.training.verdict_weights.choose_weights`); None: equal weights.
    """
    from nli_check.datasets.claim_pairs import build_claim_pairs
    from nli_check.datasets.claim_pairs.documents import document_pairs

    pairs = build_claim_pairs(data_root, seed=seed)
    if documents:
        pairs += document_pairs(data_root, seed=seed)
    if not pairs:
        raise InputError(f"{data_root}: no claim-level pairs (none of the evidence-marked sets is there)")
    sample = sample_pairs(pairs, per_label=per_label, seed=seed)
    logger.info("%d claim pairs, %d drawn (at most %d per set and verdict)", len(pairs), len(sample), per_label)
    table = compute_features(checker, sample, workdir=workdir, progress=progress)
    weights = choose_weights(table) if choose_weights else None
    head = fit_head(table, trained_on={"claim_pairs": counts(table), "per_label": per_label, "seed": seed,
                                       "documents": documents,
                                       "nli_model": Path(checker.nli.name).name,
                                       "precision": checker.nli.precision,
                                       **({"weights": weights.to_json()} if weights else {})},
                    sample_weight=weights.of(table) if weights else None)
    head.save(model_folder)
    return head, table


def leave_one_out(table: FeatureTable, dev_records: Path, *, thresholds: tuple[float, float],
                  weights: GroupWeights | None = None) -> list[dict]:
    """For each mission dev set recorded under ``dev_records`` (``nli-check eval`` output:
    ``<set>/checker/predictions.jsonl``): balanced accuracy (supported vs not) and, for
    3-way sets, macro-F1 of the two thresholds, of the head fitted on every training set,
    and of the head fitted without the set that dev set comes from (DEV_ORIGINS; a set
    with no training counterpart is out of domain for both heads). ``weights``: the head's
    rows weighted per rule and set, as it was fitted."""
    sample_weight = weights.of(table) if weights else np.ones(len(table.labels))
    full = fit_linear(table.features, table.labels, classes=len(VERDICTS), sample_weight=sample_weight)
    rows = []
    folders = [dev_records / name for name in MISSION_DEV_SETS]
    for folder in [f for f in folders if (f / "checker" / "predictions.jsonl").is_file()]:
        examples, gold = read_eval_features(folder / "checker" / "predictions.jsonl")
        origin = DEV_ORIGINS.get(folder.name)
        # a set's whole-document pairs ("<set>:document") leave with it
        keep = np.char.partition(table.datasets.astype(str), ":")[:, 0] != origin if origin \
            else np.ones(len(table.labels), dtype=bool)
        held = fit_linear(table.features[keep], table.labels[keep], classes=len(VERDICTS),
                          sample_weight=sample_weight[keep]) if origin else full
        systems = {"thresholds": partial(threshold_label, thresholds=thresholds),
                   "head (all sets)": partial(head_label, full, contradiction_floor=thresholds[1]),
                   "head (without this set)": partial(head_label, held, contradiction_floor=thresholds[1])}
        row = {"dataset": folder.name, "n": len(gold), "held_out_training_set": origin}
        for name, label in systems.items():
            row[name] = replay_scores(gold, replay(examples, label))
        rows.append(row)
    return rows


TRANSFER_FILE = "verdict_transfer.json"


def write_transfer(model_folder: Path, rows: list[dict], *, dev_records: Path, weights: dict | None = None) -> Path:
    """The leave-one-dataset-out table beside the head (the model card shows it), and how
    its rule and set weights were chosen where they were; a file of its own, so that the
    head's file, and the digest eval records name it by, stay as fitted."""
    from nli_check.inputs import write_atomically

    path = Path(model_folder) / TRANSFER_FILE
    found = {"dev_records": str(dev_records), "rows": rows, **({"weights": weights} if weights else {})}
    write_atomically(path, json.dumps(found, indent=1) + "\n")
    return path


def threshold_label(x: np.ndarray, thresholds: tuple[float, float]) -> str:
    """The thresholds' verdict on a feature vector (its best p(entailment) and p(contradiction))."""
    return threshold_verdict(x[FEATURE_NAMES.index("entail_max")], x[FEATURE_NAMES.index("contradict_max")],
                             entailment_threshold=thresholds[0], contradiction_threshold=thresholds[1])


def head_label(model: LinearModel, x: np.ndarray, *, contradiction_floor: float | None = None) -> str:
    """The head's verdict on a feature vector, as :meth:`VerdictHead.decide` gives it."""
    return str(contradiction_gated(model.logits(x[None, :])[0], x, contradiction_floor))


def replay(examples: list[list[np.ndarray | None]], label: Callable[[np.ndarray], str]) -> list[str]:
    """Each example's verdict with its sentences labelled by ``label`` from their features
    (a sentence no source statement matched is unsupported), aggregated as eval does."""
    from nli_check.evaluation.evaluate import aggregate

    return [aggregate([label(x) if x is not None else UNSUPPORTED for x in sentences] or [UNSUPPORTED])
            for sentences in examples]


def replay_scores(gold: list[str], predicted: list[str]) -> dict:
    """Balanced accuracy supported vs not, and 3-way macro-F1 on a 3-way set."""
    from sklearn.metrics import balanced_accuracy_score, f1_score

    binary_gold = [g == "supported" for g in gold]
    binary_predicted = [p == "supported" for p in predicted]
    found = {"balanced_accuracy": round(float(balanced_accuracy_score(binary_gold, binary_predicted)), 4)}
    if len(set(gold)) == 3:
        found["macro_f1"] = round(float(f1_score(gold, predicted, labels=[str(v) for v in VERDICTS],
                                                 average="macro", zero_division=0)), 4)
    return found
