"""``resnet1d-rhythm``: the ResNet1D baseline as a record-level rhythm estimator.

The same windows, training loop and power-mean pooling as RAMBA
(:mod:`.estimator`), with the registry's ``resnet1d`` backbone
(:mod:`ecgscope.models.resnet1d`, He et al. 2016 in 1-D) as the window
classifier: signal only, no MiniRocket or HRV stream. ``variant`` picks the
backbone size (``tiny`` by default, sized for 2 CPU cores).
"""

from __future__ import annotations

from typing import Any, ClassVar

from torch import nn

from . import register_rhythm_estimator
from .estimator import WindowRhythmEstimator
from .preprocess import WindowTable

__all__ = ["ResNetRhythmEstimator"]


@register_rhythm_estimator("resnet1d-rhythm")
class ResNetRhythmEstimator(WindowRhythmEstimator):
    """Window-level ResNet1D + power-mean pooling over windows (options: ``variant``, ``dropout``)."""

    extra_defaults: ClassVar[dict[str, Any]] = {"variant": "tiny", "dropout": 0.1}

    def _rebuild_net(self, kwargs: dict) -> nn.Module:
        from ..registry import create_model

        return create_model("resnet1d", **kwargs)

    def _build_net(self, n_leads: int, train: WindowTable) -> nn.Module:
        return self._rebuild_net({"in_leads": n_leads, "n_classes": len(self.classes_), "window": train.x.shape[-1],
                                  "variant": self.options["variant"], "dropout": float(self.options["dropout"])})
