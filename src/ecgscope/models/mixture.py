"""``mixture``: registered beat models trained together as one weighted ensemble.

The "signal + features" ensemble of the beat classification framework
(weighted fusion of the members' probabilities): every member sees the same
inputs, a deep model reading the waveform and a feature model reading the RR
and morphology summaries, for instance; the output is the log of the
weighted mean of their class probabilities, so one cross-entropy trains all
members jointly and the checkpoint, the CV harness and inference treat the
mixture as any other model (Lakshminarayanan et al., "Simple and scalable
predictive uncertainty estimation using deep ensembles", NeurIPS 2017,
average the members' probabilities the same way).

``members`` lists ``{"name", "variant", "kwargs"}`` of registered models
(not mixtures); ``weights`` their relative weights (default equal);
``dropout``, when given, replaces every member's. ``independent: true``
trains the members as a deep ensemble does, each on its own loss: in
training mode :meth:`forward` then returns the members' logits stacked
``(k, B, n_classes)`` and the trainer averages their losses; in eval mode it
is the mixture either way. (Trained jointly, on the mixture's loss, the
faster-learning waveform member takes over: DS1 CV in docs/bench.)
:meth:`features` joins the members' features; :attr:`target_layer` is the
first member's that has one (Grad-CAM explains the waveform member).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..errors import ModelError
from .base import BeatModel
from .blocks import log_mean_probability
from .registry import model_class, register_model

__all__ = ["Mixture"]


def _members(transnet: str, mlp: str) -> list[dict[str, Any]]:
    return [{"name": "transnet", "variant": transnet}, {"name": "feature_mlp", "variant": mlp}]


@register_model("mixture")
class Mixture(BeatModel):
    """Weighted mean of registered models' probabilities; variants pair transnet with feature_mlp."""

    variants = {
        "tiny": {"members": _members("tiny", "tiny"), "weights": None, "dropout": None, "independent": False},
        "base": {"members": _members("base", "base"), "weights": None, "dropout": None, "independent": False},
        "large": {"members": _members("large", "large"), "weights": None, "dropout": None, "independent": False},
    }

    def __init__(self, in_leads: int, n_classes: int, window: int, n_rr: int = 0, variant: str = "base",
                 **arch_kwargs) -> None:
        super().__init__(in_leads, n_classes, window, n_rr, variant, **arch_kwargs)
        specs = self.hparams["members"]
        if not isinstance(specs, (list, tuple)) or not specs:
            raise ModelError(f"mixture: members={specs!r} must be a non-empty list",
                             fix='e.g. members: [{name: transnet, variant: tiny}, {name: feature_mlp}]')
        nets = []
        for spec in specs:
            if not isinstance(spec, dict) or "name" not in spec or set(spec) - {"name", "variant", "kwargs"}:
                raise ModelError(f"mixture: member {spec!r} is not a {{name, variant, kwargs}} mapping",
                                 fix="give each member a registered model name, an optional variant and kwargs")
            cls = model_class(spec["name"])
            if issubclass(cls, Mixture):
                raise ModelError("mixture: a member cannot itself be a mixture", fix="list its members instead")
            kwargs = dict(spec.get("kwargs") or {})
            if self.hparams["dropout"] is not None:
                kwargs["dropout"] = self.hparams["dropout"]
            nets.append(cls(in_leads, n_classes, window, n_rr, spec.get("variant", "base"), **kwargs))
        self.members = nn.ModuleList(nets)
        weights = self.hparams["weights"]
        weights = [1.0] * len(nets) if weights is None else [float(w) for w in weights]
        if len(weights) != len(nets) or min(weights) <= 0:
            raise ModelError(f"mixture: weights={weights!r} must be {len(nets)} positive numbers",
                             fix="give one positive weight per member, or none for equal weights")
        self.register_buffer("log_weights", torch.log(torch.tensor(weights) / sum(weights)), persistent=False)

    def forward(self, x: torch.Tensor, rr: torch.Tensor | None = None) -> torch.Tensor:
        """Log of the weighted mean of the members' class probabilities ``(B, n_classes)`` (while training
        with ``independent``: the members' logits ``(k, B, n_classes)``)."""
        self._check_inputs(x, rr)
        logits = torch.stack([net(x, rr) for net in self.members])
        if self.training and self.hparams["independent"]:
            return logits
        return log_mean_probability(logits, self.log_weights)

    @property
    def feature_dim(self) -> int:
        """Sum of the members' feature widths."""
        return sum(net.feature_dim for net in self.members)

    def features(self, x: torch.Tensor, rr: torch.Tensor | None = None) -> torch.Tensor:
        """The members' features side by side ``(B, feature_dim)``."""
        self._check_inputs(x, rr)
        return torch.cat([net.features(x, rr) for net in self.members], dim=1)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The members' signal embeddings side by side."""
        return torch.cat([net.embed(x) for net in self.members], dim=1)

    @property
    def target_layer(self) -> nn.Module:
        """The first member's Grad-CAM layer (members without a waveform have none)."""
        for net in self.members:
            try:
                return net.target_layer
            except ModelError:
                continue
        raise ModelError("mixture: no member looks at the waveform", fix="add a waveform model as a member")
