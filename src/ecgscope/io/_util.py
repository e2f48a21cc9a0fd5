"""Small helpers shared by the format modules (private)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..errors import LeadCountError

__all__ = [
    "record_id_from_path",
    "int16_gain_baseline",
    "finite_range",
    "INT16_MAX",
    "check_lead_names",
    "parse_sex",
    "parse_age",
    "orient_signal",
    "to_millivolts",
    "per_lead",
    "resolve_fs",
    "names_to_store",
]

#: Largest magnitude a 16-bit writer stores; -32768 is kept free as the
#: WFDB/EDF "invalid sample" code.
INT16_MAX = 32767


def record_id_from_path(path: Path) -> str:
    """``"…/101.hea"`` -> ``"101"``; ``"…/rec.tar.csv"`` -> ``"rec.tar"``."""
    return Path(path).stem


def finite_range(signal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-lead ``(min, max)`` over finite samples (0 for a lead with none)."""
    x = np.asarray(signal)
    n = x.shape[0]
    if x.shape[1] == 0:
        return np.zeros(n), np.zeros(n)
    finite = np.isfinite(x)
    lo = np.where(finite, x, np.inf).min(axis=1).astype(np.float64)
    hi = np.where(finite, x, -np.inf).max(axis=1).astype(np.float64)
    ok = finite.any(axis=1)
    return np.where(ok, lo, 0.0), np.where(ok, hi, 0.0)


def int16_gain_baseline(signal: np.ndarray, preferred_gain: float = 1000.0) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Per-lead ``(gain, baseline)`` so that ``round(x * gain) + baseline`` fits int16.

    ``preferred_gain`` is in ADC units per mV (1000 = 1 µV resolution). A lead
    whose range does not fit at that gain gets the largest gain
    that fits (``65532 / range``, coarser than 1 µV); the indices of those
    leads are returned third. The representable range is ``[-32767, 32767]``.
    """
    lo, hi = finite_range(signal)
    n = lo.size
    span = hi - lo
    usable = 2 * INT16_MAX - 2  # one code of margin at each end absorbs rounding
    gain = np.full(n, float(preferred_gain))
    too_wide = span * preferred_gain > usable
    gain[too_wide] = usable / span[too_wide]
    baseline = -np.rint((hi + lo) / 2.0 * gain)
    coarse = [int(i) for i in np.flatnonzero(too_wide)]
    return gain, baseline.astype(np.int64), coarse


_SEX = {"m": "M", "male": "M", "man": "M", "f": "F", "female": "F", "woman": "F"}


def parse_sex(text) -> str | None:
    """``"M"``/``"F"`` from ``"m"``, ``"Male"``, ``"female"`` ...; ``None`` otherwise."""
    if text is None:
        return None
    return _SEX.get(str(text).strip().lower())


_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)")


def parse_age(text) -> float | None:
    """Age in years from ``"51"``, ``"51.5"``, ``"51 years"``; ``None`` for ``"?"``/``"NaN"``."""
    if text is None:
        return None
    m = _NUMBER.match(str(text))
    if not m:
        return None
    value = float(m.group(1))
    return value if 0 <= value <= 150 else None


def check_lead_names(names, n_leads: int, path=None, source: str = "the lead list") -> list[str]:
    """``names`` as strings, or :class:`LeadCountError` when their number is wrong."""
    names = [str(x) for x in names]
    if len(names) != n_leads:
        raise LeadCountError(
            f"{len(names)} names in {source} for a signal with {n_leads} leads",
            path=path,
            fix=f"pass leads=[...] with {n_leads} names",
        )
    return names


_ORIENTATIONS = ("leads_first", "samples_first")


def orient_signal(array, orientation: str | None = None, n_leads: int | None = None, path=None) -> np.ndarray:
    """A numeric array as ``(leads, samples)``.

    1-D is one lead. For 2-D, ``orientation`` (``"leads_first"`` or
    ``"samples_first"``) decides; otherwise the dimension equal to
    ``n_leads`` (the number of lead names), else the smaller one, is the
    leads. Singleton extra dimensions are dropped.
    """
    from ..errors import FormatError

    arr = np.asarray(array)
    if arr.ndim > 2:
        arr = arr.reshape([d for d in arr.shape if d != 1] or [1])
    if arr.ndim == 0:
        raise FormatError("the signal is a single number, not a series", path=path,
                          fix="point variable=... at the signal array")
    if arr.ndim == 1:
        return arr[np.newaxis, :]
    if arr.ndim != 2:
        raise FormatError(f"the signal array has shape {arr.shape}; expected (leads, samples)", path=path,
                          fix="save a 2-D array (leads x samples or samples x leads)")
    if orientation is not None:
        if orientation not in _ORIENTATIONS:
            raise FormatError(f"orientation={orientation!r} is not one of {_ORIENTATIONS}", path=path,
                              fix="pass orientation='leads_first' or 'samples_first'")
        return arr if orientation == "leads_first" else arr.T
    rows, cols = arr.shape
    if n_leads is not None and rows != cols:
        if rows == n_leads:
            return arr
        if cols == n_leads:
            return arr.T
    return arr if rows <= cols else arr.T


def per_lead(value, n: int, what: str, path=None) -> np.ndarray:
    """A scalar or a length-``n`` sequence as a float64 array of ``n`` values."""
    v = np.asarray(value, dtype=np.float64).reshape(-1)
    if v.size == 1:
        return np.full(n, v[0])
    if v.size != n:
        raise LeadCountError(f"{v.size} {what} values for {n} leads", path=path, fix=f"pass one {what} per lead")
    return v


def to_millivolts(signal: np.ndarray, units=None, gain=None, baseline=None, path=None) -> np.ndarray:
    """float32 ``(signal - baseline) / gain`` in ``units``, converted to mV.

    ``gain`` (ADC units per physical unit) and ``baseline`` may be scalars
    or one value per lead; ``units`` one string or one per lead.
    """
    from ..errors import FormatError
    from .validate import unit_scale

    x = np.asarray(signal)
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool) or np.iscomplexobj(x):
        raise FormatError(f"the signal holds {x.dtype} values, not real numbers", path=path,
                          fix="store the samples as a numeric array")
    out = np.array(x, dtype=np.float32, copy=True)
    n = out.shape[0]
    if baseline is not None:
        out -= per_lead(baseline, n, "baseline", path).astype(np.float32)[:, None]
    if gain is not None:
        g = per_lead(gain, n, "gain", path)
        if np.any(~np.isfinite(g)) or np.any(g == 0):
            raise FormatError(f"gain {gain!r} must be finite and non-zero", path=path,
                              fix="pass gain=... (ADC units per physical unit)")
        out /= g.astype(np.float32)[:, None]
    names = [units] * n if units is None or isinstance(units, str) else [str(u) for u in units]
    if len(names) != n:
        raise LeadCountError(f"{len(names)} units for {n} leads", path=path, fix="pass one unit per lead")
    scales = np.array([unit_scale(u, path) for u in names], dtype=np.float32)
    if np.any(scales != 1.0):
        out *= scales[:, None]
    return out


def resolve_fs(stored, hint, path=None, where: str = "the file") -> float:
    """The sampling rate: ``stored`` (from the file) or ``hint`` (``fs=``); both must agree.

    Raises :class:`SamplingRateError` when neither is known, the value is
    implausible, or the two disagree by more than 0.5 %.
    """
    from ..errors import SamplingRateError
    from .validate import check_fs

    if stored is None:
        return check_fs(hint, path)
    value = check_fs(stored, path)
    if hint is not None:
        wanted = check_fs(hint, path)
        if abs(wanted - value) > 0.005 * value:
            raise SamplingRateError(
                f"{where} says {value:g} Hz but fs={hint!r} was passed", path=path,
                fix="drop fs=... (the file carries its sampling rate), or resample after reading",
            )
    return value


def names_to_store(record) -> list[str]:
    """Lead names a writer stores: the original ones, unless the canonical names were edited."""
    from ..record import canonical_lead_names

    names = record.original_leads if canonical_lead_names(record.original_leads) == record.leads else record.leads
    return [str(x).replace("\n", " ").strip() or f"lead{i + 1}" for i, x in enumerate(names)]
