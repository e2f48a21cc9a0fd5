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
    "signal_quality": "quality", "quality_mask": "quality", "SignalQuality": "quality",
    # beats and RR features (beats.py)
    "segment_beats": "beats", "rr_features": "beats", "beat_morphology": "beats",
    # heart-rate variability (heart_rate_variability.py)
    "hrv": "heart_rate_variability", "hrv_time": "heart_rate_variability",
    "hrv_frequency": "heart_rate_variability", "hrv_nonlinear": "heart_rate_variability",
    "clean_nn": "heart_rate_variability",
    # delineation (delineation.py)
    "delineate": "delineation", "intervals": "delineation", "Delineation": "delineation",
    "Intervals": "delineation",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
