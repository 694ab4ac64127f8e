"""Batches by token budget: inputs sorted by length, each batch as large as its padded
size allows, so short inputs run many at a time and long ones few, with little padding."""

from __future__ import annotations

import numpy as np


def padded(length: int, multiple: int) -> int:
    """``length`` rounded up to a multiple of ``multiple`` (the width a batch is padded to)."""
    return -(-length // multiple) * multiple


def token_budget_batches(lengths: list[int], *, max_tokens: int, max_batch: int,
                         pad_to_multiple_of: int = 1) -> list[list[int]]:
    """Indices into ``lengths`` grouped into batches, shortest inputs first.

    Args:
        lengths: each input's length in tokens.
        max_tokens: the most padded tokens a batch holds (its size times its padded width);
            a single input longer than that is a batch of its own.
        max_batch: the most inputs in a batch.
        pad_to_multiple_of: the width a batch is padded to is a multiple of this.

    Returns:
        Lists of indices; every index appears once.

    Examples:
        >>> token_budget_batches([5, 60, 6, 61], max_tokens=128, max_batch=8)
        [[0, 2], [1, 3]]
    """
    if max_tokens < 1 or max_batch < 1:
        raise ValueError(f"max_tokens and max_batch must be at least 1, got {max_tokens} and {max_batch}")
    order = np.argsort(np.asarray(lengths, dtype=np.int64), kind="stable").tolist()
    batches: list[list[int]] = []
    current: list[int] = []
    for index in order:
        # Sorted ascending: the newest input sets the batch's padded width.
        width = padded(lengths[index], pad_to_multiple_of)
        if current and (len(current) + 1 > max_batch or (len(current) + 1) * width > max_tokens):
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches
