"""HRV stream: fixed-length HRV vectors with missing-value masks, and eight RR-interval statistics.

:func:`hrv_vector` turns the R peaks of one window or record into the
:data:`HRV_FEATURE_NAMES` vector computed by the signal layer's HRV functions
(:func:`ecgscope.signal.hrv_time`, :func:`~ecgscope.signal.hrv_nonlinear`,
:func:`~ecgscope.signal.hrv_frequency`) plus a mask saying which values were
measurable: a window with too few beats, or too short for a frequency band,
gets ``mask=False`` and ``value=0`` there instead of NaN, so models can take
``[values, mask]`` as input.

The RR series is **not** artefact-corrected before these indices (``clean="none"``,
only the 250-2500 ms physiological limits apply): ectopic-beat correction
(Lipponen & Tarvainen 2019) would "repair" exactly the irregularity that marks
atrial fibrillation. The share of intervals the Lipponen method *would* flag
is kept as a feature of its own (``ArtefactPercent``).

:func:`rr_statistics` gives the eight RR-interval statistics of the
gradient-boosting AF baseline (:data:`RR_STAT_NAMES`), NaN where undefined:

============================  ==========================================================
``mean_rr``                   mean RR interval (s)
``sdnn``                      standard deviation of the RR intervals (s)
``rmssd``                     root mean square of successive differences (s)
``pnn50``                     fraction of RR intervals whose successive difference exceeds 50 ms
``cv_rr``                     coefficient of variation, ``sdnn / mean_rr``
``madsd_norm``                median absolute successive difference / median RR
``shannon_entropy``           Shannon entropy of the 16-bin RR histogram over [min, max],
                              divided by ``log 16`` (Dash et al., Ann. Biomed. Eng. 37(9), 2009)
``turning_point_ratio``       share of interior RR values that are a local maximum or minimum
                              (2/3 for an i.i.d. series; Dash et al. 2009)
============================  ==========================================================

The first five come from :func:`ecgscope.signal.hrv_time` on the same
uncorrected series (``pnn50`` as a fraction, times in seconds).

``hrv_vector(..., af=True)`` appends :data:`AF_FEATURES`, four AF-specific
irregularity measures that isolated ectopic beats barely move (medians,
ranks and shares rather than variances): ``MADSDnorm``, ``RREntropy`` and
``TurningPointRatio`` (the last three :data:`RR_STAT_NAMES`) and
``IrregularShare``, the share of successive RR differences above 10 % of the
median RR (the rhythm rule's irregularity flag, Tateno & Glass 2001).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import SignalError

__all__ = [
    "AF_FEATURES",
    "FREQUENCY_FEATURES",
    "HRV_FEATURE_NAMES",
    "MIN_INTERVALS",
    "NONLINEAR_FEATURES",
    "RR_STAT_NAMES",
    "TIME_FEATURES",
    "detect_rpeaks",
    "hrv_feature_names",
    "hrv_features",
    "hrv_vector",
    "rr_statistics",
    "signals_and_fs",
]

#: Time-domain indices of :func:`ecgscope.signal.hrv_time` (ms, %, bpm).
TIME_FEATURES: tuple[str, ...] = ("MeanNN", "SDNN", "RMSSD", "SDSD", "pNN50", "pNN20", "MedianNN", "CVNN",
                                  "CVSD", "MeanHR", "SDHR", "MinHR", "MaxHR", "HTI", "TINN")
#: Poincaré, sample entropy and DFA of :func:`ecgscope.signal.hrv_nonlinear`.
NONLINEAR_FEATURES: tuple[str, ...] = ("SD1", "SD2", "SD1SD2", "CSI", "CVI", "SampEn", "DFA_alpha1",
                                       "DFA_alpha2")
#: Short-term spectral indices of :func:`ecgscope.signal.hrv_frequency` (Welch; VLF/ULF need minutes).
FREQUENCY_FEATURES: tuple[str, ...] = ("LF", "HF", "LFHF", "LFnu", "HFnu", "HFpeak")
_EXTRA = ("BeatRate", "ArtefactPercent")
#: Names of the :func:`hrv_vector` entries, in order.
HRV_FEATURE_NAMES: tuple[str, ...] = TIME_FEATURES + NONLINEAR_FEATURES + FREQUENCY_FEATURES + _EXTRA
#: AF-specific irregularity appended by ``hrv_vector(..., af=True)`` (see the module docstring).
AF_FEATURES: tuple[str, ...] = ("MADSDnorm", "RREntropy", "TurningPointRatio", "IrregularShare")
#: Fewer RR intervals than this leave the whole vector unmeasured.
MIN_INTERVALS = 3
_BAND_LOW = {"LF": 0.04, "HF": 0.15}
_NEEDS_BAND = {"LF": ("LF",), "HF": ("HF",), "HFpeak": ("HF",), "LFHF": ("LF", "HF"),
               "LFnu": ("LF", "HF"), "HFnu": ("LF", "HF")}

#: Names of the :func:`rr_statistics` entries, in order.
RR_STAT_NAMES: tuple[str, ...] = ("mean_rr", "sdnn", "rmssd", "pnn50", "cv_rr", "madsd_norm",
                                  "shannon_entropy", "turning_point_ratio")


def _series(rpeaks, fs: float, clean: str | None = None):
    """The NN series of ``rpeaks``, or ``None`` when no interval survives the physiological limits."""
    from ..signal.heart_rate_variability import nn_series

    try:
        return nn_series(np.asarray(rpeaks, dtype=np.int64).reshape(-1), fs, clean=clean)
    except SignalError as exc:
        if "clean" in str(exc):  # every interval is an artefact (e.g. noise detected as beats)
            return None
        raise


def hrv_feature_names(af: bool = False) -> tuple[str, ...]:
    """Names of the :func:`hrv_vector` entries: :data:`HRV_FEATURE_NAMES`, plus :data:`AF_FEATURES` with ``af``."""
    return HRV_FEATURE_NAMES + (AF_FEATURES if af else ())


def _rr_shape(series) -> np.ndarray:
    """``madsd_norm``, ``shannon_entropy``, ``turning_point_ratio`` of an NN series (NaN where undefined)."""
    out = np.full(3, np.nan)
    nn = series.nn
    d = np.abs(series.successive_diff)
    out[0] = float(np.median(d) / np.median(nn)) if d.size else np.nan
    counts, _ = np.histogram(nn, bins=16, range=(nn.min(), nn.max()) if nn.max() > nn.min() else None)
    p = counts[counts > 0] / counts.sum()
    out[1] = float(-(p * np.log(p)).sum() / math.log(16))
    if nn.size >= 3:
        mid, left, right = nn[1:-1], nn[:-2], nn[2:]
        turning = ((mid > left) & (mid > right)) | ((mid < left) & (mid < right))
        out[2] = float(turning.mean())
    return out


def _af_features(series) -> np.ndarray:
    """The :data:`AF_FEATURES` of an NN series with at least :data:`MIN_INTERVALS` intervals."""
    share = float(np.mean(np.abs(np.diff(series.nn)) > 0.1 * np.median(series.nn)))
    return np.append(_rr_shape(series), share)


def hrv_vector(rpeaks, fs: float, duration_s: float | None = None,
               af: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(values float32[F], mask bool[F])``: the :func:`hrv_feature_names` of one window's R peaks.

    Args:
        rpeaks: R-peak sample positions in the window.
        fs: sampling rate of ``rpeaks`` in Hz.
        duration_s: window length; frequency bands whose lowest frequency
            needs a longer window (``duration_s < 0.95 / f_low``, the signal
            layer's rule) are masked, so every window of one length has the
            same mask pattern. ``BeatRate`` (beats per minute of window) needs it.

    ``mask`` is True where a value was measured; unmeasured values are 0.
    Fewer than :data:`MIN_INTERVALS` RR intervals leave everything unmeasured.
    ``af=True`` appends the :data:`AF_FEATURES`.
    """
    from ..signal import hrv_frequency, hrv_nonlinear, hrv_time

    n = len(HRV_FEATURE_NAMES)
    values = np.full(n, np.nan)
    r = np.asarray(rpeaks, dtype=np.int64).reshape(-1)
    extra = np.full(len(AF_FEATURES) if af else 0, np.nan)
    if r.size >= MIN_INTERVALS + 1:
        series = _series(r, fs)
        if series is not None and series.nn.size >= MIN_INTERVALS:
            found = hrv_time(series, tinn=True) | hrv_nonlinear(series)
            span = float(series.time[-1] - series.time[0]) if series.time.size > 1 else 0.0
            window = span if duration_s is None else float(duration_s)
            freq = hrv_frequency(series)
            for name in FREQUENCY_FEATURES:
                needed = _NEEDS_BAND[name]
                if all(window >= 0.95 / _BAND_LOW[b] and np.isfinite(freq.get(b, np.nan)) for b in needed):
                    found[name] = freq[name]
            flagged = _series(r, fs, clean="lipponen")
            found["ArtefactPercent"] = 100.0 * (flagged.artefact_fraction if flagged is not None else 1.0)
            if duration_s is not None and duration_s > 0:
                found["BeatRate"] = 60.0 * r.size / float(duration_s)
            values = np.array([found.get(k, np.nan) for k in HRV_FEATURE_NAMES], dtype=np.float64)
            if af:
                extra = _af_features(series)
    values = np.concatenate([values, extra])
    mask = np.isfinite(values)
    return np.where(mask, values, 0.0).astype(np.float32), mask


def rr_statistics(rpeaks, fs: float) -> np.ndarray:
    """The eight RR-interval statistics (:data:`RR_STAT_NAMES`) of one record's R peaks (NaN: undefined)."""
    from ..signal import hrv_time

    out = np.full(len(RR_STAT_NAMES), np.nan)
    r = np.asarray(rpeaks, dtype=np.int64).reshape(-1)
    if r.size < 3:
        return out.astype(np.float32)
    series = _series(r, fs)
    if series is None or series.nn.size < 2:
        return out.astype(np.float32)
    t = hrv_time(series, tinn=False)
    out[0], out[1], out[2] = t["MeanNN"] / 1000.0, t["SDNN"] / 1000.0, t["RMSSD"] / 1000.0
    out[3], out[4] = t["pNN50"] / 100.0, t["CVNN"]
    out[5:8] = _rr_shape(series)
    return out.astype(np.float32)


def signals_and_fs(data, fs: float | None) -> tuple[list[np.ndarray], float]:
    """``(list of (leads, samples) arrays, fs)`` from a RhythmSet or a sequence of arrays plus ``fs``."""
    if hasattr(data, "signals") and hasattr(data, "fs"):
        if fs is not None and float(fs) != float(data.fs):
            data = data.resample(fs)
        return list(data.signals), float(data.fs)
    if fs is None:
        raise SignalError("signals given without a sampling rate", fix="pass fs=... in Hz (or a RhythmSet)")
    if isinstance(data, np.ndarray) and data.ndim in (1, 2) and data.dtype != object:
        data = [data]
    return [np.atleast_2d(np.asarray(x, dtype=np.float32)) for x in data], float(fs)


def _progress(items, enabled: bool, desc: str):
    if not enabled:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, unit="item", leave=False)


def detect_rpeaks(data, fs: float | None = None, *, progress: bool = False) -> list[np.ndarray]:
    """R peaks of every item (:func:`ecgscope.signal.find_rpeaks`, non-finite samples masked)."""
    from ..signal import find_rpeaks

    signals, fs = signals_and_fs(data, fs)
    return [find_rpeaks(x, fs, nan_policy="mask") for x in _progress(signals, progress, "R peaks")]


def hrv_features(data, fs: float | None = None, rpeaks=None,
                 progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(X float32[n, F], M bool[n, F])``: :func:`hrv_vector` of every item of a RhythmSet or signal list.

    R peaks are detected with :func:`ecgscope.signal.find_rpeaks` unless
    ``rpeaks`` (one array per item, in samples at ``fs``) is given; each
    item's duration is its length.
    """
    signals, fs = signals_and_fs(data, fs)
    if rpeaks is None:
        rpeaks = detect_rpeaks(signals, fs, progress=progress)
    if len(rpeaks) != len(signals):
        raise SignalError(f"{len(rpeaks)} R-peak arrays for {len(signals)} signals",
                          fix="pass one R-peak array per item")
    n, f = len(signals), len(HRV_FEATURE_NAMES)
    x, m = np.zeros((n, f), np.float32), np.zeros((n, f), bool)
    for i in range(n):
        x[i], m[i] = hrv_vector(rpeaks[i], fs, duration_s=signals[i].shape[-1] / fs)
    return x, m
