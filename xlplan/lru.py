"""A dictionary that keeps only its most recently used entries."""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Recent(Generic[K, V]):
    """At most ``size`` entries; reading or writing one makes it the most recent, and the
    least recent goes when a new one would exceed ``size``. For per-unit templates kept by
    a long-lived process: a plan with thousands of units must not keep thousands."""

    def __init__(self, size: int):
        self.size = size
        self.made = 0  # how many entries were ever added
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> V:
        self._items[key] = value
        self._items.move_to_end(key)
        self.made += 1
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)
