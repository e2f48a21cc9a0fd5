"""``BeatModel``: the contract every beat classifier in the registry fulfils.

A subclass builds a backbone that turns ``x: (B, in_leads, window)`` into a
pooled embedding ``(B, D)`` (:meth:`BeatModel.embed`) and calls
:meth:`BeatModel._build_head` with ``D``; the base class adds the RR-feature
fusion and the classifier, validates inputs, and records the constructor's
keywords (``model_kwargs``) so a checkpoint can rebuild the model.
"""

from __future__ import annotations

import operator
from typing import Any, ClassVar

import torch
from torch import nn

from ..errors import ModelError
from .blocks import RRFusion

__all__ = ["BeatModel"]


class BeatModel(nn.Module):
    """Base class: ``forward(x, rr=None) -> logits``, ``features(x, rr=None)``, ``target_layer``.

    Subclasses set ``variants`` (name -> default architecture keywords; every
    keyword a caller may override must appear there) and ``min_window``, and
    implement :meth:`embed` and :attr:`target_layer`.
    """

    architecture: ClassVar[str] = ""  # set by @register_model
    variants: ClassVar[dict[str, dict[str, Any]]] = {}
    min_window: ClassVar[int] = 16

    def __init__(
        self,
        in_leads: int,
        n_classes: int,
        window: int,
        n_rr: int = 0,
        variant: str = "base",
        **arch_kwargs: Any,
    ) -> None:
        super().__init__()
        name = self._name
        self.in_leads = _positive_int(in_leads, "in_leads", name)
        self.n_classes = _positive_int(n_classes, "n_classes", name)
        self.window = _positive_int(window, "window", name)
        self.n_rr = _positive_int(n_rr, "n_rr", name, allow_zero=True)
        if self.window < self.min_window:
            raise ModelError(
                f"{name}: window={self.window} samples is shorter than the {self.min_window} "
                "this model needs",
                fix=f"segment beats into windows of at least {self.min_window} samples",
            )
        if variant not in self.variants:
            raise ModelError(f"{name}: unknown variant {variant!r}",
                             fix=f"use one of: {', '.join(self.variants)}")
        unknown = sorted(set(arch_kwargs) - set(self.variants[variant]))
        if unknown:
            raise ModelError(
                f"{name}: unknown architecture keyword(s) {', '.join(unknown)}",
                fix=f"use only: {', '.join(sorted(self.variants[variant]))}",
            )
        self.variant = variant
        self.hparams: dict[str, Any] = {**self.variants[variant], **arch_kwargs}
        self.model_kwargs: dict[str, Any] = {
            "in_leads": self.in_leads, "n_classes": self.n_classes, "window": self.window,
            "n_rr": self.n_rr, "variant": variant, **arch_kwargs,
        }

    # -- to be provided by subclasses -------------------------------------------------
    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled signal embedding ``(B, D)`` of ``x: (B, in_leads, window)``."""
        raise NotImplementedError

    @property
    def target_layer(self) -> nn.Module:
        """Module whose output ``(B, C, L)`` is the last convolutional feature map (Grad-CAM)."""
        raise NotImplementedError

    # -- shared -----------------------------------------------------------------------
    def _choice(self, key: str, allowed: tuple) -> Any:
        """``self.hparams[key]``, or ``ModelError`` when it is not one of ``allowed``."""
        value = self.hparams[key]
        if value not in allowed:
            raise ModelError(f"{self.architecture}: {key}={value!r} is not supported",
                             fix=f"use one of: {', '.join(map(repr, allowed))}")
        return value

    def _check_stages(self, counts: list, kernels: list) -> None:
        """``ModelError`` unless ``counts`` (blocks per stage) and odd ``kernels`` pair up."""
        ok = (len(counts) == len(kernels) > 0 and all(int(c) >= 1 for c in counts)
              and all(int(k) % 2 == 1 and int(k) > 0 for k in kernels))
        if not ok:
            raise ModelError(f"{self.architecture}: stages {counts!r} and kernels {kernels!r} do not pair up",
                             fix="give one block count (>= 1) and one odd kernel size per stage")

    def _build_head(self, embed_dim: int, *, dropout: float = 0.0, rr_hidden: int = 32) -> None:
        """Add the RR fusion (identity when ``n_rr == 0``) and the linear classifier."""
        self.embed_dim = int(embed_dim)
        self.fusion = RRFusion(self.embed_dim, self.n_rr, hidden=rr_hidden)
        self.classifier = nn.Sequential(nn.Dropout(dropout),
                                        nn.Linear(self.fusion.out_features, self.n_classes))

    @property
    def feature_dim(self) -> int:
        """Width of :meth:`features` (signal embedding plus RR embedding)."""
        return self.fusion.out_features

    def features(self, x: torch.Tensor, rr: torch.Tensor | None = None) -> torch.Tensor:
        """Pooled embedding before the classifier, ``(B, feature_dim)``."""
        self._check_inputs(x, rr)
        return self.fusion(self.embed(x), rr)

    def forward(self, x: torch.Tensor, rr: torch.Tensor | None = None) -> torch.Tensor:
        """Class logits ``(B, n_classes)`` of beat windows ``x`` and RR features ``rr``."""
        return self.classifier(self.features(x, rr))

    #: Whether the model has the optional fast path :meth:`record_logits` (all beats of one record at once).
    has_record_logits: ClassVar[bool] = False

    def record_logits(self, x, rr, stats: dict, *, batch_size: int = 256) -> torch.Tensor:
        """Optional hook: logits ``(n, n_classes)`` of all beats of one record, in time order, from each beat's
        own un-standardised channels ``x`` and RR features ``rr`` (the beat set built with ``context_beats=0``,
        no beat dropped) and the card's normalisation ``stats`` for the full input layout. It must equal
        :meth:`forward` on the standardised ``context_beats=k`` beat set; models that implement it set
        :attr:`has_record_logits`."""
        raise NotImplementedError(f"{self._name} has no record_logits fast path")

    def n_parameters(self, trainable_only: bool = False) -> int:
        """Number of (trainable) parameters."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    def extra_repr(self) -> str:
        return (f"architecture={self.architecture!r}, variant={self.variant!r}, in_leads={self.in_leads}, "
                f"n_classes={self.n_classes}, window={self.window}, n_rr={self.n_rr}")

    def _check_inputs(self, x: torch.Tensor, rr: torch.Tensor | None) -> None:
        self._check_x(x)
        self._check_rr(rr, x.shape[0])

    def _check_x(self, x: torch.Tensor) -> None:
        """``ModelError`` unless ``x`` is ``(batch, in_leads, window)``."""
        if not isinstance(x, torch.Tensor) or x.dim() != 3 or x.shape[1] != self.in_leads \
                or x.shape[2] != self.window:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ModelError(
                f"{self._name}: input x has shape {got}, expected (batch, {self.in_leads} leads, "
                f"{self.window} samples)",
                fix="segment beats with the model's window and leads (see its checkpoint card)",
            )

    def _check_rr(self, rr: torch.Tensor | None, batch: int) -> None:
        """``ModelError`` unless ``rr`` is ``(batch, n_rr)`` (or absent/empty when ``n_rr == 0``)."""
        if self.n_rr == 0:
            if rr is not None and (rr.dim() != 2 or rr.shape[1] != 0):
                raise ModelError(
                    f"{self._name}: got RR features of shape {tuple(rr.shape)} but the model takes none "
                    "(n_rr=0)",
                    fix="pass rr=None, or build the model with n_rr equal to the number of RR features",
                )
            return
        if rr is None:
            raise ModelError(f"{self._name}: the model needs {self.n_rr} RR features and got rr=None",
                             fix=f"pass rr with shape (batch, {self.n_rr})")
        if rr.dim() != 2 or rr.shape[1] != self.n_rr or rr.shape[0] != batch:
            raise ModelError(
                f"{self._name}: rr has shape {tuple(rr.shape)}, expected ({batch}, {self.n_rr})",
                fix="pass one row of RR features per beat window, in the card's rr_features order",
            )

    @property
    def _name(self) -> str:
        return self.architecture or type(self).__name__


def _positive_int(value: Any, key: str, name: str, allow_zero: bool = False) -> int:
    try:
        number = None if isinstance(value, bool) else operator.index(value)  # int, numpy integers
    except TypeError:
        number = None
    if number is None or not (number > 0 or (allow_zero and number == 0)):
        bound = "a non-negative" if allow_zero else "a positive"
        raise ModelError(f"{name}: {key}={value!r} is not {bound} integer", fix=f"pass {key} as {bound} int")
    return int(number)
