"""``resnet1d``: a plain 1-D ResNet baseline for beat windows.

He K, Zhang X, Ren S, Sun J. "Deep Residual Learning for Image Recognition",
CVPR 2016; in 1-D for time series as the strong baseline of Wang Z, Yan W,
Oates T, "Time Series Classification from Scratch with Deep Neural Networks",
IJCNN 2017, and for ECG by Hannun AY et al., Nature Medicine 25, 2019.

Stem (conv k=7, stride 2) -> 4 stages of basic residual blocks (width doubles
and length halves from stage 2 on; kernels 7, 7, 5, 5) -> global average
pooling -> RR fusion -> dropout -> linear. ``attention="se"|"cbam"`` adds a
gate to every block.
"""

from __future__ import annotations

import torch
from torch import nn

from .base import BeatModel
from .blocks import ConvBNAct1d, GlobalPool1d, ResidualBlock1d
from .registry import register_model

__all__ = ["ResNet1d"]


@register_model("resnet1d")
class ResNet1d(BeatModel):
    """1-D ResNet (He et al. 2016) with basic blocks; variants tiny/base/large."""

    variants = {
        "tiny": {"width": 16, "blocks": (1, 1, 1, 1), "kernels": (7, 7, 5, 5), "attention": "none",
                 "dropout": 0.1, "rr_hidden": 16},
        "base": {"width": 24, "blocks": (2, 2, 2, 2), "kernels": (7, 7, 5, 5), "attention": "none",
                 "dropout": 0.2, "rr_hidden": 32},
        "large": {"width": 32, "blocks": (3, 4, 6, 3), "kernels": (7, 7, 5, 5), "attention": "se",
                  "dropout": 0.3, "rr_hidden": 32},
    }
    min_window = 32

    def __init__(self, in_leads: int, n_classes: int, window: int, n_rr: int = 0, variant: str = "base",
                 **arch_kwargs) -> None:
        super().__init__(in_leads, n_classes, window, n_rr, variant, **arch_kwargs)
        h = self.hparams
        attention = self._choice("attention", ("none", "se", "cbam"))
        width, blocks, kernels = int(h["width"]), list(h["blocks"]), list(h["kernels"])
        self._check_stages(blocks, kernels)
        self.stem = ConvBNAct1d(self.in_leads, width, 7, stride=2)
        stages, in_ch = [], width
        for i, (n_blocks, kernel) in enumerate(zip(blocks, kernels)):
            out_ch = width * 2 ** i
            stage = [ResidualBlock1d(in_ch if j == 0 else out_ch, out_ch, kernel,
                                     stride=2 if (i > 0 and j == 0) else 1, attention=attention)
                     for j in range(int(n_blocks))]
            stages.append(nn.Sequential(*stage))
            in_ch = out_ch
        self.stages = nn.Sequential(*stages)
        self.pool = GlobalPool1d("avg")
        self._build_head(in_ch, dropout=float(h["dropout"]), rr_hidden=int(h["rr_hidden"]))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.stages(self.stem(x)))

    @property
    def target_layer(self) -> nn.Module:
        """The last residual block (its output is the last convolutional feature map)."""
        return self.stages[-1][-1]
