"""Heart-rate variability: NN cleaning, time, frequency and non-linear indices in one call.

``hrv(rpeaks, fs)`` (or ``hrv(rr=..., ...)`` with intervals in ms) cleans the
series with :func:`clean_nn` (Lipponen & Tarvainen 2019 by default; non-normal
beats excluded when ``labels`` are given) and returns every index as one flat
dict: time domain (Task Force 1996), frequency domain (Welch on the 4-Hz cubic
interpolation, or Lomb-Scargle on the uneven series) and non-linear (Poincaré,
sample entropy, DFA). Units: ms, ms², %, Hz, bpm. See ``docs/hrv.md``.
"""

from __future__ import annotations

import numpy as np

from ..errors import SignalError
from ._hrv.clean import CLEAN_METHODS, NN_LIMITS_MS, NORMAL_LABELS, NNSeries, clean_nn as _clean_nn
from ._hrv.frequency import BANDS, FREQ_METHODS, frequency_indices, nn_psd
from ._hrv.nonlinear import dfa, nonlinear_indices, sample_entropy
from ._hrv.time_domain import time_indices
from ._inputs import as_fs, as_positions

__all__ = [
    "hrv", "hrv_time", "hrv_frequency", "hrv_nonlinear", "clean_nn", "nn_series", "nn_psd",
    "sample_entropy", "dfa", "NNSeries", "BANDS", "CLEAN_METHODS", "FREQ_METHODS", "NORMAL_LABELS",
]

_RR_RANGE_MS = (100.0, 10000.0)


def nn_series(rpeaks=None, fs: float | None = None, *, rr=None, labels=None, clean: str | None = "lipponen",
              correction: str = "interpolate") -> NNSeries:
    """The cleaned NN series from beat positions (``rpeaks`` + ``fs``) or intervals ``rr`` (ms).

    ``clean=None`` or ``"none"`` keeps every interval within the physiological
    limits (and drops non-normal beats when ``labels`` are given).
    """
    if isinstance(rpeaks, NNSeries):
        return rpeaks
    if rr is None and rpeaks is None:
        raise SignalError("no beats given", fix="pass rpeaks and fs, or rr=intervals in ms")
    if rr is not None and rpeaks is not None:
        raise SignalError("both rpeaks and rr given", fix="pass one of them")
    time = None
    if rr is None:
        if fs is None:
            raise SignalError("rpeaks given without a sampling rate", fix="pass fs=... in Hz (or rr= in ms)")
        fs = as_fs(fs)
        r = as_positions(rpeaks)
        rr_ms = np.diff(r) * 1000.0 / fs
        time = r[1:] / fs
    else:
        rr_ms = np.asarray(rr, dtype=np.float64).reshape(-1)
        if rr_ms.size and not (_RR_RANGE_MS[0] <= np.median(rr_ms) <= _RR_RANGE_MS[1]):
            raise SignalError(f"median RR interval is {np.median(rr_ms):g}, not a plausible number of ms",
                              fix="pass rr in milliseconds (multiply seconds by 1000)")
    return _clean_nn(rr_ms, labels, method=clean or "none", correction=correction, time=time)


def clean_nn(rr, labels=None, *, method: str = "lipponen", correction: str = "interpolate", time=None,
             limits: tuple[float, float] = NN_LIMITS_MS, normal_labels=NORMAL_LABELS) -> NNSeries:
    """Clean RR intervals (ms) into an NN series: artefact/ectopic detection and correction.

    Methods ``"lipponen"`` (Lipponen & Tarvainen, J. Med. Eng. Technol. 43(3), 2019),
    ``"median"`` (20 % from the 11-beat median) or ``"none"``; ``correction``
    ``"interpolate"`` (PCHIP; missed beats split, extra beats merged) or ``"remove"``.
    Intervals touching a beat whose label is not in ``normal_labels`` are excluded.
    Returns an :class:`NNSeries` (``.nn`` ms, ``.time`` s, ``.successive``, ``.counts``).
    """
    return _clean_nn(rr, labels, method=method, correction=correction, time=time, limits=limits,
                     normal_labels=normal_labels)


def _prefix(d: dict, prefix: str) -> dict:
    return {f"{prefix}{k}": v for k, v in d.items()}


def hrv_time(rpeaks=None, fs: float | None = None, *, rr=None, labels=None, clean="lipponen",
             correction: str = "interpolate", tinn: bool = True) -> dict[str, float]:
    """Time-domain HRV (MeanNN, SDNN, RMSSD, SDSD, pNN50, pNN20, HR, HTI, TINN, SDANN, SDNNI ...)."""
    return time_indices(nn_series(rpeaks, fs, rr=rr, labels=labels, clean=clean, correction=correction), tinn)


def hrv_frequency(rpeaks=None, fs: float | None = None, *, rr=None, labels=None, clean="lipponen",
                  correction: str = "interpolate", method: str = "welch", bands: dict | None = None,
                  window_s: float = 256.0) -> dict[str, float]:
    """Frequency-domain HRV: ULF/VLF/LF/HF power (ms²), TP, LF/HF, LFnu/HFnu, band peaks.

    ``method="welch"`` (4-Hz cubic-spline resampling, Welch 1967; Task Force 1996)
    or ``"lomb"`` (Lomb-Scargle on the uneven series; Laguna et al., IEEE TBME 45(6), 1998).
    """
    series = nn_series(rpeaks, fs, rr=rr, labels=labels, clean=clean, correction=correction)
    if method not in FREQ_METHODS:
        raise SignalError(f"unknown frequency method={method!r}", fix=f"use one of {FREQ_METHODS}")
    return frequency_indices(series, method=method, bands=bands, window_s=window_s)


def hrv_nonlinear(rpeaks=None, fs: float | None = None, *, rr=None, labels=None, clean="lipponen",
                  correction: str = "interpolate", m: int = 2, r_factor: float = 0.2) -> dict[str, float]:
    """Non-linear HRV: Poincaré SD1/SD2 (Brennan 2001), SampEn (Richman 2000), DFA alpha1/2 (Peng 1995)."""
    series = nn_series(rpeaks, fs, rr=rr, labels=labels, clean=clean, correction=correction)
    return nonlinear_indices(series, m=m, r_factor=r_factor)


def hrv(rpeaks=None, fs: float | None = None, *, rr=None, labels=None, clean="lipponen",
        correction: str = "interpolate", method: str = "welch", min_beats: int = 10) -> dict[str, float]:
    """All HRV indices as one flat dict (``HRV_`` names as NeuroKit2, units ms/ms²/%/Hz/bpm).

    Args:
        rpeaks: beat positions in samples (with ``fs``), or an :class:`NNSeries`.
        fs: sampling rate in Hz of ``rpeaks``.
        rr: RR intervals in ms instead of ``rpeaks``.
        labels: beat labels (one per beat); non-normal beats are excluded.
        clean: :func:`clean_nn` method (``"lipponen"``, ``"median"``, ``"none"``/None).
        correction: ``"interpolate"`` or ``"remove"``.
        method: spectral method, ``"welch"`` or ``"lomb"``.
        min_beats: fewer NN intervals than this raise :class:`~ecgscope.errors.SignalError`.

    Also returns ``HRV_ArtefactPercent`` (share of flagged intervals) and ``HRV_Duration`` (s).
    """
    series = nn_series(rpeaks, fs, rr=rr, labels=labels, clean=clean, correction=correction)
    if series.nn.size < min_beats:
        raise SignalError(f"only {series.nn.size} NN intervals after cleaning (need {min_beats})",
                          fix="use a longer recording (HRV needs minutes of normal beats)")
    out = {"HRV_Duration": series.duration, "HRV_ArtefactPercent": 100.0 * series.artefact_fraction}
    out |= _prefix(time_indices(series), "HRV_")
    out |= _prefix(frequency_indices(series, method=method), "HRV_")
    out |= _prefix(nonlinear_indices(series), "HRV_")
    return out


