"""Record -> model-ready windows: resample, band-pass, R peaks, windows, per-window HRV.

:func:`window_table` turns the signals of a :class:`~ecgscope.datasets.rhythm.RhythmSet`
into one :class:`WindowTable`: every record is resampled to the model's
``fs`` (polyphase), band-passed (zero-phase Butterworth), its R peaks are
detected once on the whole conditioned record, and it is cut into windows
(:mod:`.windows`); each window gets the HRV vector and missing-value mask of
the R peaks inside it (:func:`ecgscope.features.hrv_stream.hrv_vector`) and
is z-scored per lead. With ``hrv_context_s`` the HRV vector is followed by a
second one over a longer stretch centred on the window (shifted to stay inside
the record, and the whole record when it is shorter): ten seconds hold about a
dozen RR intervals, too few for stable variability estimates, and the context
gives each window the rhythm around it without mixing a whole Holter record.
Nothing here is fitted, so results are memoised per (signal bytes, settings)
in this process: cross-validation folds that share records condition them once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from ..._parallel import process_pool
from ...errors import ConfigError
from ._memo import ArrayMemo
from .windows import cut_windows, standardise_windows

__all__ = ["PARALLEL_MIN_SPANS", "WindowSpec", "WindowTable", "clear_memo", "context_spans", "window_table"]

_MEMO = ArrayMemo(200_000)  # records; a CinC 2017 run holds ~6.4k


@dataclass(frozen=True)
class WindowSpec:
    """How records become windows: model ``fs``, ``window_s``, ``hop_s``, ``bandpass`` (Hz or None), ``hrv``,
    ``hrv_af`` (append the AF irregularity features to each window's HRV vector), ``hrv_ectopy`` (append the
    beat-shape ectopy features, :mod:`ecgscope.features.ectopy`), ``hrv_summary`` (instead, the whole rhythm
    summary, :mod:`ecgscope.features.rhythm_summary`, which holds the HRV and ectopy vectors) and
    ``hrv_context_s`` (> 0: append the same vector over that many seconds centred on the window)."""

    fs: float = 100.0
    window_s: float = 10.0
    hop_s: float = 5.0
    bandpass: tuple[float, float] | None = (0.5, 40.0)
    hrv: bool = True
    hrv_af: bool = False
    hrv_context_s: float = 0.0
    hrv_ectopy: bool = False
    hrv_summary: bool = False

    def __post_init__(self) -> None:
        if not (self.fs > 0 and self.window_s > 0 and self.hop_s > 0):
            raise ConfigError(f"fs={self.fs}, window_s={self.window_s}, hop_s={self.hop_s} must be positive",
                              fix="e.g. fs=100, window_s=10, hop_s=5")
        if not self.hrv_context_s >= 0:
            raise ConfigError(f"hrv_context_s={self.hrv_context_s} must be >= 0", fix="e.g. 60 (0: no context)")
        if self.hrv_summary and (self.hrv_af or self.hrv_ectopy):
            raise ConfigError("hrv_summary already holds the HRV and ectopy vectors",
                              fix="set hrv_af and hrv_ectopy to false with hrv_summary")
        if self.bandpass is not None:
            object.__setattr__(self, "bandpass", tuple(float(v) for v in self.bandpass))

    @property
    def window(self) -> int:
        """Window length in samples at ``fs``."""
        return round(self.window_s * self.fs)

    @property
    def hop(self) -> int:
        """Hop in samples at ``fs``."""
        return max(1, round(self.hop_s * self.fs))

    @property
    def span_names(self) -> tuple[str, ...]:
        """Names of the vector computed over one span (the window, or its context); empty without HRV."""
        from ...features.ectopy import ECTOPY_FEATURES
        from ...features.hrv_stream import hrv_feature_names
        from ...features.rhythm_summary import SUMMARY_FEATURES

        if not self.hrv:
            return ()
        if self.hrv_summary:
            return SUMMARY_FEATURES
        return hrv_feature_names(self.hrv_af) + (ECTOPY_FEATURES if self.hrv_ectopy else ())

    @property
    def hrv_names(self) -> tuple[str, ...]:
        """Names of the HRV columns of a :class:`WindowTable`: :attr:`span_names`, then with ``hrv_context_s``
        the same suffixed ``@<s>s``."""
        names = self.span_names
        if self.hrv_context_s > 0:
            names += tuple(f"{n}@{self.hrv_context_s:g}s" for n in names)
        return names


@dataclass
class WindowTable:
    """Windows of many records. ``x (n, leads, window)`` z-scored float32; ``hrv``/``hrv_mask`` ``(n, F)``
    (``F = 0`` without HRV); ``record (n,)`` index of each window's record; ``starts_s (n,)``; ``n_records``."""

    x: np.ndarray
    hrv: np.ndarray
    hrv_mask: np.ndarray
    record: np.ndarray
    starts_s: np.ndarray
    n_records: int

    def __len__(self) -> int:
        return int(self.record.size)

    def select_records(self, idx) -> WindowTable:
        """The windows of records ``idx`` (indices into this table's records), renumbered ``0..len(idx)-1``."""
        idx = np.asarray(idx, dtype=np.int64)
        new = np.full(self.n_records, -1, np.int64)
        new[idx] = np.arange(idx.size)
        keep = np.flatnonzero(new[self.record] >= 0)
        keep = keep[np.argsort(new[self.record[keep]], kind="stable")]
        return WindowTable(self.x[keep], self.hrv[keep], self.hrv_mask[keep], new[self.record[keep]],
                           self.starts_s[keep], int(idx.size))


def condition(signal: np.ndarray, fs: float, spec: WindowSpec) -> np.ndarray:
    """``signal (leads, n)`` at ``fs`` -> resampled to ``spec.fs`` and band-passed, float32."""
    from ...signal.filters import bandpass, resample

    x = np.atleast_2d(np.asarray(signal, dtype=np.float32))
    x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
    if float(fs) != spec.fs:
        x = resample(x, float(fs), spec.fs)
    if spec.bandpass is not None and x.shape[-1] > 12:
        x = bandpass(x, spec.fs, *spec.bandpass)
    return np.asarray(x, dtype=np.float32)


def _hrv_rows(x: np.ndarray, rpeaks: np.ndarray, spans: np.ndarray,
              spec: WindowSpec) -> tuple[np.ndarray, np.ndarray]:
    """HRV (and ectopy) vectors and masks of the R peaks inside each ``[start, end)`` sample span of ``x``."""
    from ...errors import ECGScopeError
    from ...features.ectopy import ectopy_vector
    from ...features.hrv_stream import hrv_feature_names, hrv_vector

    width = len(hrv_feature_names(spec.hrv_af))
    values = np.zeros((len(spans), len(spec.span_names)), np.float32)
    masks = np.zeros(values.shape, bool)
    for i, (start, end) in enumerate(spans.tolist()):
        inside = rpeaks[(rpeaks >= start) & (rpeaks < end)] - start
        try:
            values[i, :width], masks[i, :width] = hrv_vector(inside, spec.fs, duration_s=(end - start) / spec.fs,
                                                             af=spec.hrv_af)
        except ECGScopeError:  # beats too irregular to clean (noise): the span's HRV is unmeasured
            pass
        if spec.hrv_ectopy:
            values[i, width:], masks[i, width:] = ectopy_vector(x[:, start:end], inside, spec.fs)
    return values, masks


def _summary_rows(parts, spans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rhythm summaries (unmeasured: 0) and masks of each span of a record's :class:`RecordParts`."""
    from ...features.rhythm_summary import span_summaries

    values = span_summaries(parts, spans)
    masks = np.isfinite(values)
    return np.where(masks, values, 0.0).astype(np.float32), masks


#: Fewer spans than this per worker are computed in this process (a worker process costs 1-2 s, a span ~8 ms:
#: a 30-min record, ~360 spans, is faster in one process).
PARALLEL_MIN_SPANS = 256


def _span_rows(x: np.ndarray, rpeaks: np.ndarray, spans: np.ndarray, spec: WindowSpec,
               workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The vectors of every span, split over ``workers`` processes when there are enough spans (same result).

    Rhythm summaries first compute what spans share on the whole record
    (:func:`~ecgscope.features.rhythm_summary.record_parts`: P waves judged per window length, quality windows
    on the window grid), with the same processes delineating blocks of beats and scoring hours of signal.
    """
    workers = min(int(workers), len(spans) // PARALLEL_MIN_SPANS)
    with process_pool(workers) as pool:
        if spec.hrv_summary:
            from ...features.rhythm_summary import record_parts

            parts = record_parts(x, spec.fs, rpeaks, block_s=spec.window_s, quality_step_s=spec.hop / spec.fs,
                                 executor=pool)
            rows, crop = _summary_rows, lambda lo, hi: (parts.crop(lo, hi),)
        else:
            rows = partial(_hrv_rows, spec=spec)
            crop = lambda lo, hi: (x[:, lo:hi], rpeaks[(rpeaks >= lo) & (rpeaks < hi)] - lo)
        if pool is None:
            return rows(*crop(0, x.shape[-1]), spans)
        jobs = []
        for part in np.array_split(np.arange(len(spans)), min(4 * workers, len(spans))):  # each job: its stretch
            lo, hi = int(spans[part, 0].min()), int(spans[part, 1].max())
            jobs.append((*crop(lo, hi), spans[part] - lo))
        done = list(pool.map(rows, *zip(*jobs)))
    return np.concatenate([v for v, _ in done]), np.concatenate([m for _, m in done])


def context_spans(starts: np.ndarray, n_samples: int, spec: WindowSpec) -> np.ndarray:
    """``(n, 2)`` sample spans of ``spec.hrv_context_s`` centred on each window, shifted to lie inside the record
    (the whole record when it is shorter)."""
    length = min(round(spec.hrv_context_s * spec.fs), int(n_samples))
    centre = np.asarray(starts, np.int64) + spec.window // 2
    begin = np.clip(centre - length // 2, 0, max(0, int(n_samples) - length))
    return np.stack([begin, begin + length], 1)


def _window_hrv(x: np.ndarray, rpeaks: np.ndarray, starts: np.ndarray,
                spec: WindowSpec, workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Per-window HRV vectors (and, with ``hrv_context_s``, context ones) of the conditioned record ``x``."""
    starts = np.asarray(starts, np.int64)
    spans = np.stack([starts, starts + spec.window], 1)
    context = None
    if spec.hrv_context_s > 0:  # windows of a record shorter than the context share one span: compute it once
        context, which = np.unique(context_spans(starts, x.shape[-1], spec), axis=0, return_inverse=True)
        spans = np.concatenate([spans, context])
    values, masks = _span_rows(x, rpeaks, spans, spec, workers)
    if context is not None:
        n = starts.size
        values, cv = values[:n], values[n:]
        masks, cm = masks[:n], masks[n:]
        which = np.asarray(which).reshape(-1)
        values, masks = np.concatenate([values, cv[which]], 1), np.concatenate([masks, cm[which]], 1)
    return values, masks


def _one_record(signal: np.ndarray, fs: float, spec: WindowSpec, workers: int = 1) -> tuple:
    x = condition(signal, fs, spec)
    windows, starts = cut_windows(x, spec.window, spec.hop)
    if spec.hrv:
        from ...signal.rpeaks import find_rpeaks

        try:
            rpeaks = find_rpeaks(x, spec.fs, nan_policy="mask")
        except Exception:  # noqa: BLE001 - a record the detector cannot handle has no beats, not a crash
            rpeaks = np.zeros(0, np.int64)
        hrv, mask = _window_hrv(x, np.asarray(rpeaks, np.int64), starts, spec, workers)
    else:
        hrv = np.zeros((starts.size, 0), np.float32)
        mask = np.zeros((starts.size, 0), bool)
    return standardise_windows(windows), hrv, mask, starts / spec.fs


def window_table(signals, fs: float, spec: WindowSpec, *, progress: bool = False, memo: bool = True,
                 workers: int = 1) -> WindowTable:
    """Windows, HRV vectors and record indices of ``signals`` (``(leads, n)`` arrays at ``fs``).

    ``workers`` > 1 computes a long record's per-span vectors in that many processes (the same values;
    records with fewer than :data:`PARALLEL_MIN_SPANS` spans per worker stay in this process).
    """
    parts = []
    items = list(signals)
    iterator = items
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(items, desc="windows", unit="rec", leave=False)
    for signal in iterator:
        signal = np.atleast_2d(np.asarray(signal, dtype=np.float32))
        if memo:
            parts.append(_MEMO.get(signal, (float(fs), spec), lambda: _one_record(signal, fs, spec, workers)))
        else:
            parts.append(_one_record(signal, fs, spec, workers))
    if not parts:
        raise ConfigError("no records to cut into windows", fix="pass a non-empty RhythmSet")
    leads = {p[0].shape[1] for p in parts}
    if len(leads) != 1:
        raise ConfigError(f"records have different lead counts {sorted(leads)}",
                          fix="pass records with the same leads")
    record = np.concatenate([np.full(p[0].shape[0], i, np.int64) for i, p in enumerate(parts)])
    return WindowTable(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
                       np.concatenate([p[2] for p in parts]), record,
                       np.concatenate([p[3] for p in parts]), len(parts))


def clear_memo() -> None:
    """Forget the memoised records."""
    _MEMO.clear()
