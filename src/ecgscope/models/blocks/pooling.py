"""Global pooling over time: average, max, or both concatenated."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["GlobalPool1d"]

_MODES = ("avg", "max", "avgmax")


class GlobalPool1d(nn.Module):
    """``(B, C, L) -> (B, C)`` (``avg``, ``max``) or ``(B, 2C)`` (``avgmax``: both, concatenated)."""

    def __init__(self, mode: str = "avg") -> None:
        super().__init__()
        if mode not in _MODES:
            raise ValueError(f"GlobalPool1d: unknown mode {mode!r}; use one of {_MODES}")
        self.mode = mode

    def multiplier(self) -> int:
        """Output channels per input channel."""
        return 2 if self.mode == "avgmax" else 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "avg":
            return x.mean(dim=-1)
        if self.mode == "max":
            return x.amax(dim=-1)
        return torch.cat([x.mean(dim=-1), x.amax(dim=-1)], dim=1)
