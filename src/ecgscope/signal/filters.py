"""Conditioning filters: zero-phase Butterworth band/high/low-pass, powerline notch,
baseline-wander removal and polyphase resampling.

Every function takes ``(signal, fs, ...)`` where ``signal`` is 1-D ``(samples,)``
or 2-D ``(leads, samples)`` and filters along the last axis. The output has the
input's shape; it is float64 for float64 input and float32 otherwise. All IIR
filters are second-order sections run forward and backward (``sosfiltfilt``),
so they add no phase shift and the filter order is effectively doubled.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.signal import butter, iirnotch, sosfiltfilt, tf2sos

from ..errors import SamplingRateError, SignalError
from ..record import resample_signal

__all__ = ["bandpass", "highpass", "lowpass", "notch", "remove_baseline", "resample", "POWERLINE_FREQUENCIES"]

#: Mains frequencies tried by ``notch(..., freq="auto")``.
POWERLINE_FREQUENCIES = (50.0, 60.0)


# --------------------------------------------------------------------------- helpers
def _check_fs(fs) -> float:
    try:
        value = float(fs)
    except (TypeError, ValueError):
        raise SamplingRateError(f"sampling rate {fs!r} is not a number", fix="pass fs in Hz") from None
    if not np.isfinite(value) or value <= 0:
        raise SamplingRateError(f"sampling rate {fs!r} Hz is not a positive number", fix="pass fs in Hz")
    return value


def _as_float(signal) -> np.ndarray:
    x = np.asarray(signal)
    if x.ndim not in (1, 2):
        raise SignalError(f"signal has shape {x.shape}; expected (samples,) or (leads, samples)",
                          fix="pass one lead or a (leads, samples) array")
    dtype = np.float64 if x.dtype == np.float64 else np.float32
    return x.astype(dtype, copy=False)


def _check_cutoff(value: float, fs: float, name: str) -> float:
    nyq = fs / 2.0
    value = float(value)
    if not np.isfinite(value) or value <= 0 or value >= nyq:
        raise SignalError(
            f"{name} cut-off {value:g} Hz must lie between 0 and the Nyquist frequency {nyq:g} Hz",
            fix=f"choose a {name} cut-off below {nyq:g} Hz, or resample the signal first",
        )
    return value


def _zero_phase(sos: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``sosfiltfilt`` along the last axis, tolerant of very short signals."""
    n = x.shape[-1]
    if n < 2:
        return x.copy()
    padlen = min(3 * (2 * len(sos) + 1), n - 1)
    y = sosfiltfilt(sos, x.astype(np.float64, copy=False), axis=-1, padlen=padlen)
    return y.astype(x.dtype, copy=False)


# --------------------------------------------------------------------------- Butterworth
def bandpass(signal, fs: float, low: float = 0.5, high: float = 40.0, order: int = 2) -> np.ndarray:
    """Zero-phase Butterworth band-pass from ``low`` to ``high`` Hz (order per direction)."""
    fs = _check_fs(fs)
    x = _as_float(signal)
    low, high = _check_cutoff(low, fs, "low"), _check_cutoff(high, fs, "high")
    if low >= high:
        raise SignalError(f"band-pass low cut-off {low:g} Hz is not below high cut-off {high:g} Hz",
                          fix="pass low < high")
    return _zero_phase(butter(int(order), [low, high], "bandpass", fs=fs, output="sos"), x)


def highpass(signal, fs: float, cutoff: float = 0.5, order: int = 2) -> np.ndarray:
    """Zero-phase Butterworth high-pass at ``cutoff`` Hz (removes baseline wander at 0.5 Hz)."""
    fs = _check_fs(fs)
    x = _as_float(signal)
    cutoff = _check_cutoff(cutoff, fs, "high-pass")
    return _zero_phase(butter(int(order), cutoff, "highpass", fs=fs, output="sos"), x)


def lowpass(signal, fs: float, cutoff: float = 40.0, order: int = 2) -> np.ndarray:
    """Zero-phase Butterworth low-pass at ``cutoff`` Hz."""
    fs = _check_fs(fs)
    x = _as_float(signal)
    cutoff = _check_cutoff(cutoff, fs, "low-pass")
    return _zero_phase(butter(int(order), cutoff, "lowpass", fs=fs, output="sos"), x)


# --------------------------------------------------------------------------- powerline
def _powerline_frequency(x: np.ndarray, fs: float) -> float:
    """50 or 60 Hz, whichever carries more power relative to its neighbourhood."""
    if fs / 2.0 <= min(POWERLINE_FREQUENCIES) + 2:
        return POWERLINE_FREQUENCIES[0]
    seg = np.atleast_2d(x)[:, : int(min(x.shape[-1], 60 * fs))].astype(np.float64)
    seg = seg - seg.mean(axis=-1, keepdims=True)
    power = (np.abs(np.fft.rfft(seg, axis=-1)) ** 2).sum(axis=0)
    freqs = np.fft.rfftfreq(seg.shape[-1], 1.0 / fs)

    def ratio(f0: float) -> float:
        if f0 >= fs / 2.0:
            return 0.0
        line = power[np.abs(freqs - f0) <= 1.0].sum()
        near = power[(np.abs(freqs - f0) > 2.0) & (np.abs(freqs - f0) <= 6.0)].mean() if freqs.size > 12 else 1.0
        return float(line / (near + 1e-30))

    return max(POWERLINE_FREQUENCIES, key=ratio)


def notch(signal, fs: float, freq: float | str = 50.0, quality: float = 30.0, harmonics: bool = True) -> np.ndarray:
    """Zero-phase powerline notch at ``freq`` (50, 60 or ``"auto"``) and its harmonics below Nyquist.

    Each notch is a second-order IIR notch (``scipy.signal.iirnotch``) of
    quality factor ``quality`` (bandwidth ``freq / quality``). ``freq="auto"``
    picks 50 or 60 Hz by the spectral line in the first minute.
    """
    fs = _check_fs(fs)
    x = _as_float(signal)
    if isinstance(freq, str):
        if freq.lower() != "auto":
            raise SignalError(f"notch frequency {freq!r} is not a number", fix="pass 50, 60 or 'auto'")
        freq = _powerline_frequency(x, fs)
    f0 = float(freq)
    nyq = fs / 2.0
    if not np.isfinite(f0) or f0 <= 0 or f0 >= nyq:
        raise SignalError(f"notch frequency {f0:g} Hz must lie below the Nyquist frequency {nyq:g} Hz",
                          fix="use a lower frequency, or skip the notch at this sampling rate")
    freqs = [f0 * k for k in range(1, int(nyq // f0) + 1) if f0 * k < nyq * 0.98] if harmonics else [f0]
    sos = np.vstack([tf2sos(*iirnotch(f, quality, fs=fs)) for f in freqs])
    return _zero_phase(sos, x)


# --------------------------------------------------------------------------- baseline
def remove_baseline(signal, fs: float, method: str = "highpass", cutoff: float = 0.5) -> np.ndarray:
    """Remove baseline wander.

    Methods:
        ``"highpass"``: zero-phase Butterworth high-pass at ``cutoff`` Hz (order 2).
        ``"median"``: subtract the baseline estimated by two cascaded median
            filters of 200 ms (removes QRS and P) and 600 ms (removes T), as in
            de Chazal, O'Dwyer & Reilly, "Automatic classification of heartbeats
            using ECG morphology and heartbeat interval features", IEEE TBME 51(7),
            2004. ``cutoff`` is ignored.
    """
    fs = _check_fs(fs)
    x = _as_float(signal)
    if method == "highpass":
        return highpass(x, fs, cutoff=cutoff)
    if method == "median":
        baseline = x
        for seconds in (0.2, 0.6):
            width = max(1, int(round(seconds * fs)) | 1)  # odd width, centred
            size = (1, width) if x.ndim == 2 else width
            baseline = ndimage.median_filter(baseline, size=size, mode="nearest")
        return (x - baseline).astype(x.dtype, copy=False)
    raise SignalError(f"unknown baseline method {method!r}", fix="use method='highpass' or 'median'")


# --------------------------------------------------------------------------- resampling
def resample(signal, fs: float, fs_out: float) -> np.ndarray:
    """Polyphase resampling from ``fs`` to ``fs_out`` Hz (``ecgscope.record.resample_signal``)."""
    fs, fs_out = _check_fs(fs), _check_fs(fs_out)
    return resample_signal(_as_float(signal), fs, fs_out)
