"""Descriptive metadata of a record (who, what, where it came from)."""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

__all__ = ["Metadata"]

#: Values shared between copies as they are: immutable, so copying them gains nothing.
_ATOMIC = (str, int, float, bool, type(None))


def _copied(value: Any) -> Any:
    """A deep copy of JSON-like ``value``: dicts and lists copied level by level, a list of plain scalars
    (such as a simulation's per-beat fiducials) in one step; anything else by :func:`copy.deepcopy`."""
    kind = type(value)
    if kind in _ATOMIC:
        return value
    if kind is dict:
        return {k: _copied(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        if all(type(v) in _ATOMIC for v in value):
            return value.copy() if kind is list else value
        return kind(_copied(v) for v in value)
    return copy.deepcopy(value)


@dataclass
class Metadata:
    """What is known about a record besides its samples.

    Attributes:
        record_id: the record's name (``"101"``, ``"A00001"``).
        patient_id: the patient it belongs to; records of one patient share it.
        age: age in years, if known.
        sex: ``"M"``, ``"F"`` or ``None``.
        diagnoses: diagnosis or rhythm statements (LUDB, PTB-XL, ...).
        comments: free-text header comments, kept verbatim.
        source: the file it was read from.
        units: units of the *stored* values before conversion to mV, per lead.
        gain: stored gain (ADC units per physical unit) per lead, if any.
        database: registry name of the database it belongs to, if known.
        start_time: acquisition start as ISO 8601 text, if known.
        extra: anything else a reader found, JSON-safe.
    """

    record_id: str | None = None
    patient_id: str | None = None
    age: float | None = None
    sex: str | None = None
    diagnoses: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    source: str | None = None
    units: list[str] = field(default_factory=list)
    gain: list[float] = field(default_factory=list)
    database: str | None = None
    start_time: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of all fields."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Metadata:
        """Build from a dict; unknown keys go to ``extra``."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        extra = dict(data.pop("extra", {}) or {})
        extra.update({k: data.pop(k) for k in list(data) if k not in known})
        return cls(**data, extra=extra)

    def copy(self) -> Metadata:
        """A deep copy: changing the copy's lists or ``extra`` leaves this one as it was."""
        return replace(self, **{f.name: _copied(getattr(self, f.name)) for f in fields(self)})
