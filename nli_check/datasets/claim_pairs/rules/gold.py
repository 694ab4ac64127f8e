"""The rules on a record's own document: ``gold`` (the chunk around the evidence -> the gold
verdict), ``evidence_removed`` and ``no_evidence_chunk`` (a chunk without the evidence ->
unsupported)."""

from __future__ import annotations

import random
from collections.abc import Sequence

from nli_check.datasets.claim_pairs.chunks import _elsewhere_window, _text, _without_evidence, _words
from nli_check.datasets.claim_pairs.records import ClaimPair, _Record, _restates
from nli_check.labels import UNSUPPORTED


def _gold_rule(name: str, record: _Record, window: Sequence[int], *, budget: int) -> ClaimPair | None:
    """(claim, chunk around its gold evidence) -> the gold verdict. None when the evidence alone
    is longer than a chunk: the model would see it cut."""
    if not window or _words(record, window) > budget:
        return None
    return ClaimPair(record.claim, _text(record, window), record.label, name, "gold", record.spans)


def _removed_rule(name: str, record: _Record, window: Sequence[int]) -> ClaimPair | None:
    """The gold chunk without its evidence sentences -> unsupported."""
    if not record.settles:
        return None
    rest = _without_evidence(record, window)
    if not rest or _restates(record.claim, [record.doc[i] for i in rest]):
        return None
    return ClaimPair(record.claim, _text(record, rest), UNSUPPORTED, name, "evidence_removed")


def _no_evidence_rule(name: str, record: _Record, *, budget: int, rng: random.Random) -> ClaimPair | None:
    """A window of the same document that holds none of the evidence -> unsupported."""
    if not record.settles:
        return None
    window = _elsewhere_window(record, budget=budget, rng=rng)
    if not window or _restates(record.claim, [record.doc[i] for i in window]):
        return None
    return ClaimPair(record.claim, _text(record, window), UNSUPPORTED, name, "no_evidence_chunk")
