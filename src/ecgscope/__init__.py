"""ecgscope: open ECG arrhythmia analysis.

Read any ECG (``ecgscope.read``), find and label its beats and rhythm, measure
it, explain it and report it.
"""

from __future__ import annotations

__version__ = "0.1.0"

from ._lazy import lazy_exports
from .errors import ECGScopeError
from .io import read, write
from .record import Annotations, Metadata, Record

# Heavy entry points (torch, the models) load on first use, so `import ecgscope` stays fast.
_LAZY = {"analyze": "analysis.pipeline", "classify_beats": "analysis.classify", "classify_rhythm": "analysis.rhythm",
         "simulate": "synthesis.simulator"}
__all__ = ["__version__", "read", "write", "Record", "Annotations", "Metadata", "ECGScopeError", *_LAZY]
__getattr__ = lazy_exports(__name__, _LAZY)[0]
