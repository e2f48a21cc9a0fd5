"""Convolution + batch norm + activation, and the basic residual block of ResNet, in 1-D.

He K, Zhang X, Ren S, Sun J. "Deep Residual Learning for Image Recognition",
CVPR 2016 (basic block: two convolutions and an identity or 1x1 projection
shortcut). An optional SE or CBAM gate sits on the residual branch before the
addition, as in SE-ResNet (Hu et al. 2018) and CBAM (Woo et al. 2018).
"""

from __future__ import annotations

import torch
from torch import nn

from .attention import SqueezeExcitation1d
from .cbam import CBAM1d

__all__ = ["ConvBNAct1d", "ResidualBlock1d", "attention_block"]


def attention_block(kind: str | None, channels: int) -> nn.Module:
    """``"se"`` -> :class:`SqueezeExcitation1d`, ``"cbam"`` -> :class:`CBAM1d`, ``"none"`` -> identity."""
    if kind in (None, "none"):
        return nn.Identity()
    if kind == "se":
        return SqueezeExcitation1d(channels, reduction=8)
    if kind == "cbam":
        return CBAM1d(channels, reduction=8)
    raise ValueError(f"unknown attention {kind!r}; use 'none', 'se' or 'cbam'")


def _same_padding(kernel_size: int, dilation: int) -> int:
    if kernel_size % 2 != 1:
        raise ValueError(f"kernel_size={kernel_size} must be odd for 'same' padding")
    return dilation * (kernel_size - 1) // 2


class ConvBNAct1d(nn.Sequential):
    """``Conv1d -> BatchNorm1d -> ReLU`` with 'same' padding (odd kernels); ``act=False`` drops the ReLU."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, stride: int = 1, dilation: int = 1,
                 act: bool = True) -> None:
        layers: list[nn.Module] = [
            nn.Conv1d(in_ch, out_ch, kernel_size, stride=stride, padding=_same_padding(kernel_size, dilation),
                      dilation=dilation, bias=False),
            nn.BatchNorm1d(out_ch),
        ]
        if act:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class ResidualBlock1d(nn.Module):
    """Basic residual block ``relu(gate(bn(conv(relu(bn(conv x))))) + shortcut(x))`` (He et al. 2016).

    The shortcut is the identity, or a strided 1x1 convolution + BN when the
    width or the length changes. ``dropout`` sits between the two convolutions.
    """

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int = 7, stride: int = 1, dilation: int = 1,
                 attention: str | None = None, dropout: float = 0.0) -> None:
        super().__init__()
        self.conv1 = ConvBNAct1d(in_ch, out_ch, kernel_size, stride=stride, dilation=dilation)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.conv2 = ConvBNAct1d(out_ch, out_ch, kernel_size, dilation=dilation, act=False)
        self.gate = attention_block(attention, out_ch)
        if stride != 1 or in_ch != out_ch:
            self.shortcut = nn.Sequential(nn.Conv1d(in_ch, out_ch, 1, stride=stride, bias=False),
                                          nn.BatchNorm1d(out_ch))
        else:
            self.shortcut = nn.Identity()
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.gate(self.conv2(self.dropout(self.conv1(x)))) + self.shortcut(x))
