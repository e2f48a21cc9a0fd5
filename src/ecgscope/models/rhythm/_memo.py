"""A bounded in-process memo keyed by an array's content, for per-record preprocessing that fitting never changes."""

from __future__ import annotations

import hashlib
from typing import Any, Callable, Hashable

import numpy as np

__all__ = ["ArrayMemo"]


class ArrayMemo:
    """``memo.get(array, extra, compute)``: ``compute()`` once per (array content, ``extra``), oldest dropped when full.

    Cross-validation folds and zero-shot runs see the same records many
    times; what is derived from a record alone (R peaks, HRV, windows) is
    computed once. ``max_items`` bounds memory.
    """

    def __init__(self, max_items: int) -> None:
        self.max_items = int(max_items)
        self._items: dict[tuple, Any] = {}

    def get(self, array: np.ndarray, extra: Hashable, compute: Callable[[], Any]) -> Any:
        """The memoised ``compute()`` for this array content and ``extra`` (computed now if absent)."""
        data = np.ascontiguousarray(array)
        key = (hashlib.blake2b(data.view(np.uint8), digest_size=16).hexdigest(), data.shape, str(data.dtype), extra)
        if key not in self._items:
            if len(self._items) >= self.max_items:
                del self._items[next(iter(self._items))]
            self._items[key] = compute()
        return self._items[key]

    def clear(self) -> None:
        """Forget every memoised item."""
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
