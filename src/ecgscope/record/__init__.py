"""Data model: :class:`Record`, :class:`Annotations`, :class:`Metadata`, lead names."""

from .annotations import Annotations
from .leads import STANDARD_LEADS, canonical_lead_name, canonical_lead_names
from .metadata import Metadata
from .record import MAX_FS, MIN_FS, Record
from .resampling import resample_signal

__all__ = [
    "Record",
    "Annotations",
    "Metadata",
    "STANDARD_LEADS",
    "canonical_lead_name",
    "canonical_lead_names",
    "resample_signal",
    "MIN_FS",
    "MAX_FS",
]
