"""``feature_mlp``: the classical-features baseline, a small MLP on a coarse waveform and the RR inputs.

In the spirit of de Chazal P, O'Dwyer M, Reilly RB, "Automatic classification
of heartbeats using ECG morphology and heartbeat interval features", IEEE
TBME 51(7), 2004: a few samples of each beat channel plus the RR (and, with
``data.morphology: true``, :func:`ecgscope.signal.beat_morphology`) features
feed a shallow classifier, no convolutional feature learning. It is the bar a
deep beat model has to clear in the same harness.

Each channel goes through a 1x1 convolution (``width`` mixtures of the input
channels, the Grad-CAM layer), is averaged down to ``points`` samples,
flattened and batch-normalised; one hidden layer (``hidden: 0`` drops it, a
classifier linear in the waveform) joins the RR fusion and the linear
classifier. ``points: 0`` leaves the waveform out: the model is then an MLP on
the RR and morphology features alone. ``members: k`` builds ``k`` fusion +
classifier heads on the same embedding and returns the log of their mean
probability: a mixture trained as one model, which evens out the
initialisation luck that a single small MLP's validation-driven early
stopping turns into several points of CV score.
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import ModelError
from .base import BeatModel
from .blocks import log_mean_probability
from .registry import register_model

__all__ = ["FeatureMLP"]


@register_model("feature_mlp")
class FeatureMLP(BeatModel):
    """Coarse waveform samples + RR/morphology features through a shallow MLP; variants tiny/base/large."""

    variants = {
        "tiny": {"width": 8, "points": 16, "hidden": 32, "dropout": 0.0, "rr_hidden": 16, "members": 1},
        "base": {"width": 8, "points": 24, "hidden": 64, "dropout": 0.1, "rr_hidden": 32, "members": 1},
        "large": {"width": 16, "points": 32, "hidden": 128, "dropout": 0.2, "rr_hidden": 64, "members": 1},
    }

    def __init__(self, in_leads: int, n_classes: int, window: int, n_rr: int = 0, variant: str = "base",
                 **arch_kwargs) -> None:
        super().__init__(in_leads, n_classes, window, n_rr, variant, **arch_kwargs)
        h = self.hparams
        width, points, hidden, members = (int(h[k]) for k in ("width", "points", "hidden", "members"))
        if points < 0 or width < 1 or hidden < 0 or members < 1:
            raise ModelError(f"feature_mlp: width={width}, points={points}, hidden={hidden}, members={members} "
                             "must be positive, non-negative, non-negative, positive",
                             fix="e.g. width=8, points=16, hidden=64, members=1")
        self.uses_waveform = points > 0
        if self.uses_waveform:
            flat = width * points
            self.mix = nn.Conv1d(self.in_leads, width, 1)
            self.pool = nn.AdaptiveAvgPool1d(points)
            self.norm = nn.BatchNorm1d(flat)  # standardised inputs, as a linear classifier wants them
            self.hidden = (nn.Sequential(nn.Linear(flat, hidden), nn.GELU()) if hidden > 0 else nn.Identity())
        embed_dim = (hidden or width * points) if self.uses_waveform else 0
        heads = []
        for _ in range(members):  # the last one built stays as self.fusion / self.classifier
            self._build_head(embed_dim, dropout=float(h["dropout"]), rr_hidden=int(h["rr_hidden"]))
            heads.append(nn.ModuleList([self.fusion, self.classifier]))
        self.other_heads = nn.ModuleList(heads[:-1])

    def forward(self, x: torch.Tensor, rr: torch.Tensor | None = None) -> torch.Tensor:
        """Logits; with ``members > 1`` the log of the members' mean probabilities (:meth:`features` is the
        last member's)."""
        if not len(self.other_heads):
            return super().forward(x, rr)
        self._check_inputs(x, rr)
        embedding = self.embed(x)
        logits = [head[1](head[0](embedding, rr)) for head in self.other_heads]
        logits.append(self.classifier(self.fusion(embedding, rr)))
        return log_mean_probability(torch.stack(logits))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        if not self.uses_waveform:  # RR / morphology features only: an empty signal embedding
            return x.new_zeros(x.shape[0], 0)
        return self.hidden(self.norm(self.pool(self.mix(x)).flatten(1)))

    @property
    def target_layer(self) -> nn.Module:
        """The channel-mixing 1x1 convolution (its output keeps the window's time axis)."""
        if not self.uses_waveform:
            raise ModelError("feature_mlp with points=0 does not look at the waveform: it has no target layer",
                             fix="explain it by its RR / morphology inputs instead")
        return self.mix
