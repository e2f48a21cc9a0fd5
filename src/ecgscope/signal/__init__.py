"""Signal layer: conditioning, R-peak detection, quality, beats, HRV, delineation.

Every function takes arrays plus an explicit sampling rate ``fs``.
"""

from .._lazy import lazy_exports

_EXPORTS = {
    # conditioning (filters.py)
    "bandpass": "filters", "highpass": "filters", "lowpass": "filters", "notch": "filters",
    "remove_baseline": "filters", "resample": "filters",
    # R-peak detection (rpeaks.py, detectors/)
    "find_rpeaks": "rpeaks", "find_rpeaks_with_confidence": "rpeaks", "RPEAK_METHODS": "rpeaks",
    # signal quality (quality.py)
    "signal_quality": "quality",
    # beats and RR features (beats.py)
    "segment_beats": "beats", "rr_features": "beats",
    # heart-rate variability (hrv.py)
    "hrv": "hrv", "hrv_time": "hrv", "hrv_frequency": "hrv", "hrv_nonlinear": "hrv", "clean_nn": "hrv",
    # delineation (delineate.py)
    "delineate": "delineate", "intervals": "delineate",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
