"""R-peak (QRS) detection: ``find_rpeaks(signal, fs, method=...)``.

Methods (one module each in :mod:`ecgscope.signal.detectors`):

* ``"ecgscope"`` (default): multi-lead slope-envelope detector with
  block-adaptive levels, T-wave discrimination and search-back; see
  :mod:`ecgscope.signal.detectors.ecgscope`.
* ``"pan_tompkins"``: Pan & Tompkins, "A real-time QRS detection algorithm",
  IEEE Trans. Biomed. Eng. 32(3):230-236, 1985.
* ``"hamilton"``: Hamilton & Tompkins, "Quantitative investigation of QRS
  detection rules using the MIT/BIH arrhythmia database", IEEE TBME
  33(12):1157-1165, 1986; with the rules of Hamilton, "Open source ECG
  analysis", Computers in Cardiology 29:101-104, 2002.
* ``"elgendi"``: Elgendi, Jonkman & De Boer, "Frequency bands effects on QRS
  detection", BIOSIGNALS 2010, pp. 428-431 (two moving averages).

Positions are int64 sample indices of the R peak, the dominant extremum of
the QRS complex, in the given signal. Single-lead methods use the first
selected lead; ``"ecgscope"`` fuses all selected leads and places peaks on
the first.
"""

from __future__ import annotations

import importlib

import numpy as np

from ..errors import SignalError
from .detectors._common import prepare_signal

__all__ = ["find_rpeaks", "find_rpeaks_with_confidence", "RPEAK_METHODS"]

#: Method name -> detector module in :mod:`ecgscope.signal.detectors`.
RPEAK_METHODS: dict[str, str] = {
    "ecgscope": "ecgscope",
    "pan_tompkins": "pan_tompkins",
    "hamilton": "hamilton",
    "elgendi": "elgendi",
}

_MULTILEAD = {"ecgscope"}


def _detector(method: str):
    key = str(method).lower().replace("-", "_")
    if key not in RPEAK_METHODS:
        raise SignalError(f"unknown R-peak method {method!r}", fix=f"use one of {', '.join(RPEAK_METHODS)}")
    return key, importlib.import_module(f"{__package__}.detectors.{RPEAK_METHODS[key]}").detect


def find_rpeaks_with_confidence(signal, fs: float, method: str = "ecgscope", leads=None,
                                nan_policy: str = "raise") -> tuple[np.ndarray, np.ndarray]:
    """R-peak positions (int64, sorted) and a confidence in ``[0, 1]`` per peak.

    Args:
        signal: 1-D ``(samples,)`` or ``(leads, samples)``, any amplitude scale.
        fs: sampling rate in Hz (at least 50 Hz).
        method: one of :data:`RPEAK_METHODS` (``"ecgscope"`` by default).
        leads: row indices to use (default: all rows for ``"ecgscope"``, the
            first row for single-lead methods).
        nan_policy: ``"raise"`` (:class:`~ecgscope.errors.NonFiniteSignalError`
            on NaN/inf) or ``"mask"`` (interpolate across them and report no
            beat inside a gap).

    Flat, all-zero or too short signals give empty arrays, not errors.
    """
    key, detect = _detector(method)
    x, fs, invalid = prepare_signal(signal, fs, leads, nan_policy)
    if key not in _MULTILEAD:
        x = x[:1]
    if x.shape[1] == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float64)
    pos, conf = detect(x, fs)
    pos = np.asarray(pos, dtype=np.int64)
    conf = np.clip(np.asarray(conf, dtype=np.float64), 0.0, 1.0)
    if invalid is not None and pos.size:
        ok = ~invalid[pos]
        pos, conf = pos[ok], conf[ok]
    return pos, conf


def find_rpeaks(signal, fs: float, method: str = "ecgscope", leads=None, nan_policy: str = "raise") -> np.ndarray:
    """R-peak sample positions (int64, sorted); see :func:`find_rpeaks_with_confidence`."""
    return find_rpeaks_with_confidence(signal, fs, method=method, leads=leads, nan_policy=nan_policy)[0]
