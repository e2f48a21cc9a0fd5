"""The clinical report of one ECG: a typed, JSON-serialisable pydantic v2 model.

``analyze(record)`` returns a :class:`Report`; ``Report.model_dump_json()`` and
``Report.model_validate_json(text)`` round-trip it exactly. Times are seconds
from the start of the record, intervals milliseconds, rates beats per minute;
``None`` stands for "not measured" (never NaN, which JSON cannot hold).
Per-beat and per-bin series are stored as columns (lists), so a 24-hour Holter
report stays compact.
"""

from __future__ import annotations

import math
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "SCHEMA_VERSION", "RecordInfo", "QualitySegment", "BeatTable", "RhythmEpisode", "HeartRateTrend",
    "EctopicRun", "Ectopy", "HRVSummary", "IntervalSummary", "Strip", "Finding", "Provenance", "Report",
    "finite_or_none",
]

SCHEMA_VERSION = "1.0"


def finite_or_none(value: Any) -> Optional[float]:
    """``float(value)``, or ``None`` for None/NaN/inf."""
    if value is None:
        return None
    v = float(value)
    return v if math.isfinite(v) else None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="null")


class RecordInfo(_Model):
    """Who and what was recorded."""

    record_id: Optional[str] = None
    patient_id: Optional[str] = None
    age: Optional[float] = None
    sex: Optional[str] = None
    fs: float
    n_leads: int
    leads: list[str]
    n_samples: int
    duration_s: float
    start_time: Optional[str] = None
    source: Optional[str] = None
    database: Optional[str] = None
    diagnoses: list[str] = Field(default_factory=list)


class QualitySegment(_Model):
    """A stretch of signal judged readable or unreadable (merged quality windows)."""

    start_s: float
    end_s: float
    readable: bool
    score: float = Field(ge=0.0, le=1.0, description="mean combined quality score 0-1")
    reasons: list[str] = Field(default_factory=list, description="metrics that failed, e.g. flatline")


class BeatTable(_Model):
    """Every beat kept (readable signal only), as columns of equal length."""

    sample: list[int] = Field(default_factory=list)
    time_s: list[float] = Field(default_factory=list)
    label: list[str] = Field(default_factory=list, description="AAMI class N/S/V/F/Q")
    probability: list[Optional[float]] = Field(default_factory=list, description="probability of the label")
    classifier: Optional[str] = Field(None, description="model that labelled the beats, None when unlabelled")

    def __len__(self) -> int:
        return len(self.sample)


class RhythmEpisode(_Model):
    """A run of one rhythm."""

    rhythm: str = Field(description="'sinus', 'AF', 'undetermined' or a rhythm model's class")
    name: str = Field(description="readable name, e.g. 'Atrial fibrillation'")
    start_s: float
    end_s: float
    mean_hr_bpm: Optional[float] = None
    confidence: float = Field(ge=0.0, le=1.0)
    evidence: dict[str, Optional[float]] = Field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.end_s - self.start_s


class HeartRateTrend(_Model):
    """Heart rate per bin (median RR of the readable beats in the bin)."""

    bin_s: float
    time_s: list[float] = Field(default_factory=list, description="bin starts")
    hr_bpm: list[Optional[float]] = Field(default_factory=list)
    min_bpm: Optional[float] = None
    max_bpm: Optional[float] = None
    mean_bpm: Optional[float] = None


class EctopicRun(_Model):
    """Consecutive ectopic beats (couplet: 2, run: 3 or more) or an alternating pattern."""

    kind: Literal["V", "S"]
    pattern: Literal["couplet", "run", "bigeminy", "trigeminy"]
    start_s: float
    end_s: float
    n_beats: int
    rate_bpm: Optional[float] = None


class Ectopy(_Model):
    """Premature-beat counts, burden and patterns."""

    n_beats: int = 0
    labelled: bool = Field(True, description="False when no beat classifier ran (counts are then 0)")
    pvc_count: int = 0
    apc_count: int = 0
    pvc_burden_pct: float = 0.0
    apc_burden_pct: float = 0.0
    pvc_per_hour: Optional[float] = None
    apc_per_hour: Optional[float] = None
    v_couplets: int = 0
    s_couplets: int = 0
    v_runs: int = 0
    s_runs: int = 0
    longest_v_run: Optional[EctopicRun] = None
    longest_s_run: Optional[EctopicRun] = None
    events: list[EctopicRun] = Field(default_factory=list, description="couplets, runs, bigeminy, trigeminy")


class HRVSummary(_Model):
    """Heart-rate variability of the NN intervals between normal beats in sinus rhythm."""

    available: bool
    reason: Optional[str] = None
    n_nn: int = 0
    duration_s: Optional[float] = None
    values: dict[str, Optional[float]] = Field(default_factory=dict, description="HRV_* indices (ms, ms², %, bpm)")


class IntervalSummary(_Model):
    """Median PR, P, QRS, QT and QTc in ms from delineated normal beats."""

    available: bool
    reason: Optional[str] = None
    n_beats: int = 0
    method: str = "ecgscope"
    HR: Optional[float] = None
    RR: Optional[float] = None
    PR: Optional[float] = None
    P: Optional[float] = None
    QRS: Optional[float] = None
    QT: Optional[float] = None
    QTc_Bazett: Optional[float] = None
    QTc_Fridericia: Optional[float] = None
    p_wave_fraction: Optional[float] = Field(None, description="share of delineated beats with a P wave")


class Strip(_Model):
    """The window of signal that illustrates a finding."""

    start_s: float
    duration_s: float
    title: str


class Finding(_Model):
    """One statement of the report, with its confidence and the evidence behind it."""

    code: str = Field(description="stable identifier, e.g. 'AF', 'PVC', 'UNREADABLE'")
    title: str
    text: str
    severity: Literal["info", "minor", "major", "critical"] = "info"
    confidence: float = Field(ge=0.0, le=1.0)
    start_s: Optional[float] = None
    end_s: Optional[float] = None
    evidence: list[str] = Field(default_factory=list)
    strip: Optional[Strip] = None


class Provenance(_Model):
    """How the report was made: enough to reproduce it."""

    ecgscope_version: str
    created_utc: str
    input_sha256: str = Field(description="SHA-256 of the float32 signal bytes (leads x samples, C order)")
    source_sha256: Optional[str] = Field(None, description="SHA-256 of the source file, when known")
    source: Optional[str] = None
    models: dict[str, dict[str, Optional[str]]] = Field(default_factory=dict, description="role -> name, card hash")
    rhythm_method: str = "rules"
    parameters: dict[str, Any] = Field(default_factory=dict)
    elapsed_s: Optional[float] = None


class Report(_Model):
    """Everything ``analyze`` found in one ECG."""

    schema_version: str = SCHEMA_VERSION
    record: RecordInfo
    quality: list[QualitySegment] = Field(default_factory=list)
    readable_fraction: float = Field(ge=0.0, le=1.0)
    beats: BeatTable
    rhythm: list[RhythmEpisode] = Field(default_factory=list)
    heart_rate: HeartRateTrend
    ectopy: Ectopy
    hrv: HRVSummary
    intervals: IntervalSummary
    findings: list[Finding] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    provenance: Provenance

    @field_validator("readable_fraction", mode="before")
    @classmethod
    def _clip_fraction(cls, v: float) -> float:
        return min(max(float(v), 0.0), 1.0)

    @property
    def unreadable(self) -> list[QualitySegment]:
        """The unreadable stretches."""
        return [q for q in self.quality if not q.readable]

    def episodes(self, rhythm: str) -> list[RhythmEpisode]:
        """Rhythm episodes of one kind, e.g. ``report.episodes("AF")``."""
        return [e for e in self.rhythm if e.rhythm == rhythm]
