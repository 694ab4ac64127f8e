"""A small bounded least-recently-used cache keyed by content hash, shared by the
stages that reuse work (embeddings, NLI results, segmented sources)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Generic, TypeVar

Value = TypeVar("Value")


def content_key(*parts: str) -> bytes:
    """A fixed-size key for one or more texts (NUL-separated, so ("ab", "c") != ("a", "bc"))."""
    return hashlib.sha1("\x00".join(parts).encode("utf-8")).digest()


class LRUCache(Generic[Value]):
    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._items: OrderedDict[object, Value] = OrderedDict()

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: object) -> Value:
        self._items.move_to_end(key)
        return self._items[key]

    def put(self, key: object, value: Value) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.max_size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()
