"""Squeeze-and-excitation channel attention for 1-D feature maps.

Hu J, Shen L, Sun G. "Squeeze-and-Excitation Networks", CVPR 2018.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["SqueezeExcitation1d"]


class SqueezeExcitation1d(nn.Module):
    """Rescale each channel by a gate computed from its global average (Hu et al. 2018).

    ``hidden = max(channels // reduction, min_hidden)``; input and output ``(B, C, L)``.
    """

    def __init__(self, channels: int, reduction: int = 16, min_hidden: int = 4) -> None:
        super().__init__()
        hidden = max(channels // reduction, min_hidden)
        self.gate = nn.Sequential(
            nn.Linear(channels, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, channels), nn.Sigmoid()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x.mean(dim=-1)).unsqueeze(-1)
