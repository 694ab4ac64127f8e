"""The dev portions of the general NLI sets, kept out of training.

Defined here, beside the readers, rather than in the trainer: the trainer removes these
pairs from its mix, and the evaluation sets (``nli_check.datasets.eval_sets``) and the
benchmarks score on them, so both sides read the one list without ``datasets`` reaching up
into ``training``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from nli_check.datasets import nli_pairs
from nli_check.datasets.nli_pairs import Pair

# The share of TaxiNLI held out (``taxinli-heldout``); the rest may be trained on.
TAXINLI_HELD_OUT = 0.25


def held_out(key: str, fraction: float) -> bool:
    """A stable split by content hash, so the same pairs are held out on every run."""
    digest = hashlib.sha1(key.encode("utf-8")).digest()
    return digest[0] / 256 < fraction


def dev_sets(root: Path) -> dict[str, list[Pair]]:
    """The dev portions kept out of training (their pairs are removed from the mix);
    ``taxinli-heldout`` is also an eval set (``nli_check.datasets.eval_sets``)."""
    taxinli = [pair for pair in nli_pairs.taxinli(root) if held_out(pair.premise + pair.hypothesis, TAXINLI_HELD_OUT)]
    return {
        "snli-test": nli_pairs.snli(root, "test"),
        "taxinli-heldout": taxinli,
        "check-covid-dev": nli_pairs.check_covid(root, "dev"),
        "anli-r3-dev": nli_pairs.anli(root, "R3"),
        "healthver-dev": nli_pairs.healthver(root),
    }
