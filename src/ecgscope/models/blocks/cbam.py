"""Convolutional Block Attention Module (CBAM) for 1-D feature maps.

Woo S, Park J, Lee J-Y, Kweon IS. "CBAM: Convolutional Block Attention
Module", ECCV 2018. Channel attention (a shared MLP over the average- and
max-pooled descriptors) followed by spatial attention (a convolution over the
channel-wise mean and max), each a sigmoid gate.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ChannelAttention1d", "SpatialAttention1d", "CBAM1d"]


class ChannelAttention1d(nn.Module):
    """Channel gate ``sigmoid(MLP(avgpool x) + MLP(maxpool x))`` (CBAM, Woo et al. 2018)."""

    def __init__(self, channels: int, reduction: int = 16, min_hidden: int = 4) -> None:
        super().__init__()
        hidden = max(channels // reduction, min_hidden)
        self.mlp = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(inplace=True),
                                 nn.Linear(hidden, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = torch.sigmoid(self.mlp(x.mean(dim=-1)) + self.mlp(x.amax(dim=-1)))
        return x * gate.unsqueeze(-1)


class SpatialAttention1d(nn.Module):
    """Temporal gate ``sigmoid(conv([mean_c x, max_c x]))`` (CBAM, Woo et al. 2018)."""

    def __init__(self, kernel_size: int = 7) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"SpatialAttention1d: kernel_size={kernel_size} must be odd")
        self.conv = nn.Conv1d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.conv(pooled))


class CBAM1d(nn.Module):
    """Channel then spatial attention; input and output ``(B, C, L)`` (Woo et al. 2018)."""

    def __init__(self, channels: int, reduction: int = 16, kernel_size: int = 7) -> None:
        super().__init__()
        self.channel = ChannelAttention1d(channels, reduction)
        self.spatial = SpatialAttention1d(kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.spatial(self.channel(x))
