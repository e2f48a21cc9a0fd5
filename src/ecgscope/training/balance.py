"""Oversampling of the training beats (imbalanced-learn), applied inside a training fold only.

Beats ``(n, C, L)`` and RR features ``(n, k)`` are flattened to one row per
beat, resampled, and reshaped back. Methods: ``"random"`` (duplicates),
``"smote"`` (Chawla et al., JAIR 16, 2002), ``"adasyn"`` (He et al., IJCNN
2008). The original beats come first, unchanged and in order, followed by the
new ones; ``origin`` gives, per output row, the input row it copies (random)
or ``-1`` (synthetic).
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError

__all__ = ["oversample", "OVERSAMPLERS"]

OVERSAMPLERS = ("none", "random", "smote", "adasyn")


def _targets(y: np.ndarray, ratio: float) -> dict[int, int]:
    classes, counts = np.unique(y, return_counts=True)
    top = int(counts.max())
    return {int(c): max(int(n), int(round(ratio * top))) for c, n in zip(classes, counts)}


def oversample(
    x: np.ndarray,
    rr: np.ndarray,
    y: np.ndarray,
    method: str = "none",
    *,
    ratio: float = 1.0,
    k_neighbors: int = 5,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x, rr, y, origin)`` with every class raised to ``ratio`` times the largest class.

    Unlabelled beats (``y < 0``) must be removed first. Classes too small for
    ``k_neighbors`` neighbours use fewer; a class of one beat is duplicated.
    """
    if method not in OVERSAMPLERS:
        raise ConfigError(f"oversample={method!r} is unknown", fix=f"use one of {list(OVERSAMPLERS)}")
    n = x.shape[0]
    origin = np.arange(n, dtype=np.int64)
    if method == "none" or n == 0 or np.unique(y).size < 2:
        return x, rr, y, origin
    if np.any(y < 0):
        raise ConfigError("cannot oversample unlabelled beats (label -1)", fix="drop them before training")
    from imblearn.over_sampling import ADASYN, SMOTE, RandomOverSampler

    shape = x.shape[1:]
    flat = np.concatenate([x.reshape(n, -1), rr], axis=1)
    targets = _targets(y, ratio)
    grown = [int(np.count_nonzero(y == c)) for c, t in targets.items() if t > np.count_nonzero(y == c)]
    if not grown:
        return x, rr, y, origin
    k = min(int(k_neighbors), min(grown) - 1)
    if method == "random" or k < 1:
        sampler = RandomOverSampler(sampling_strategy=targets, random_state=seed)
    elif method == "smote":
        sampler = SMOTE(sampling_strategy=targets, k_neighbors=k, random_state=seed)
    else:
        sampler = ADASYN(sampling_strategy=targets, n_neighbors=k, random_state=seed)
    try:
        flat_out, y_out = sampler.fit_resample(flat, y)
    except (ValueError, RuntimeError) as exc:
        raise ConfigError(f"{method} oversampling failed ({exc})",
                          fix="use train.oversample=smote or random, or lower train.oversample_ratio") from None
    if isinstance(sampler, RandomOverSampler):
        origin = np.asarray(sampler.sample_indices_, dtype=np.int64)
    else:
        origin = np.concatenate([origin, np.full(len(y_out) - n, -1, np.int64)])
    flat_out = np.asarray(flat_out, dtype=np.float32)
    d = int(np.prod(shape))
    return (np.ascontiguousarray(flat_out[:, :d].reshape(-1, *shape)), np.ascontiguousarray(flat_out[:, d:]),
            np.asarray(y_out, dtype=np.int64), origin)
