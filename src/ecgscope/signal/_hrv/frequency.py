"""Frequency-domain HRV: band powers of the NN series' power spectral density.

Methods:

* ``"welch"`` — the NN series is interpolated at 4 Hz with a cubic spline
  over beat times, then Welch's averaged periodogram (Hann windows of
  ``window_s`` seconds, 50 % overlap, linear detrend per segment; a series
  shorter than two windows gets one window over its whole length); Task Force
  of the ESC and NASPE, Circulation 93(5), 1996; Welch, IEEE Trans. Audio
  Electroacoust. 15(2), 1967.
* ``"lomb"`` — Lomb-Scargle periodogram of the uneven series itself (no
  interpolation); Lomb, Astrophys. Space Sci. 39, 1976; Scargle, ApJ 263,
  1982; for HRV: Laguna, Moody & Mark, IEEE TBME 45(6), 1998. Scaled to a
  one-sided PSD in ms²/Hz (``2 P T / N``) so that its integral is the variance.

Powers are in ms² (trapezoid integral of the PSD over ``[low, high)``); a band
whose lower edge needs a longer recording than the series (``duration <
0.95 / low``) is NaN. ``LFnu = 100 LF / (LF + HF)``.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.signal import lombscargle

from ...errors import SignalError
from ..spectral import welch_psd
from .clean import NNSeries

__all__ = ["frequency_indices", "nn_psd", "BANDS", "FREQ_METHODS"]

#: Task Force bands in Hz.
BANDS: dict[str, tuple[float, float]] = {
    "ULF": (0.0, 0.0033),
    "VLF": (0.0033, 0.04),
    "LF": (0.04, 0.15),
    "HF": (0.15, 0.4),
}
FREQ_METHODS = ("welch", "lomb")


def nn_psd(series: NNSeries, method: str = "welch", fs_interp: float = 4.0,
           window_s: float = 256.0, fmax: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """``(freqs Hz, psd ms²/Hz)`` of the NN series (see the module docstring)."""
    t, x = series.time, series.nn
    if x.size < 4 or t[-1] - t[0] <= 0:
        return np.zeros(0), np.zeros(0)
    if method == "welch":
        grid = np.arange(t[0], t[-1], 1.0 / fs_interp)
        y = CubicSpline(t, x)(grid)
        nperseg = int(round(window_s * fs_interp))
        if grid.size < 2 * nperseg:  # too short for two windows: one window over everything
            nperseg = grid.size
        nfft = max(nperseg, 2 ** int(np.ceil(np.log2(max(nperseg, 1)))) * 2)
        f, p = welch_psd(y, fs_interp, nperseg, nfft=nfft, detrend="linear")
        keep = f <= fmax
        return f[keep], p[keep]
    if method == "lomb":
        span = t[-1] - t[0]
        df = 1.0 / (4.0 * span)  # 4x oversampled grid
        f = np.arange(df, fmax + df / 2, df)
        y = x - x.mean()
        p = lombscargle(t, y, 2 * np.pi * f, normalize=False)
        return f, 2.0 * p * span / x.size
    raise SignalError(f"unknown frequency method={method!r}", fix=f"use one of {FREQ_METHODS}")


def _band_power(f: np.ndarray, p: np.ndarray, lo: float, hi: float) -> float:
    sel = (f >= lo) & (f < hi)
    if sel.sum() < 2:
        return float(p[sel].sum() * (f[1] - f[0])) if sel.any() and f.size > 1 else float("nan")
    return float(np.trapezoid(p[sel], f[sel]))


def frequency_indices(series: NNSeries, method: str = "welch", bands: dict | None = None,
                      fs_interp: float = 4.0, window_s: float = 256.0) -> dict[str, float]:
    """ULF/VLF/LF/HF power (ms²), TP, LF/HF, LFnu/HFnu (%), LF and HF peak frequencies (Hz)."""
    b = dict(BANDS)
    b.update(bands or {})
    f, p = nn_psd(series, method=method, fs_interp=fs_interp, window_s=window_s)
    duration = float(series.time[-1] - series.time[0]) if series.time.size > 1 else 0.0
    out: dict[str, float] = {}
    for name, (lo, hi) in b.items():
        too_short = lo > 0 and duration < 0.95 / lo
        out[name] = float("nan") if (f.size == 0 or too_short or (lo == 0 and duration < 3600)) \
            else _band_power(f, p, lo, hi)
    vals = [out[k] for k in ("VLF", "LF", "HF") if np.isfinite(out.get(k, np.nan))]
    out["TP"] = float(sum(vals)) if vals else float("nan")
    lf, hf = out.get("LF", np.nan), out.get("HF", np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["LFHF"] = float(lf / hf) if hf else float("nan")
        out["LFnu"] = float(100 * lf / (lf + hf)) if (lf + hf) else float("nan")
        out["HFnu"] = float(100 * hf / (lf + hf)) if (lf + hf) else float("nan")
    for name in ("LF", "HF"):
        lo, hi = b[name]
        sel = (f >= lo) & (f < hi)
        out[f"{name}peak"] = float(f[sel][np.argmax(p[sel])]) if sel.any() else float("nan")
    return out
