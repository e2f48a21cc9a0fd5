"""Checkpoint selection and early stopping: keep the best epoch by a validation score, count epochs without gain.

Shared by the beat trainer (:mod:`.trainer`) and the rhythm window trainer
(:mod:`.rhythm`)::

    best = BestEpoch(min_delta=1e-4)
    for epoch in ...:
        best.offer(epoch, val_score, state=partial(cpu_state, ema_model))  # score None: no validation, keep every epoch
        if best.exhausted(patience): break
    model.load_state_dict(best.kept["state"])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from torch import nn

__all__ = ["BestEpoch", "cpu_state"]


def cpu_state(model: nn.Module) -> dict:
    """A detached CPU copy of ``model.state_dict()``."""
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


class BestEpoch:
    """The best epoch so far (``epoch``, ``score``, what was ``kept`` with it) and the epochs since (``bad``)."""

    def __init__(self, min_delta: float = 1e-4) -> None:
        self.min_delta = float(min_delta)
        self.score = -math.inf
        self.epoch = 0
        self.kept: dict[str, Any] = {}
        self.bad = 0

    def offer(self, epoch: int, score: float | None, **keep: Callable[[], Any]) -> bool:
        """Record ``epoch``; when ``score`` beats the best by ``min_delta``, call each ``keep`` function
        (e.g. a copy of the weights) and keep its result in ``kept`` under the same name.

        The functions run only for a kept epoch, so weights are copied only when they improve.
        ``score=None`` (no validation data) always counts as a gain, so the last epoch is kept.
        Returns whether the epoch was kept.
        """
        improved = score is None or float(score) > self.score + self.min_delta
        if improved:
            if score is not None:
                self.score = float(score)
            self.epoch, self.kept, self.bad = int(epoch), {k: f() for k, f in keep.items()}, 0
        else:
            self.bad += 1
        return improved

    def exhausted(self, patience: int) -> bool:
        """Whether ``patience`` epochs in a row brought no gain."""
        return self.bad >= int(patience)
