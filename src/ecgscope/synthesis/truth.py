"""Ground truth of a simulated record: MIT-BIH-style ``atr``, LUDB-style ``truth``, fiducial table.

* ``atr``: one beat annotation per beat at its R peak (``N``, ``V``, ``A``)
  and a rhythm annotation ``+`` with aux ``(N``, ``(AFIB``, ``(AFL``, ``(B``,
  ``(T`` at the first beat of each rhythm run (sample 0 for the first run),
  as in the MIT-BIH Arrhythmia Database.
* ``truth``: wave boundaries as LUDB writes them: ``(`` onset, peak symbol
  (``p``, the beat's symbol for the QRS, ``t``), ``)`` offset. Waves of
  neighbouring beats may interleave (a premature P on the previous T), so
  pair them by beat with :func:`truth_fiducials`, not by order.
* ``metadata.extra["fiducials"]``: the per-beat table behind both, sample
  positions with -1 where a wave is absent (no P in PVCs and AF) or falls
  outside the record.
"""

from __future__ import annotations

import numpy as np

from ..record import Annotations, Record
from .morphology import KIND_A, KIND_V
from .rhythm import BeatSchedule

__all__ = ["FIDUCIAL_KEYS", "beat_symbols", "beat_annotations", "truth_annotations", "fiducial_table",
           "truth_fiducials"]

#: Keys of the fiducial table, in time order within a beat.
FIDUCIAL_KEYS = ("p_on", "p_peak", "p_off", "qrs_on", "r_peak", "qrs_off", "t_on", "t_peak", "t_off")


def beat_symbols(kind: np.ndarray) -> np.ndarray:
    """MIT-BIH beat symbols for beat kinds."""
    return np.where(kind == KIND_V, "V", np.where(kind == KIND_A, "A", "N")).astype(object)


def fiducial_table(fid_s: dict[str, np.ndarray], fs: float, n: int) -> dict[str, np.ndarray]:
    """Seconds (NaN = absent) -> int64 samples (-1 = absent or outside ``[0, n)``)."""
    out = {}
    for key in FIDUCIAL_KEYS:
        x = fid_s[key] * fs
        ok = np.isfinite(x)
        s = np.where(ok, np.rint(np.where(ok, x, 0)), -1).astype(np.int64)
        s[(s < 0) | (s >= n)] = -1
        out[key] = s
    return out


def beat_annotations(schedule: BeatSchedule, r_sample: np.ndarray) -> Annotations:
    """The ``atr`` annotator: beats plus rhythm-change annotations."""
    rhythm = schedule.rhythm
    change = (np.concatenate([[0], np.flatnonzero(rhythm[1:] != rhythm[:-1]) + 1]) if rhythm.size
              else np.zeros(0, int))
    rsample = r_sample[change].copy()
    if rsample.size:
        rsample[0] = 0
    sample = np.concatenate([r_sample, rsample])
    symbol = np.concatenate([beat_symbols(schedule.kind), np.full(change.size, "+", dtype=object)])
    aux = np.concatenate([np.full(r_sample.size, "", dtype=object),
                          np.array(["(" + r for r in rhythm[change]], dtype=object)])
    # Rhythm annotations sort before the beat on the same sample.
    order = np.lexsort((np.concatenate([np.ones(r_sample.size), np.zeros(change.size)]), sample))
    return Annotations(sample=sample[order], symbol=symbol[order], aux=aux[order], annotator="atr")


def truth_annotations(table: dict[str, np.ndarray], symbols: np.ndarray) -> Annotations:
    """The ``truth`` annotator (LUDB style) from a fiducial table."""
    parts_s, parts_y = [], []
    for on, peak, off, sym in (("p_on", "p_peak", "p_off", "p"), ("qrs_on", "r_peak", "qrs_off", None),
                               ("t_on", "t_peak", "t_off", "t")):
        ok = (table[on] >= 0) & (table[peak] >= 0) & (table[off] >= 0)
        peak_sym = symbols[ok] if sym is None else np.full(int(ok.sum()), sym, dtype=object)
        parts_s += [table[on][ok], table[peak][ok], table[off][ok]]
        k = int(ok.sum())
        parts_y += [np.full(k, "(", dtype=object), peak_sym, np.full(k, ")", dtype=object)]
    sample = np.concatenate(parts_s)
    symbol = np.concatenate(parts_y)
    order = np.argsort(sample, kind="stable")
    return Annotations(sample=sample[order], symbol=symbol[order], annotator="truth")


def truth_fiducials(record: Record) -> dict[str, np.ndarray]:
    """Per-beat fiducial samples of a simulated record (int64, -1 = absent) plus ``"symbol"``.

    Raises:
        KeyError: when the record was not made by :func:`~ecgscope.synthesis.simulate`.
    """
    extra = record.metadata.extra
    if "fiducials" not in extra:
        raise KeyError(f"record {record.metadata.record_id!r} has no simulator fiducials "
                       "(only records from ecgscope.synthesis.simulate carry them)")
    fid = extra["fiducials"]
    out = {k: np.asarray(fid[k], dtype=np.int64) for k in FIDUCIAL_KEYS}
    out["symbol"] = np.asarray(fid["symbol"], dtype=object)
    return out
