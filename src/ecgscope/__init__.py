"""ecgscope: open ECG arrhythmia analysis.

Read any ECG (``ecgscope.read``), find and label its beats and rhythm, measure
it, explain it and report it.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import ECGScopeError
from .io import read, write
from .record import Annotations, Metadata, Record

__all__ = ["__version__", "read", "write", "Record", "Annotations", "Metadata", "ECGScopeError"]
