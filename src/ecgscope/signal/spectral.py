"""Welch's averaged periodogram for the short series the feature code measures many times.

:func:`welch_psd` gives what ``scipy.signal.welch`` gives for a 1-D series
with a Hann window, ``noverlap = nperseg // 2``, constant or linear detrend
and density scaling (one-sided), to rounding. It computes every segment's
detrend and FFT at once: SciPy's general path detrends segment by segment,
which dominates when a record's thousands of short spans each need a spectrum.
Welch, IEEE Trans. Audio Electroacoust. 15(2), 1967.
"""

from __future__ import annotations

import numpy as np

from ..errors import SignalError

__all__ = ["welch_psd"]


def welch_psd(x, fs: float, nperseg: int, *, nfft: int | None = None,
              detrend: str = "constant") -> tuple[np.ndarray, np.ndarray]:
    """``(freqs Hz, one-sided PSD units²/Hz)`` of a 1-D series: Hann segments of ``nperseg`` samples, half
    overlapping (a tail shorter than a hop is left out), each ``detrend``-ed (``"constant"`` or ``"linear"``),
    zero-padded to ``nfft`` (default ``nperseg``)."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    nperseg = min(int(nperseg), x.size)
    nfft = nperseg if nfft is None else int(nfft)
    if nperseg < 1 or nfft < nperseg:
        raise SignalError(f"nperseg={nperseg}, nfft={nfft} for {x.size} samples",
                          fix="give at least one sample and nfft >= nperseg")
    if detrend not in ("constant", "linear"):
        raise SignalError(f"unknown detrend={detrend!r}", fix="use 'constant' or 'linear'")
    step = nperseg - nperseg // 2
    seg = np.lib.stride_tricks.sliding_window_view(x, nperseg)[::step]
    seg = seg - seg.mean(axis=1, keepdims=True)
    if detrend == "linear" and nperseg > 1:
        t = np.arange(nperseg) - (nperseg - 1) / 2
        seg = seg - np.outer(seg @ t / (t @ t), t)
    window = np.hanning(nperseg + 1)[:-1] if nperseg > 1 else np.ones(1)  # periodic Hann, as SciPy's
    power = np.abs(np.fft.rfft(seg * window, n=nfft, axis=1)) ** 2
    psd = power.mean(axis=0) / (fs * (window ** 2).sum())
    psd[1:nfft // 2 + (nfft % 2)] *= 2  # one-sided: every bin but DC (and Nyquist, for even nfft) twice
    return np.fft.rfftfreq(nfft, 1.0 / fs), psd
