"""Fixed-length windows of variable-length records, and their regrouping per record.

Rhythm models see windows of ``window`` samples; a record of any length
becomes the windows starting every ``hop`` samples, with the last one
aligned to the record's end so no tail is lost (a 33-s record with 10-s
windows and a 5-s hop gives starts 0, 5, 10, 15, 20, 23 s). A record shorter
than one window gives one window, zero-padded at the end. Window
probabilities are pooled back to one record score with
:func:`ecgscope.models.blocks.pooling.pool_windows` after
:func:`group_by_record` has padded them into ``(records, windows, classes)``.
"""

from __future__ import annotations

import numpy as np

from ...errors import ConfigError

__all__ = ["cut_windows", "group_by_record", "standardise_windows", "window_starts"]


def window_starts(n_samples: int, window: int, hop: int) -> np.ndarray:
    """Start samples (int64) of the windows covering ``n_samples``; the last window ends at the record's end."""
    if window < 1 or hop < 1:
        raise ConfigError(f"window={window} and hop={hop} samples must be positive",
                          fix="choose window_s and hop_s of at least one sample at the model's fs")
    if n_samples <= window:
        return np.zeros(1, np.int64)
    starts = np.arange(0, n_samples - window + 1, hop, dtype=np.int64)
    if starts[-1] != n_samples - window:
        starts = np.append(starts, n_samples - window)
    return starts


def cut_windows(x: np.ndarray, window: int, hop: int) -> tuple[np.ndarray, np.ndarray]:
    """``(windows (n, leads, window) float32, starts (n,) int64)`` of a ``(leads, samples)`` signal.

    A signal shorter than ``window`` is zero-padded at its end.
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float32))
    n = x.shape[-1]
    if n < window:
        x = np.pad(x, ((0, 0), (0, window - n)))
    starts = window_starts(n, window, hop)
    idx = starts[:, None] + np.arange(window)[None, :]
    return np.ascontiguousarray(x[:, idx].transpose(1, 0, 2)), starts


def standardise_windows(windows: np.ndarray, eps: float = 1e-3) -> np.ndarray:
    """Per-window, per-lead z-score (mean 0, SD 1); flat leads stay 0. ``(n, leads, L)`` float32."""
    w = np.asarray(windows, dtype=np.float32)
    mean = w.mean(axis=-1, keepdims=True)
    std = w.std(axis=-1, keepdims=True)
    return ((w - mean) / np.maximum(std, eps)).astype(np.float32)


def group_by_record(values: np.ndarray, record: np.ndarray, n_records: int) -> tuple[np.ndarray, np.ndarray]:
    """Pad per-window ``values (n_windows, K)`` into ``(n_records, max_windows, K)`` and a bool mask.

    ``record[i]`` is the record index (``0..n_records-1``) of window ``i``;
    windows keep their order inside each record. Padded slots are 0 and False.
    """
    values = np.asarray(values)
    record = np.asarray(record, dtype=np.int64)
    counts = np.bincount(record, minlength=n_records)
    width = max(int(counts.max()) if counts.size else 0, 1)
    order = np.argsort(record, kind="stable")
    sorted_rec = record[order]
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.arange(record.size) - first[sorted_rec]
    out = np.zeros((n_records, width) + values.shape[1:], dtype=values.dtype)
    mask = np.zeros((n_records, width), dtype=bool)
    out[sorted_rec, slot] = values[order]
    mask[sorted_rec, slot] = True
    return out, mask
