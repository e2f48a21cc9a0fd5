"""Models layer: registry, beat-classification architectures, checkpoints with model cards.

``create_model("inception_time", in_leads=1, n_classes=4, window=256, n_rr=4)``
builds any registered model; ``list_models()`` names them. Every model maps
``x: float32 (B, in_leads, window)`` and ``rr: (B, n_rr) | None`` to logits
``(B, n_classes)``. ``save_checkpoint`` / ``load_checkpoint`` store weights as
safetensors next to a JSON model card (no pickle); ``export_onnx`` writes an
ONNX file checked against onnxruntime.
"""

from .._lazy import lazy_exports

_EXPORTS = {
    # registry.py (importing it registers every built-in architecture)
    "register_model": "registry", "create_model": "registry", "list_models": "registry",
    "model_class": "registry",
    # base.py
    "BeatModel": "base",
    # checkpoint.py
    "save_checkpoint": "checkpoint", "load_checkpoint": "checkpoint", "card_hash": "checkpoint", "card_temperature": "checkpoint",
    "validate_card": "checkpoint", "read_card": "checkpoint", "REQUIRED_CARD_KEYS": "checkpoint",
    # export.py
    "export_onnx": "export", "onnx_parity": "export",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
