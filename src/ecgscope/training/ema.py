"""Exponential moving average of model weights (evaluated and saved instead of the raw weights)."""

from __future__ import annotations

import copy

import torch
from torch import nn

__all__ = ["ModelEMA"]


class ModelEMA:
    """EMA of parameters and floating buffers: ``ema = d * ema + (1 - d) * model``.

    The decay ramps up as ``min(decay, (1 + n) / (10 + n))`` over updates so
    early averages are not dominated by the random initialisation (as in
    timm's ModelEmaV2). Integer buffers (BatchNorm counters) are copied.
    """

    def __init__(self, model: nn.Module, decay: float = 0.999) -> None:
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.decay = float(decay)
        self.updates = 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Fold the current weights of ``model`` into the average."""
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        source = model.state_dict()
        for name, value in self.module.state_dict().items():
            new = source[name].detach()
            if value.dtype.is_floating_point:
                value.mul_(d).add_(new.to(value.dtype), alpha=1 - d)
            else:
                value.copy_(new)

    def state_dict(self) -> dict:
        """The averaged weights."""
        return self.module.state_dict()
