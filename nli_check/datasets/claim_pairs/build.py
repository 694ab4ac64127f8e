"""The build: every set's records, held-out ones dropped, through the rules in a fixed order,
then deduplicated; and the counts and JSON Lines of the pairs made."""

from __future__ import annotations

import json
import logging
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

from nli_check.datasets.claim_pairs.chunks import _gold_window
from nli_check.datasets.claim_pairs.holdout import _Holdout, _holdout
from nli_check.datasets.claim_pairs.readers import SETS
from nli_check.datasets.claim_pairs.records import ClaimPair, _norm, _Record
from nli_check.datasets.claim_pairs.rules.embellish import NEWS_LIKE, _embellish_rule
from nli_check.datasets.claim_pairs.rules.gold import _gold_rule, _no_evidence_rule, _removed_rule
from nli_check.datasets.claim_pairs.rules.join import _join_rule
from nli_check.datasets.claim_pairs.rules.swap import _swap_rule
from nli_check.errors import InputError
from nli_check.inputs import write_atomically
from nli_check.labels import SUPPORTED, VERDICTS, Verdict

# Logged under the package's name, as before the package was split into modules.
log = logging.getLogger(__package__)


def _set_pairs(name: str, records: Sequence[_Record], *, budget: int, rng: random.Random) -> list[ClaimPair]:
    made: list[ClaimPair | None] = []
    unshown = 0
    for record in records:
        window = _gold_window(record, budget=budget, rng=rng)
        gold = _gold_rule(name, record, window, budget=budget)
        unshown += gold is None
        made += [gold, _removed_rule(name, record, window), _no_evidence_rule(name, record, budget=budget, rng=rng)]
        if gold and gold.label == SUPPORTED:
            if name in NEWS_LIKE:
                made.append(_embellish_rule(gold, rng))
            made.append(_swap_rule(gold, rng))
    made += _join_rule(name, records, budget=budget, rng=rng)
    if unshown:
        log.info("%s: %d claims have evidence longer than %d words: no gold pair", name, unshown, budget)
    return [pair for pair in made if pair]


def _deduplicate(pairs: Sequence[ClaimPair]) -> list[ClaimPair]:
    """The first pair of each (normalised claim, chunk); a key that two rules label
    differently is dropped whole, since neither label can be trusted."""
    def key(pair: ClaimPair) -> tuple[str, str]:
        return _norm(pair.claim), " ".join(pair.chunk.split())

    labels: dict[tuple[str, str], set[Verdict]] = defaultdict(set)
    for pair in pairs:
        labels[key(pair)].add(pair.label)
    seen: set[tuple[str, str]] = set()
    kept = []
    for pair in pairs:
        k = key(pair)
        if k in seen or len(labels[k]) > 1:
            continue
        seen.add(k)
        kept.append(pair)
    conflicts = sum(1 for found in labels.values() if len(found) > 1)
    log.info("dedup: %d pairs -> %d (%d claim-chunk keys dropped for conflicting labels)",
             len(pairs), len(kept), conflicts)
    return kept


def _training_records(root: Path, sets: Sequence[str] | None) -> tuple[_Holdout, list[tuple[str, list[_Record]]]]:
    """The held-out claims and documents, and each set's records without them (sets whose
    files are absent are skipped unless named)."""
    names = list(SETS) if sets is None else list(sets)
    unknown = [name for name in names if name not in SETS]
    if unknown:
        raise ValueError(f"unknown set(s) {', '.join(unknown)}; expected some of {', '.join(SETS)}")
    holdout = _holdout(root)
    per_set = []
    for name in names:
        marker, reader = SETS[name]
        if not (root / marker).is_file():
            if sets is not None:
                raise InputError(f"{root / marker}: data file not found")
            log.info("%s: %s not found, set skipped", name, marker)
            continue
        records = reader(root)
        kept = [record for record in records if not holdout.holds(record)]
        log.info("%s: %d records, %d held out as dev or test", name, len(records), len(records) - len(kept))
        per_set.append((name, kept))
    return holdout, per_set


def build_claim_pairs(root: Path, *, seed: int = 13, chunk_words: int = 300,
                      sets: Sequence[str] | None = None) -> list[ClaimPair]:
    """Claim-level training pairs from the evidence-marked sets under ``root``.

    Args:
        root: the labelled-data folder (``shared/data``).
        seed: makes the chunks, partners and edits reproducible.
        chunk_words: the most words a chunk grows to around its evidence (evidence longer
            than that is kept whole).
        sets: names from :data:`SETS`; None: every set whose files are here.

    Returns:
        The pairs, deduplicated across sets on (normalised claim, chunk), with no claim or
        document of a dev or test portion.

    Raises:
        InputError: a named set's files are missing, or a row cannot be read (naming the file
            and row).
        ValueError: an unknown set name, or a chunk budget too small to hold a sentence.
    """
    if chunk_words < 20:
        raise ValueError(f"chunk_words must be at least 20, got {chunk_words}")
    holdout, per_set = _training_records(Path(root), sets)
    pairs: list[ClaimPair] = []
    for name, kept in per_set:
        pairs += _set_pairs(name, kept, budget=chunk_words, rng=random.Random(f"{seed}:{name}"))
    # A made claim (a swap, a join) could equal a held-out one by chance.
    pairs = [pair for pair in pairs if _norm(pair.claim) not in holdout.claims]
    return _deduplicate(pairs)


def counts(pairs: Sequence[ClaimPair], *, by: str = "label") -> dict[str, dict[str, int]]:
    """Pairs per dataset and label (``by="rule"``: per dataset and rule), datasets in the
    order they first appear; labels in :data:`~nli_check.labels.VERDICTS` order, zeros kept."""
    if by not in ("label", "rule"):
        raise ValueError(f"by must be 'label' or 'rule', got {by!r}")
    table: dict[str, Counter] = {}
    for pair in pairs:
        table.setdefault(pair.dataset, Counter())[pair.label if by == "label" else pair.rule] += 1
    if by == "rule":
        return {name: dict(sorted(found.items())) for name, found in table.items()}
    return {name: {str(label): found[label] for label in VERDICTS} for name, found in table.items()}


def write_jsonl(pairs: Sequence[ClaimPair], path: Path) -> None:
    """Write the pairs as JSON Lines (claim, chunk, label, dataset, rule, spans), all or nothing."""
    lines = [json.dumps({"claim": p.claim, "chunk": p.chunk, "label": str(p.label), "dataset": p.dataset,
                         "rule": p.rule, "spans": [list(span) for span in p.spans]}, ensure_ascii=False)
             for p in pairs]
    write_atomically(Path(path), "".join(line + "\n" for line in lines))
