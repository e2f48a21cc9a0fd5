"""Class weights, weighted cross-entropy and focal loss."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["class_weights", "FocalLoss", "build_loss"]


def class_weights(y: np.ndarray, n_classes: int, mode: str = "balanced") -> np.ndarray:
    """Per-class weights from training labels, mean 1 over the classes present.

    ``"none"``: all ones; ``"balanced"``: ``n / (k * n_c)``; ``"sqrt"``: its square root.
    Classes absent from ``y`` get weight 0.
    """
    counts = np.bincount(np.asarray(y)[np.asarray(y) >= 0], minlength=n_classes).astype(np.float64)[:n_classes]
    present = counts > 0
    if mode == "none" or not present.any():
        return np.ones(n_classes, np.float32)
    w = np.zeros(n_classes)
    w[present] = counts.sum() / (present.sum() * counts[present])
    if mode == "sqrt":
        w = np.sqrt(w)
    w[present] /= w[present].mean()
    return w.astype(np.float32)


class FocalLoss(nn.Module):
    """Focal loss ``-alpha_c (1 - p)^gamma log p`` (Lin et al., ICCV 2017), mean over the batch."""

    def __init__(self, gamma: float = 2.0, weight: torch.Tensor | None = None) -> None:
        super().__init__()
        self.gamma = float(gamma)
        self.register_buffer("weight", weight if weight is not None else None, persistent=False)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Loss of ``logits (B, K)`` against integer ``target (B,)``."""
        logp = F.log_softmax(logits.float(), dim=1).gather(1, target[:, None]).squeeze(1)
        loss = -((1 - logp.exp()).clamp_min(0) ** self.gamma) * logp
        if self.weight is not None:
            w = self.weight[target]
            return (loss * w).sum() / w.sum().clamp_min(1e-12)
        return loss.mean()


def build_loss(kind: str, weights: np.ndarray | None, *, gamma: float = 2.0,
               label_smoothing: float = 0.0) -> nn.Module:
    """``"ce"`` (weighted cross-entropy with label smoothing) or ``"focal"``."""
    w = None if weights is None else torch.as_tensor(weights, dtype=torch.float32)
    if kind == "focal":
        return FocalLoss(gamma, w)
    return nn.CrossEntropyLoss(weight=w, label_smoothing=label_smoothing)
