"""Features layer: deterministic feature extractors shared by models (see DESIGN.md).

- :class:`MiniRocket` (``minirocket.py``): Dempster, Schmidt & Webb 2021, in PyTorch.
- HRV stream (``hrv_stream.py``): fixed-length HRV vectors with missing-value masks, and
  the eight RR-interval statistics of the gradient-boosting baseline.
- Ectopy features (``ectopy.py``): beat shapes against the median beat and the RR
  irregularity of alike beats, which tell ectopy-driven irregularity from AF.
"""

from .._lazy import lazy_exports

_EXPORTS = {
    # minirocket.py
    "MiniRocket": "minirocket",
    # hrv_stream.py
    "HRV_FEATURE_NAMES": "hrv_stream", "hrv_vector": "hrv_stream", "hrv_features": "hrv_stream",
    "RR_STAT_NAMES": "hrv_stream", "rr_statistics": "hrv_stream", "AF_FEATURES": "hrv_stream",
    "hrv_feature_names": "hrv_stream",
    # ectopy.py
    "ECTOPY_FEATURES": "ectopy", "ectopy_vector": "ectopy",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
