"""The content-keyed memo behind the rhythm preprocessing and the classical baselines."""

import numpy as np

from ecgscope.models.rhythm._memo import ArrayMemo


def test_computes_once_per_content_and_extra():
    memo, calls = ArrayMemo(10), []
    a = np.arange(6, dtype=np.float32)

    def compute():
        calls.append(1)
        return len(calls)

    assert memo.get(a, "x", compute) == 1
    assert memo.get(a.copy(), "x", compute) == 1  # same content, another array object
    assert memo.get(a, "y", compute) == 2  # other extra
    assert memo.get(a.reshape(2, 3), "x", compute) == 3  # other shape
    assert memo.get(a + 1, "x", compute) == 4  # other content
    assert len(memo) == 4


def test_oldest_item_is_dropped_when_full():
    memo = ArrayMemo(2)
    arrays = [np.full(3, i, np.float32) for i in range(3)]
    for i, a in enumerate(arrays):
        memo.get(a, None, lambda i=i: i)
    assert len(memo) == 2
    assert memo.get(arrays[0], None, lambda: "again") == "again"  # evicted first, so recomputed
    assert memo.get(arrays[2], None, lambda: "unused") == 2
    memo.clear()
    assert len(memo) == 0
