"""Temperature scaling (Guo, Pleiss, Sun & Weinberger 2017): one scalar that calibrates a trained network.

A network trained for a few passes with class weights and label smoothing is
usually *under*-confident (the rhythm RAMBA of CinC 2017 CV: mean top
probability 0.63 at 80 % accuracy). Dividing its logits by one temperature
``T`` fitted on held-out records of the *training* patients (the same
validation split that chose the epoch) fixes most of that: it minimises the
negative log-likelihood of those records, leaves the argmax of a softmax
unchanged, and needs nothing from the test data. ``T < 1`` sharpens, ``T > 1``
softens.

    T = fit_temperature(val_logits, val_y)                           # window = record
    T = fit_temperature(val_logits, val_y, pool=lambda p: pool(p))   # windows pooled to records
    proba = torch.softmax(logits / T, 1)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from ..errors import ConfigError

__all__ = ["TEMPERATURE_BOUNDS", "activate", "fit_temperature", "temperature_nll"]

#: Search range of :func:`fit_temperature` (a fit at a bound means the logits carry no usable scale).
TEMPERATURE_BOUNDS = (0.05, 20.0)


def activate(logits: torch.Tensor, head: str = "softmax", temperature: float = 1.0) -> torch.Tensor:
    """Probabilities of ``logits / temperature``: softmax over classes or per-class sigmoid."""
    z = logits / float(temperature)
    if head == "softmax":
        return torch.softmax(z, 1)
    if head == "sigmoid":
        return torch.sigmoid(z)
    raise ConfigError(f"head={head!r} is not supported", fix="use head='softmax' or head='sigmoid'")


def temperature_nll(logits, y, temperature: float, *, head: str = "softmax",
                    pool: Callable[[np.ndarray], np.ndarray] | None = None) -> float:
    """Mean negative log-likelihood of integer labels ``y`` under ``logits / temperature``.

    ``pool`` maps the (row-wise) probabilities to one row per label (e.g. window
    probabilities to record probabilities); without it rows and labels match.
    A sigmoid head scores every class one-vs-rest (summed binary NLL).
    """
    p = activate(torch.as_tensor(np.asarray(logits), dtype=torch.float64), head, temperature).numpy()
    if pool is not None:
        p = np.asarray(pool(p), np.float64)
    y = np.asarray(y, np.int64)
    if p.shape[0] != y.size:
        raise ConfigError(f"{p.shape[0]} probability rows for {y.size} labels",
                          fix="pool window probabilities to one row per label")
    p = np.clip(p, 1e-12, 1.0)
    if head == "softmax":
        return float(-np.log(p[np.arange(y.size), y]).mean())
    onehot = np.eye(p.shape[1], dtype=bool)[y]
    return float(-np.where(onehot, np.log(p), np.log1p(-np.minimum(p, 1 - 1e-12))).sum(1).mean())


def fit_temperature(logits, y, *, head: str = "softmax", pool: Callable[[np.ndarray], np.ndarray] | None = None,
                    bounds: tuple[float, float] = TEMPERATURE_BOUNDS) -> float:
    """The temperature in ``bounds`` that minimises :func:`temperature_nll` (bounded search on log T).

    Returns 1.0 when there are no labels. Fit it on validation records of the
    training patients only, never on the data you report.
    """
    from scipy.optimize import minimize_scalar

    y = np.asarray(y, np.int64)
    if y.size == 0:
        return 1.0
    lo, hi = (math.log(float(b)) for b in bounds)
    if not lo < hi:
        raise ConfigError(f"temperature bounds {bounds} are empty", fix="e.g. bounds=(0.05, 20)")
    res = minimize_scalar(lambda s: temperature_nll(logits, y, math.exp(s), head=head, pool=pool),
                          bounds=(lo, hi), method="bounded", options={"xatol": 1e-4})
    best = math.exp(float(res.x))
    # the bounded search never evaluates the interval's ends; keep 1.0 when it is at least as good
    if temperature_nll(logits, y, 1.0, head=head, pool=pool) <= float(res.fun):
        return 1.0
    return best
