"""``inception_time``: context-aware InceptionTime for beat windows.

Ismail Fawaz H, Lucas B, Forestier G, Pelletier C, Schmidt DF, Weber J,
Webb GI, Idoumghar L, Muller P-A, Petitjean F. "InceptionTime: Finding
AlexNet for time series classification", Data Mining and Knowledge Discovery
34:1936-1962, 2020 (inception modules: 1x1 bottleneck, parallel kernels and a
max-pool branch; a residual shortcut every 3 modules; global pooling).

The beat-classification framework's context-aware version, as built here:
kernels 9/19/39 (odd, for centred 'same' padding), a squeeze-excitation gate
after every module (Hu et al. 2018), dilated modules in the deeper residual
blocks (dilation 1, 2, 4, ... per block) so the receptive field covers the
neighbouring beats in the window, a head that concatenates global average and
global max pooling, and RR-feature fusion (de Chazal et al. 2004).

Variants (1 lead, window 256, 4 classes, no RR features):

======= ======= ========== ===== ========= ========== ===========
variant filters bottleneck depth dilations parameters MFLOP/beat
======= ======= ========== ===== ========= ========== ===========
tiny    8       8          6     1, 2      28 k       13
base    16      16         6     1, 2      109 k      52
large   32      32         9     1, 2, 4   692 k      333
======= ======= ========== ===== ========= ========== ===========

(``large`` keeps the paper's 32 filters and bottleneck; its cost per beat is
why it is best trained on a GPU. See ``docs/bench/model_speed.md``.)
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import ModelError
from .base import BeatModel
from .blocks import GlobalPool1d, SqueezeExcitation1d
from .registry import register_model

__all__ = ["InceptionModule1d", "InceptionBlock1d", "InceptionTime"]


class InceptionModule1d(nn.Module):
    """Bottleneck 1x1 -> parallel dilated convs (``kernels``) + maxpool->1x1 -> concat -> BN -> ReLU -> SE.

    Output width ``filters * (len(kernels) + 1)`` (Ismail Fawaz et al. 2020).
    """

    def __init__(self, in_ch: int, filters: int, bottleneck: int, kernels: tuple[int, ...], dilation: int = 1,
                 se: bool = True) -> None:
        super().__init__()
        use_bottleneck = bottleneck > 0 and in_ch > 1
        self.bottleneck = nn.Conv1d(in_ch, bottleneck, 1, bias=False) if use_bottleneck else nn.Identity()
        branch_in = bottleneck if use_bottleneck else in_ch
        self.branches = nn.ModuleList(
            nn.Conv1d(branch_in, filters, k, padding=dilation * (k - 1) // 2, dilation=dilation, bias=False)
            for k in kernels
        )
        self.pool_branch = nn.Sequential(nn.MaxPool1d(3, stride=1, padding=1),
                                         nn.Conv1d(in_ch, filters, 1, bias=False))
        self.out_channels = filters * (len(kernels) + 1)
        self.bn = nn.BatchNorm1d(self.out_channels)
        self.act = nn.ReLU(inplace=True)
        self.se = SqueezeExcitation1d(self.out_channels, reduction=8) if se else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.bottleneck(x)
        out = torch.cat([conv(z) for conv in self.branches] + [self.pool_branch(x)], dim=1)
        return self.se(self.act(self.bn(out)))


class InceptionBlock1d(nn.Module):
    """``modules`` inception modules with one residual shortcut (1x1 conv + BN) around them, then ReLU."""

    def __init__(self, in_ch: int, filters: int, bottleneck: int, kernels: tuple[int, ...], modules: int = 3,
                 dilation: int = 1, se: bool = True) -> None:
        super().__init__()
        layers, ch = [], in_ch
        for _ in range(modules):
            layer = InceptionModule1d(ch, filters, bottleneck, kernels, dilation=dilation, se=se)
            layers.append(layer)
            ch = layer.out_channels
        self.layers = nn.Sequential(*layers)
        self.shortcut = nn.Sequential(nn.Conv1d(in_ch, ch, 1, bias=False), nn.BatchNorm1d(ch))
        self.act = nn.ReLU(inplace=True)
        self.out_channels = ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.layers(x) + self.shortcut(x))


@register_model("inception_time")
class InceptionTime(BeatModel):
    """Context-aware InceptionTime (Ismail Fawaz et al. 2020) with SE, dilation, GAP+GMP and RR fusion."""

    variants = {
        "tiny": {"filters": 8, "bottleneck": 8, "depth": 6, "kernels": (9, 19, 39), "dilations": (1, 2),
                 "se": True, "dropout": 0.1, "rr_hidden": 16},
        "base": {"filters": 16, "bottleneck": 16, "depth": 6, "kernels": (9, 19, 39), "dilations": (1, 2),
                 "se": True, "dropout": 0.2, "rr_hidden": 32},
        "large": {"filters": 32, "bottleneck": 32, "depth": 9, "kernels": (9, 19, 39), "dilations": (1, 2, 4),
                  "se": True, "dropout": 0.3, "rr_hidden": 32},
    }
    min_window = 16

    def __init__(self, in_leads: int, n_classes: int, window: int, n_rr: int = 0, variant: str = "base",
                 **arch_kwargs) -> None:
        super().__init__(in_leads, n_classes, window, n_rr, variant, **arch_kwargs)
        h = self.hparams
        depth, dilations = int(h["depth"]), [int(d) for d in h["dilations"]]
        kernels = tuple(int(k) for k in h["kernels"])
        if depth % 3 != 0 or depth // 3 != len(dilations) or any(d < 1 for d in dilations):
            raise ModelError(
                f"inception_time: depth={depth} and dilations={list(dilations)} do not match",
                fix="use a depth that is a multiple of 3 and one dilation per residual block of 3 modules",
            )
        if not kernels or any(k < 1 or k % 2 == 0 for k in kernels):
            raise ModelError(f"inception_time: kernels={list(kernels)} must be odd and positive",
                             fix="use odd kernel sizes such as (9, 19, 39)")
        blocks, ch = [], self.in_leads
        for dilation in dilations:
            block = InceptionBlock1d(ch, int(h["filters"]), int(h["bottleneck"]), kernels, modules=3,
                                     dilation=dilation, se=bool(h["se"]))
            blocks.append(block)
            ch = block.out_channels
        self.blocks = nn.Sequential(*blocks)
        self.pool = GlobalPool1d("avgmax")
        self._build_head(ch * self.pool.multiplier(), dropout=float(h["dropout"]),
                         rr_hidden=int(h["rr_hidden"]))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.blocks(x))

    @property
    def target_layer(self) -> nn.Module:
        """The last residual inception block (its output is the last convolutional feature map)."""
        return self.blocks[-1]
