"""Chunks of a record's document, in the shape the checker infers on: windows of adjacent
sentences around a core, packed up to a word budget, with the sentences a rule must leave out
stepped over or not crossed."""

from __future__ import annotations

import random
from collections.abc import Sequence

from nli_check.datasets.claim_pairs.records import _Record


def _pack(record: _Record, core: frozenset[int] | set[int], *, budget: int, rng: random.Random,
          skip: frozenset[int] = frozenset(), stop: frozenset[int] = frozenset()) -> list[int]:
    """Indices of a window of adjacent sentences around ``core``.

    Args:
        record: the record whose document is windowed.
        core: sentences always kept (the evidence), whatever their length.
        budget: the most words the window grows to.
        rng: picks how far the window leans left or right, so the evidence is not always central.
        skip: sentences stepped over (left out, the window goes on past them).
        stop: sentences the window does not cross.

    Returns:
        Sorted sentence indices; the core alone when its sentences are too far apart to fill
        between within the budget.
    """
    kept = sorted(set(core) - skip)
    if not kept:
        return []
    sizes = record.sizes
    used = sum(sizes[i] for i in kept)
    between = [i for i in range(kept[0], kept[-1] + 1) if i not in core and i not in skip]
    if any(i in stop for i in between) or used + sum(sizes[i] for i in between) > budget:
        return kept
    chosen = set(kept) | set(between)
    used += sum(sizes[i] for i in between)
    lean = rng.random()
    left, right = kept[0] - 1, kept[-1] + 1
    open_left, open_right = True, True
    while open_left or open_right:
        go_left = open_left and (not open_right or rng.random() < lean)
        index = left if go_left else right
        if not 0 <= index < len(sizes) or index in stop or (index not in skip and used + sizes[index] > budget):
            if go_left:
                open_left = False
            else:
                open_right = False
            continue
        if index not in skip:
            chosen.add(index)
            used += sizes[index]
        if go_left:
            left -= 1
        else:
            right += 1
    return sorted(chosen)


def _text(record: _Record, indices: Sequence[int]) -> str:
    return " ".join(record.doc[i] for i in indices if record.doc[i])


def _words(record: _Record, indices: Sequence[int]) -> int:
    return sum(record.sizes[i] for i in indices)


def _gold_window(record: _Record, *, budget: int, rng: random.Random) -> list[int]:
    """The chunk around the evidence; a record without marked evidence gets a window around a
    random sentence (none of its sentences settles the claim)."""
    core = record.evidence
    if not core:
        allowed = [i for i, size in enumerate(record.sizes) if size and i not in record.exclude]
        if not allowed:
            return []
        core = frozenset({rng.choice(allowed)})
    return _pack(record, core, budget=budget, rng=rng, skip=record.exclude)


def _without_evidence(record: _Record, window: Sequence[int]) -> list[int]:
    return [i for i in window if i not in record.evidence and i not in record.exclude and record.sizes[i]]


def _elsewhere_window(record: _Record, *, budget: int, rng: random.Random) -> list[int]:
    barred = record.evidence | record.exclude
    allowed = [i for i, size in enumerate(record.sizes) if size and i not in barred]
    if not allowed:
        return []
    return _pack(record, {rng.choice(allowed)}, budget=budget, rng=rng, stop=barred)
