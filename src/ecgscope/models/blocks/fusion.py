"""RR-feature fusion: concatenate a small MLP embedding of the RR features to the signal embedding.

Beat classes such as S (supraventricular ectopic) are defined as much by
timing as by shape; de Chazal P, O'Dwyer M, Reilly RB, "Automatic
classification of heartbeats using ECG morphology and heartbeat interval
features", IEEE TBME 51(7), 2004, showed RR intervals carry that timing.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["RRFusion"]


class RRFusion(nn.Module):
    """``[signal_embedding, MLP(rr)]``; the identity on the embedding when ``n_rr == 0``.

    ``out_features = in_features + hidden`` (or ``in_features`` without RR features).
    """

    def __init__(self, in_features: int, n_rr: int, hidden: int = 32) -> None:
        super().__init__()
        self.in_features = int(in_features)
        self.n_rr = int(n_rr)
        if self.n_rr > 0:
            self.mlp = nn.Sequential(nn.Linear(self.n_rr, hidden), nn.GELU(),
                                     nn.Linear(hidden, hidden), nn.GELU())
            self.out_features = self.in_features + hidden
        else:
            self.mlp = None
            self.out_features = self.in_features

    def forward(self, features: torch.Tensor, rr: torch.Tensor | None = None) -> torch.Tensor:
        if self.mlp is None:
            return features
        return torch.cat([features, self.mlp(rr.to(features.dtype))], dim=1)
