"""The ``embellish`` rule: :mod:`nli_check.datasets.augment`'s embellishment of a supported
claim -> unsupported, the inserted words as gold spans; applied to the news-like sets only."""

from __future__ import annotations

import difflib
import random
import re

from nli_check.datasets import augment
from nli_check.datasets.claim_pairs.records import ClaimPair, Span
from nli_check.datasets.nli_pairs import Pair
from nli_check.labels import ENTAILMENT, UNSUPPORTED

# Sets whose text suits the embellishment generator's news-style inserts.
NEWS_LIKE = frozenset({"check_covid", "climate_fever", "covidfact", "factcheck_gpt", "fever_rte", "wice"})


def _changed_spans(old: str, new: str) -> tuple[Span, ...]:
    """Character ranges of the words of ``new`` that ``old`` does not have (case ignored; an
    article changed to fit an inserted word is not counted)."""
    old_words = [m.group().lower() for m in re.finditer(r"\w+", old)]
    new_matches = list(re.finditer(r"\w+", new))
    matcher = difflib.SequenceMatcher(a=old_words, b=[m.group().lower() for m in new_matches], autojunk=False)
    marked = [k for tag, _, _, j1, j2 in matcher.get_opcodes() if tag in ("insert", "replace")
              for k in range(j1, j2) if tag == "insert" or new_matches[k].group().lower() not in {"a", "an"}]
    spans: list[list[int]] = []
    for k in marked:
        if spans and spans[-1][2] == k - 1:
            spans[-1][1], spans[-1][2] = new_matches[k].end(), k
        else:
            spans.append([new_matches[k].start(), new_matches[k].end(), k])
    return tuple((start, end) for start, end, _ in spans)


def _embellish_rule(gold: ClaimPair, rng: random.Random) -> ClaimPair | None:
    """augment.py's embellishment of a supported claim -> unsupported, the inserted words as spans."""
    if len(gold.claim.split()) < 4:
        return None
    for _ in range(3):
        made = augment.add_unsupported(Pair(gold.chunk, gold.claim, ENTAILMENT, gold.dataset), rng)
        spans = made and _changed_spans(gold.claim, made.hypothesis)
        if made and spans:
            return ClaimPair(made.hypothesis, gold.chunk, UNSUPPORTED, gold.dataset, "embellish", spans)
    return None
