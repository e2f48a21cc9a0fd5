"""Checks every reader applies before handing back a :class:`Record`."""

from __future__ import annotations

import numpy as np

from ..errors import EmptySignalError, NonFiniteSignalError, SamplingRateError, UnitsError
from ..record import MAX_FS, MIN_FS, Record

__all__ = ["check_fs", "apply_nonfinite_policy", "check_amplitude", "finalize", "UNIT_SCALE", "unit_scale"]

#: Multiply stored values by this to get millivolts.
UNIT_SCALE = {"mv": 1.0, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3, "microvolt": 1e-3, "v": 1e3, "nv": 1e-6}

#: A real ECG never has a median absolute amplitude above this (mV).
MAX_PLAUSIBLE_MV = 50.0


def unit_scale(units: str | None, path=None) -> float:
    """Factor from ``units`` to mV; ``None``/empty means mV already."""
    if units is None or str(units).strip() == "":
        return 1.0
    key = str(units).strip().lower().replace("micro", "u").replace("volts", "v").replace("volt", "v")
    if key in UNIT_SCALE:
        return UNIT_SCALE[key]
    raise UnitsError(
        f"unknown signal units {units!r}",
        path=path,
        fix="pass units='mV', 'uV' or 'V' (or gain=... for raw ADC values)",
    )


def check_fs(fs, path=None) -> float:
    """Return ``fs`` as float, or raise :class:`SamplingRateError`."""
    if fs is None:
        raise SamplingRateError(
            "the sampling rate is not stored in the file", path=path,
            fix="pass fs=... (in Hz) to read()",
        )
    try:
        value = float(fs)
    except (TypeError, ValueError):
        raise SamplingRateError(f"sampling rate {fs!r} is not a number", path=path, fix="pass fs=... (in Hz)") from None
    if not np.isfinite(value) or not (MIN_FS <= value <= MAX_FS):
        raise SamplingRateError(
            f"sampling rate {fs!r} Hz is outside {MIN_FS:g}-{MAX_FS:g} Hz",
            path=path, fix="check the header or pass the correct fs=... (in Hz)",
        )
    return value


def _interpolate_nonfinite(signal: np.ndarray) -> np.ndarray:
    out = signal.copy()
    idx = np.arange(out.shape[1])
    for row in out:
        bad = ~np.isfinite(row)
        if bad.all():
            row[:] = 0.0
        elif bad.any():
            row[bad] = np.interp(idx[bad], idx[~bad], row[~bad])
    return out


def apply_nonfinite_policy(signal: np.ndarray, nonfinite: str = "raise", path=None) -> np.ndarray:
    """Handle NaN/inf samples: ``"raise"`` (default), ``"keep"`` or ``"interpolate"``."""
    if nonfinite not in ("raise", "keep", "interpolate"):
        raise ValueError("nonfinite must be 'raise', 'keep' or 'interpolate'")
    bad = ~np.isfinite(signal)
    if not bad.any() or nonfinite == "keep":
        return signal
    if nonfinite == "interpolate":
        return _interpolate_nonfinite(signal)
    leads, cols = np.nonzero(bad)
    first = int(cols.min())
    raise NonFiniteSignalError(
        f"{int(bad.sum())} samples are NaN or infinite (first at sample {first}, "
        f"in {len(np.unique(leads))} lead(s))",
        path=path,
    )


def check_amplitude(signal: np.ndarray, path=None) -> None:
    """Raise :class:`UnitsError` when amplitudes cannot be millivolts."""
    # A strided view first (every lead, evenly spaced columns), then the finite values.
    step = max(1, -(-signal.size // 20_000))  # about 20k values: plenty for a median
    sample = signal[:, ::step].ravel() if signal.ndim == 2 else np.ravel(signal)[::step]
    sample = sample[np.isfinite(sample)]
    if sample.size == 0:
        return
    level = float(np.median(np.abs(sample - np.median(sample))))
    if level > MAX_PLAUSIBLE_MV:
        raise UnitsError(
            f"median amplitude {level:.3g} is far too large for millivolts",
            path=path,
            fix="the values are probably in microvolts or raw ADC units: pass units='uV', or gain=<ADC units per mV>",
        )


def finalize(record: Record, *, nonfinite: str = "raise", check_units: bool = True, path=None) -> Record:
    """Apply the shared checks (empty, NaN/inf, units) to a freshly read record."""
    if record.n_leads == 0 or record.n_samples == 0:
        raise EmptySignalError(
            f"the signal is empty ({record.n_leads} leads x {record.n_samples} samples)",
            path=path, fix="check that the file holds samples and was fully written",
        )
    record.signal = apply_nonfinite_policy(record.signal, nonfinite, path)
    if check_units:
        check_amplitude(record.signal, path)
    return record
