"""Row-wise searches on beat-aligned matrices (one row per beat), all vectorised.

A :class:`BeatFrame` holds the wavelet scales cut around every beat on a
common grid of offsets; positions inside it are column indices, -1 when absent.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BeatFrame"]


class BeatFrame:
    """Wavelet rows around each beat: ``w[k]`` is ``(beats, L)`` for scale ``2^(k+1)``.

    Column ``c`` is sample ``r_b + c - left`` of beat ``b``; samples outside the
    signal read as 0 and are flagged in ``outside``.
    """

    def __init__(self, W: np.ndarray, r: np.ndarray, left: int, right: int) -> None:
        n = W.shape[1]
        self.left = int(left)
        self.cols = np.arange(left + right + 1)
        pos = r[:, None] + self.cols[None, :] - left
        self.outside = (pos < 0) | (pos >= n)
        idx = np.clip(pos, 0, n - 1)
        self.w = [np.where(self.outside, 0.0, W[k][idx]) for k in range(W.shape[0])]
        self.rows = np.arange(r.size)

    # ------------------------------------------------------------------ basics
    def col(self, offset) -> np.ndarray:
        """Column of an offset (samples from R), broadcast per beat."""
        return np.asarray(offset) + self.left

    def within(self, a, b) -> np.ndarray:
        """Mask of columns ``a <= c <= b`` inside the signal (per-beat bounds)."""
        a = np.asarray(a)[:, None]
        b = np.asarray(b)[:, None]
        return (self.cols[None, :] >= a) & (self.cols[None, :] <= b) & ~self.outside

    @staticmethod
    def first(mask: np.ndarray) -> np.ndarray:
        """First True column per row, -1 when none."""
        return np.where(mask.any(axis=1), mask.argmax(axis=1), -1)

    @staticmethod
    def last(mask: np.ndarray) -> np.ndarray:
        """Last True column per row, -1 when none."""
        return np.where(mask.any(axis=1), mask.shape[1] - 1 - mask[:, ::-1].argmax(axis=1), -1)

    def at(self, m: np.ndarray, c: np.ndarray) -> np.ndarray:
        """``m[b, c_b]`` (0 where ``c_b`` is -1)."""
        return np.where(c >= 0, m[self.rows, np.clip(c, 0, m.shape[1] - 1)], 0.0)

    # -------------------------------------------------------------- features
    @staticmethod
    def extrema(m: np.ndarray) -> np.ndarray:
        """Local maxima of ``|m|`` (modulus maxima), signed: strict on the right."""
        a = np.abs(m)
        out = np.zeros(m.shape, bool)
        same_left = np.sign(m[:, 1:-1]) == np.sign(m[:, :-2])
        out[:, 1:-1] = (a[:, 1:-1] >= a[:, :-2]) & (a[:, 1:-1] > a[:, 2:]) & (a[:, 1:-1] > 0)
        out[:, 1:-1] &= same_left | (a[:, :-2] == 0)
        return out

    @staticmethod
    def local_min_abs(m: np.ndarray) -> np.ndarray:
        """Columns where ``|m|`` has a local minimum (or ``m`` changes sign)."""
        a = np.abs(m)
        out = np.zeros(m.shape, bool)
        out[:, 1:-1] = (a[:, 1:-1] <= a[:, :-2]) & (a[:, 1:-1] <= a[:, 2:])
        out[:, :-1] |= np.sign(m[:, :-1]) * np.sign(m[:, 1:]) < 0
        return out

    def largest(self, m: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Column of the largest ``|m|`` among ``mask`` per row, -1 when none."""
        a = np.where(mask, np.abs(m), -1.0)
        c = a.argmax(axis=1)
        return np.where(a[self.rows, c] > 0, c, -1)

    def zero_crossing(self, m: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Column of the wave peak between moduli ``a < b``: first sign change after ``a``."""
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        change = np.zeros(m.shape, bool)
        change[:, 1:] = np.sign(m[:, 1:]) != np.sign(m[:, :-1])
        c = self.first(change & self.within(lo + 1, hi) & (lo >= 0)[:, None] & (hi >= 0)[:, None])
        return c

    def _reached(self, m: np.ndarray, start: np.ndarray, ratio, min_frac: float) -> np.ndarray:
        mod = np.abs(self.at(m, start))
        ref = mod * np.broadcast_to(np.asarray(ratio, dtype=float), start.shape)
        dip = self.local_min_abs(m) & (np.abs(m) <= min_frac * mod[:, None])
        return (np.abs(m) <= ref[:, None]) | dip

    def threshold_back(self, m: np.ndarray, start: np.ndarray, ratio, limit: int,
                       min_frac: float = 1.0) -> np.ndarray:
        """Walking back from ``start``: first column with ``|m| <= ratio |m[start]|``, or a
        local minimum of ``|m|`` below ``min_frac |m[start]|``; -1 if none within ``limit``."""
        cond = self._reached(m, start, ratio, min_frac)
        c = self.last(cond & self.within(start - limit, start - 1))
        return np.where(start >= 0, c, -1)

    def threshold_forward(self, m: np.ndarray, start: np.ndarray, ratio, limit: int,
                          min_frac: float = 1.0) -> np.ndarray:
        """Walking on from ``start``: like :meth:`threshold_back`, forwards."""
        cond = self._reached(m, start, ratio, min_frac)
        c = self.first(cond & self.within(start + 1, start + limit))
        return np.where(start >= 0, c, -1)
