"""Positional encodings for token sequences ``(B, T, D)``.

Sinusoidal: Vaswani A et al., "Attention Is All You Need", NeurIPS 2017.
Learned: a trainable table as in BERT/ViT (Dosovitskiy A et al., "An Image is
Worth 16x16 Words", ICLR 2021), linearly interpolated when a sequence has
another length than the table.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["SinusoidalPositionalEncoding", "LearnedPositionalEncoding", "positional_encoding"]


class SinusoidalPositionalEncoding(nn.Module):
    """Add the fixed sin/cos table of Vaswani et al. (2017); any length up to ``max_len``."""

    def __init__(self, d_model: int, max_len: int = 4096) -> None:
        super().__init__()
        position = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)
        freq = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
        table = torch.zeros(max_len, d_model)
        table[:, 0::2] = torch.sin(position * freq)
        table[:, 1::2] = torch.cos(position * freq[: d_model // 2])
        self.register_buffer("table", table, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.table[: x.shape[1]].to(x.dtype)


class LearnedPositionalEncoding(nn.Module):
    """Add a trainable ``(n_tokens, d_model)`` table, interpolated for other lengths."""

    def __init__(self, d_model: int, n_tokens: int) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.randn(n_tokens, d_model) * 0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        table = self.table
        if x.shape[1] != table.shape[0]:
            table = F.interpolate(table.T.unsqueeze(0), size=x.shape[1], mode="linear",
                                  align_corners=False)[0].T
        return x + table.to(x.dtype)


def positional_encoding(kind: str, d_model: int, n_tokens: int) -> nn.Module:
    """``"sinusoidal"`` or ``"learned"`` encoding for sequences of about ``n_tokens`` tokens."""
    if kind == "sinusoidal":
        return SinusoidalPositionalEncoding(d_model, max_len=max(4096, 2 * n_tokens))
    if kind == "learned":
        return LearnedPositionalEncoding(d_model, n_tokens)
    raise ValueError(f"unknown positional encoding {kind!r}; use 'sinusoidal' or 'learned'")
