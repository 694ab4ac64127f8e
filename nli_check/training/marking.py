"""Fitting the word marking (:mod:`nli_check.pipeline.mark`) of one NLI model.

``nli-check fit-marking`` runs the real checker, with that model deciding, on claims whose
unsupported or changed words are known, and keeps each marking candidate's features
(:data:`~nli_check.pipeline.mark.MARK_FEATURE_NAMES`, the ablation scored by that model):

* **weights**, on training data only: WiCE's token-annotated training claims against their
  whole cited page (as a check sees them), and a capped sample of the claim-level pairs of
  :mod:`nli_check.datasets.claim_pairs` that carry gold spans (inserted embellishments,
  swapped words, joined unsupported halves) against their chunk; a logistic regression,
  classes weighted to balance;
* **the operating point**, on WiCE's token-annotated dev claims (``wice-tokens-dev``, as
  ``nli-check eval`` scores it): the threshold and the words marked per claim at most with
  the highest token precision among those whose recall reaches ``recall_floor`` (where none
  does, the highest recall); of equal precisions, the one that marks fewest words.

The candidates' features of each claim are computed once; thresholds are replayed on them
without running a model again. Verdicts are not touched: the checker decides as it does in
a check, and only the words it marks change.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from nli_check.batch.chunks import BatchChecker
from nli_check.batch.corpus import Article, BadRow
from nli_check.config import MARK_PAIRS_PER_RULE, MARK_RECALL_FLOOR
from nli_check.errors import InputError
from nli_check.labels import SUPPORTED, UNSUPPORTED
from nli_check.pipeline.mark import MARK_FEATURE_NAMES, WordHead

logger = logging.getLogger(__name__)

RECALL_FLOOR = MARK_RECALL_FLOOR
PAIRS_PER_RULE = MARK_PAIRS_PER_RULE
MAX_PHRASES_TRIED = (1, 2, 3, 4)  # phrases marked per claim at most: a few (an editor marks two or three a line)
DEV_SET = "wice-tokens-dev"
@dataclass(frozen=True)
class Item:
    """A claim checked against its sources, with the character spans that annotators (or a
    rule) flag as beyond the sources."""

    claim: str
    sources: tuple[str, ...]
    gold: tuple[tuple[int, int], ...]
    origin: str  # the set (and rule) it came from


@dataclass
class Checked:
    """One item after the check: per claim sentence, its start in the item's text, its
    verdict, its fixed spans (marked without the word head) and its marking rows."""

    item: Item
    sentences: list[tuple[int, str, list[tuple[int, int]], object]]  # (start, label, spans, MarkRows | None)


def training_items(data_root: Path, *, per_rule: int = PAIRS_PER_RULE, seed: int = 13) -> list[Item]:
    """WiCE's token-annotated training claims against their whole page, and a sample of the
    span-marked claim pairs against their chunk (at most ``per_rule`` per set and rule)."""
    from nli_check.datasets import nli_pairs
    from nli_check.datasets.claim_pairs import build_claim_pairs

    items = []
    path = Path(data_root) / "wice" / "non_supported_tokens_train.jsonl"
    if not path.is_file():
        raise InputError(f"{path}: missing (the word marking learns from WiCE's token annotations)")
    for where, row in nli_pairs.read_jsonl(path):
        claim = nli_pairs._field(row, "claim", where)
        spans = nli_pairs.token_spans(claim, row.get("claim_tokens") or [], row.get("non_supported_spans") or [], where)
        evidence = row.get("evidence")
        if not isinstance(evidence, list) or not evidence:
            raise InputError(f"{where}: evidence is not a list of sentences")
        items.append(Item(claim, ("\n".join(map(str, evidence)),), tuple(spans), "wice-tokens-train"))
    groups: dict[tuple[str, str], list] = defaultdict(list)
    for pair in build_claim_pairs(Path(data_root), seed=seed):
        if pair.spans and pair.label != SUPPORTED and pair.dataset != "wice":
            groups[(pair.dataset, pair.rule)].append(pair)
    rng = random.Random(seed)
    for key in sorted(groups):
        group = groups[key]
        rng.shuffle(group)
        items += [Item(p.claim, (p.chunk,), tuple(tuple(s) for s in p.spans), f"{p.dataset}/{p.rule}")
                  for p in group[:per_rule]]
    return items


def dev_items(data_root: Path) -> list[Item]:
    """``wice-tokens-dev`` as ``nli-check eval`` reads it."""
    from nli_check.datasets.eval_sets import load

    evalset = load(DEV_SET, data_root=Path(data_root))
    return [Item(e.claim, tuple(e.sources), tuple(e.gold_spans or ()), DEV_SET) for e in evalset.examples]


def check_items(checker, items: Sequence[Item], *, progress: Callable[[int, int], None] | None = None,
                piece: int = 200) -> list[Checked]:
    """Every item through the checker (the batch engine's driver, pieces of ``piece``),
    keeping each claim sentence's marking rows."""
    run = BatchChecker(checker.with_settings(mark_features=True))
    checked = []
    for start in range(0, len(items), piece):
        part = items[start:start + piece]
        articles = [Article(line=start + n + 1, id=start + n, text=item.claim, sources=list(item.sources),
                            source_names=[f"source {k + 1}" for k in range(len(item.sources))])
                    for n, item in enumerate(part)]
        for item, report in zip(part, run.reports(articles)):
            if isinstance(report, BadRow):
                # as nli-check eval records it: called unsupported, nothing marked
                logger.warning("%s: %s", item.origin, report.reason)
                checked.append(Checked(item, []))
                continue
            checked.append(Checked(item, [
                (claim.start, str(claim.label),
                 [(s.start - claim.start, s.end - claim.start) for s in claim.unsupported_spans], claim.mark_rows)
                for claim in report.claims]))
        if progress:
            progress(min(start + piece, len(items)), len(items))
    return checked


def word_table(checked: Sequence[Checked]) -> tuple[np.ndarray, np.ndarray]:
    """The candidates' features and labels (1: the candidate lies in a gold span)."""
    rows, labels = [], []
    for found in checked:
        for start, _, _, mark_rows in found.sentences:
            if mark_rows is None:
                continue
            for k, index in enumerate(mark_rows.plan.candidates):
                word = mark_rows.plan.words[index]
                rows.append(mark_rows.features[k])
                labels.append(any(a < word.end + start and word.start + start < b for a, b in found.item.gold))
    return (np.array(rows, dtype=np.float64).reshape(len(rows), len(MARK_FEATURE_NAMES)),
            np.array(labels, dtype=np.int64))


def token_scores(head: WordHead, checked: Sequence[Checked], *, threshold: float) -> dict:
    """Token precision, recall and F1 of the marks at ``threshold``, and the share of words
    marked in the claims called unsupported, as ``nli-check eval`` computes them."""
    from nli_check.evaluation.evaluate import aggregate, marked_tokens

    claims = []
    for found in checked:
        spans = []
        for start, _, fixed, mark_rows in found.sentences:
            if mark_rows is not None:
                phrases = head.phrases(mark_rows.plan, head.scores(mark_rows.features), threshold=threshold)
                spans += [(start + p.start, start + p.end) for p in phrases]
            else:
                spans += [(start + a, start + b) for a, b in fixed]
        # as eval records it: an item the checker refused is called unsupported
        labels = [label for _, label, _, _ in found.sentences] or [UNSUPPORTED]
        claims.append((found.item.claim, found.item.gold, spans, aggregate(labels) == UNSUPPORTED))
    return marked_tokens(claims)


def choose_operating_point(head: WordHead, checked: Sequence[Checked], *, recall_floor: float = RECALL_FLOOR
                           ) -> tuple[int, float, dict]:
    """The phrases per claim and the threshold with the best token precision at recall >=
    ``recall_floor`` (none reaching it: the best recall); of equal precisions, the one
    marking the fewest words. Returns (max_phrases, threshold, scores)."""
    tried = []
    for max_phrases in MAX_PHRASES_TRIED:
        bounded = replace(head, max_phrases=max_phrases)
        tried += [(max_phrases, round(float(t), 2), token_scores(bounded, checked, threshold=float(t)))
                  for t in np.arange(0.05, 0.96, 0.01)]
    reaching = [found for found in tried if (found[2]["recall"] or 0.0) >= recall_floor]
    if not reaching:
        return max(tried, key=lambda found: ((found[2]["recall"] or 0.0), found[2]["precision"] or 0.0))
    return max(reaching, key=lambda found: (found[2]["precision"] or 0.0, -(found[2]["marked_share"] or 0.0)))


def fit_marking(*, data_root: Path, checker, model_folder: Path, recall_floor: float = RECALL_FLOOR,
                per_rule: int = PAIRS_PER_RULE, seed: int = 13,
                progress: Callable[[str, int, int], None] | None = None) -> WordHead:
    """Fit the word head of ``checker``'s NLI model and write it beside the model.

    Args:
        data_root: the labelled-data folder (``shared/data``).
        checker: a :class:`~nli_check.pipeline.checker.Checker` whose NLI model decides (and
            scores the ablations), with its verdict as a check gives it.
        model_folder: where ``word_head.json`` goes (the NLI model's folder).
        recall_floor: the threshold's recall floor on ``wice-tokens-dev``.
        per_rule: span-marked claim pairs drawn per training set and rule.

    Returns:
        The :class:`WordHead` written.

    Examples:
        >>> fit_marking(data_root=Path("../shared/data"), checker=Checker(), model_folder=Path("models/nli-minilm-l6"))
    """
    from nli_check.training.verdict import fit_linear

    train = training_items(data_root, per_rule=per_rule, seed=seed)
    dev = dev_items(data_root)
    tick = (lambda name: (lambda done, total: progress(name, done, total))) if progress else (lambda name: None)
    train_checked = check_items(checker, train, progress=tick("training claims"))
    x, y = word_table(train_checked)
    if len(set(y.tolist())) < 2:
        raise InputError("the training claims gave no candidate inside (or none outside) a gold span: "
                         "the word marking cannot be fitted")
    model = fit_linear(x, y, classes=2)
    origins: dict[str, int] = defaultdict(int)
    for item in train:
        origins[item.origin.split("/")[0]] += 1
    trained_on = {"nli_model": Path(checker.nli.name).name, "precision": checker.nli.precision,
                  "claims": dict(sorted(origins.items())), "candidates": int(len(y)),
                  "candidates_in_gold_spans": int(y.sum()), "per_rule": per_rule, "seed": seed}
    head = WordHead(model, 0.5, MAX_PHRASES_TRIED[-1], trained_on, {})
    dev_checked = check_items(checker, dev, progress=tick(DEV_SET))
    max_phrases, threshold, scores = choose_operating_point(head, dev_checked, recall_floor=recall_floor)
    chosen_on = {"set": DEV_SET, "rule": f"best token precision at recall >= {recall_floor}, over at most "
                                         f"{list(MAX_PHRASES_TRIED)} phrases per claim",
                 "recall_floor": recall_floor, **{k: scores[k] for k in ("precision", "recall", "f1", "marked_share")}}
    head = WordHead(model, threshold, max_phrases, trained_on, chosen_on)
    head.save(model_folder)
    return head

