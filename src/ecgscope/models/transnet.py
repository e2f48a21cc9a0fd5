"""``transnet``: ECG-TransNet, a 1-D residual CNN tokenizer followed by a Transformer encoder.

The ECG-TransNet design (github.com/prakulhiremath/ECG-TransNet-Arrhythmia-Detection):
a convolutional front end turns the beat window into tokens that a Transformer
encoder (Vaswani A et al., "Attention Is All You Need", NeurIPS 2017) relates
to each other; pre-norm layers (Xiong R et al., "On Layer Normalization in the
Transformer Architecture", ICML 2020) train stably without warm-up tricks.

Tokenizer: stem conv (k=7, stride 2) then ``len(channels)`` strided residual
blocks (He et al. 2016), so a window of ``W`` samples becomes
``ceil(W / 2**(1 + len(channels)))`` tokens (W=256 -> 32, W=360 -> 45 with
the default two stages), projected to ``d_model`` by a 1x1 convolution.
Then a positional encoding (sinusoidal or learned), the encoder, a final
LayerNorm, the mean over tokens, RR fusion and a linear classifier.

For explanation: :attr:`target_layer` is the token projection (Grad-CAM on
the last convolutional map), :meth:`TransNet.tokens` returns the encoded
tokens ``(B, T, d_model)`` and :meth:`TransNet.attention_maps` the
self-attention weights of every layer ``(B, heads, T, T)``.
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import ModelError
from .base import BeatModel
from .blocks import ConvBNAct1d, ResidualBlock1d, positional_encoding
from .registry import register_model

__all__ = ["TransNet"]


@register_model("transnet")
class TransNet(BeatModel):
    """ECG-TransNet: residual CNN tokenizer + pre-norm Transformer encoder + mean-pooled head."""

    variants = {
        "tiny": {"channels": (16, 32), "d_model": 32, "heads": 2, "layers": 1, "ff_mult": 2,
                 "positional": "sinusoidal", "dropout": 0.1, "rr_hidden": 16},
        "base": {"channels": (32, 64), "d_model": 64, "heads": 4, "layers": 2, "ff_mult": 2,
                 "positional": "sinusoidal", "dropout": 0.1, "rr_hidden": 32},
        "large": {"channels": (32, 64, 128), "d_model": 128, "heads": 4, "layers": 4, "ff_mult": 2,
                  "positional": "sinusoidal", "dropout": 0.1, "rr_hidden": 32},
    }
    min_window = 32

    def __init__(self, in_leads: int, n_classes: int, window: int, n_rr: int = 0, variant: str = "base",
                 **arch_kwargs) -> None:
        super().__init__(in_leads, n_classes, window, n_rr, variant, **arch_kwargs)
        h = self.hparams
        channels = [int(c) for c in h["channels"]]
        d_model, heads, dropout = int(h["d_model"]), int(h["heads"]), float(h["dropout"])
        positional = self._choice("positional", ("sinusoidal", "learned"))
        if not channels or d_model % heads != 0 or d_model % 2 != 0:
            raise ModelError(
                f"transnet: channels={channels}, d_model={d_model}, heads={heads} are inconsistent",
                fix="give at least one tokenizer stage and an even d_model divisible by heads",
            )
        stride = 2 ** (1 + len(channels))
        self.n_tokens = -(-self.window // stride)
        if self.n_tokens < 4:
            raise ModelError(
                f"transnet: window={self.window} gives only {self.n_tokens} tokens (stride {stride})",
                fix=f"use a window of at least {4 * stride} samples or fewer tokenizer stages",
            )
        self.stem = ConvBNAct1d(self.in_leads, channels[0], 7, stride=2)
        self.tokenizer = nn.Sequential(*[
            ResidualBlock1d(c_in, c_out, 5, stride=2)
            for c_in, c_out in zip([channels[0]] + channels[:-1], channels)
        ])
        self.project = nn.Conv1d(channels[-1], d_model, 1)
        self.position = positional_encoding(positional, d_model, self.n_tokens)
        self.drop = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(d_model, heads, dim_feedforward=int(h["ff_mult"]) * d_model,
                                           dropout=dropout, activation="gelu", batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, int(h["layers"]), enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self._build_head(d_model, dropout=dropout, rr_hidden=int(h["rr_hidden"]))

    def _token_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """Tokens ``(B, T, d_model)`` with positions, before the encoder."""
        z = self.project(self.tokenizer(self.stem(x)))
        return self.drop(self.position(z.transpose(1, 2)))

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Encoded token features ``(B, T, d_model)`` (after the final LayerNorm)."""
        self._check_x(x)
        return self.norm(self.encoder(self._token_inputs(x)))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.encoder(self._token_inputs(x))).mean(dim=1)

    @torch.no_grad()
    def attention_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Self-attention weights of every encoder layer, each ``(B, heads, T, T)`` (rows sum to 1)."""
        self._check_x(x)
        h, maps = self._token_inputs(x), []
        for layer in self.encoder.layers:
            z = layer.norm1(h)  # pre-norm: attention sees the normalised tokens
            _, weights = layer.self_attn(z, z, z, need_weights=True, average_attn_weights=False)
            maps.append(weights)
            h = layer(h)
        return maps

    @property
    def target_layer(self) -> nn.Module:
        """The 1x1 token projection: output ``(B, d_model, T)``, the last convolutional map."""
        return self.project
