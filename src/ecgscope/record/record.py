"""The one record type every reader returns and every stage consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from .annotations import Annotations
from .leads import canonical_lead_names
from .metadata import Metadata
from .resampling import resample_signal

__all__ = ["Record", "MIN_FS", "MAX_FS"]

#: Plausible sampling-rate range in Hz for an ECG.
MIN_FS = 1.0
MAX_FS = 100_000.0


@dataclass(eq=False)
class Record:
    """An ECG: ``signal`` float32 ``(leads, samples)`` in millivolts at ``fs`` Hz.

    Attributes:
        signal: float32 array ``(n_leads, n_samples)`` in mV.
        fs: sampling rate in Hz.
        leads: canonical lead names (``"II"`` for ``"MLII"``); built from
            ``original_leads`` when omitted.
        original_leads: names as stored in the source file.
        annotations: annotator name -> :class:`Annotations` (``"atr"``, ``"ii"``).
        metadata: :class:`Metadata`.
    """

    signal: np.ndarray
    fs: float
    leads: list[str] = field(default_factory=list)
    original_leads: list[str] = field(default_factory=list)
    annotations: dict[str, Annotations] = field(default_factory=dict)
    metadata: Metadata = field(default_factory=Metadata)

    def __post_init__(self) -> None:
        sig = np.asarray(self.signal)
        if sig.ndim == 1:
            sig = sig[np.newaxis, :]
        if sig.ndim != 2:
            raise ValueError(f"Record.signal must be 1-D or (leads, samples), got shape {sig.shape}")
        self.signal = sig.astype(np.float32, copy=False)
        fs = float(self.fs)
        if not np.isfinite(fs) or not (MIN_FS <= fs <= MAX_FS):
            raise ValueError(f"Record.fs must be between {MIN_FS} and {MAX_FS} Hz, got {self.fs!r}")
        self.fs = fs
        n = self.signal.shape[0]
        if not self.original_leads:
            self.original_leads = list(self.leads) or [f"lead{i + 1}" for i in range(n)]
        self.original_leads = [str(x) for x in self.original_leads]
        if not self.leads:
            self.leads = canonical_lead_names(self.original_leads)
        self.leads = [str(x) for x in self.leads]
        if len(self.leads) != n or len(self.original_leads) != n:
            raise ValueError(
                f"Record has {n} signal rows but {len(self.leads)} lead names "
                f"({len(self.original_leads)} original)"
            )
        if isinstance(self.metadata, dict):
            self.metadata = Metadata.from_dict(self.metadata)
        self.annotations = dict(self.annotations or {})

    # ------------------------------------------------------------------ shape
    @property
    def n_leads(self) -> int:
        """Number of leads."""
        return int(self.signal.shape[0])

    @property
    def n_samples(self) -> int:
        """Number of samples per lead."""
        return int(self.signal.shape[1])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.n_samples / self.fs

    @property
    def time(self) -> np.ndarray:
        """Sample times in seconds, float64 ``(n_samples,)``."""
        return np.arange(self.n_samples) / self.fs

    # ------------------------------------------------------------------ leads
    def lead_index(self, lead: str | int) -> int:
        """Index of a lead given by position, canonical or original name."""
        if isinstance(lead, (int, np.integer)):
            if not -self.n_leads <= int(lead) < self.n_leads:
                raise KeyError(f"lead index {lead} out of range for {self.n_leads} leads")
            return int(lead) % self.n_leads
        from .leads import canonical_lead_name

        for names in (self.leads, self.original_leads):
            if lead in names:
                return names.index(lead)
        canon = canonical_lead_name(lead)
        if canon in self.leads:
            return self.leads.index(canon)
        lowered = [x.lower() for x in self.original_leads]
        if str(lead).lower() in lowered:
            return lowered.index(str(lead).lower())
        raise KeyError(f"no lead {lead!r}; this record has {', '.join(self.leads)}")

    def lead(self, lead: str | int) -> np.ndarray:
        """The 1-D signal of one lead (a view)."""
        return self.signal[self.lead_index(lead)]

    # --------------------------------------------------------------- slicing
    def crop(self, start: int = 0, stop: int | None = None) -> "Record":
        """Samples ``start:stop`` (a view of the signal); annotations shifted."""
        n = self.n_samples
        start = int(np.clip(start, 0, n))
        stop = n if stop is None else int(np.clip(stop, start, n))
        return Record(
            signal=self.signal[:, start:stop],
            fs=self.fs,
            leads=list(self.leads),
            original_leads=list(self.original_leads),
            annotations={k: a.window(start, stop) for k, a in self.annotations.items()},
            metadata=self.metadata.copy(),
        )

    def slice(
        self,
        start: float = 0.0,
        stop: float | None = None,
        *,
        duration: float | None = None,
        leads: Sequence[str | int] | None = None,
    ) -> "Record":
        """Part of the record by time in seconds and/or by leads.

        ``rec.slice(10, 20)``, ``rec.slice(10, duration=5)``,
        ``rec.slice(leads=["II", "V1"])``. The signal is a view when no leads
        are chosen; annotations are kept for the time window.
        """
        if duration is not None:
            stop = start + duration
        out = self.crop(int(round(start * self.fs)), None if stop is None else int(round(stop * self.fs)))
        if leads is not None:
            out = out.select_leads(leads)
        return out

    def select_leads(self, leads: Iterable[str | int]) -> "Record":
        """A record with only the given leads, in the given order."""
        idx = [self.lead_index(x) for x in leads]
        return Record(
            signal=self.signal[idx],
            fs=self.fs,
            leads=[self.leads[i] for i in idx],
            original_leads=[self.original_leads[i] for i in idx],
            annotations=dict(self.annotations),
            metadata=self.metadata.copy(),
        )

    def resample(self, fs: float) -> "Record":
        """The record at another sampling rate (polyphase FIR); annotations rescaled."""
        fs = float(fs)
        if fs == self.fs:
            return self
        sig = resample_signal(self.signal, self.fs, fs)
        factor = fs / self.fs
        return Record(
            signal=sig,
            fs=fs,
            leads=list(self.leads),
            original_leads=list(self.original_leads),
            annotations={k: a.rescaled(factor, sig.shape[1]) for k, a in self.annotations.items()},
            metadata=self.metadata.copy(),
        )

    # ------------------------------------------------------------- summaries
    def to_dict(self, include_signal: bool = False) -> dict[str, Any]:
        """JSON-safe summary; ``include_signal=True`` adds the samples as lists."""
        with np.errstate(all="ignore"):
            finite = np.isfinite(self.signal)
            stats = []
            for i, name in enumerate(self.leads):
                row = self.signal[i][finite[i]]
                stats.append({
                    "lead": name,
                    "original": self.original_leads[i],
                    "min_mv": float(row.min()) if row.size else None,
                    "max_mv": float(row.max()) if row.size else None,
                    "nonfinite": int((~finite[i]).sum()),
                })
        out: dict[str, Any] = {
            "record_id": self.metadata.record_id,
            "fs": self.fs,
            "n_leads": self.n_leads,
            "n_samples": self.n_samples,
            "duration_s": self.duration,
            "leads": list(self.leads),
            "original_leads": list(self.original_leads),
            "lead_stats": stats,
            "annotations": {k: {"count": len(a), "by_symbol": a.counts()} for k, a in self.annotations.items()},
            "metadata": self.metadata.to_dict(),
        }
        if include_signal:
            out["signal"] = self.signal.tolist()
            out["annotations_full"] = {k: a.to_dict() for k, a in self.annotations.items()}
        return out

    def __repr__(self) -> str:
        rid = self.metadata.record_id or "?"
        return (
            f"Record({rid!r}, {self.n_leads} leads [{', '.join(self.leads[:12])}], "
            f"fs={self.fs:g} Hz, {self.duration:.1f} s, annotators={list(self.annotations)})"
        )

    def equals(self, other: "Record", atol: float = 0.0) -> bool:
        """True when signal (within ``atol``), fs, leads and annotations agree."""
        return (
            isinstance(other, Record)
            and self.fs == other.fs
            and self.leads == other.leads
            and self.signal.shape == other.signal.shape
            and np.allclose(self.signal, other.signal, atol=atol, rtol=0, equal_nan=True)
            and self.annotations.keys() == other.annotations.keys()
            and all(self.annotations[k] == other.annotations[k] for k in self.annotations)
        )
