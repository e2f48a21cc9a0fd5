"""Bootstrap confidence intervals over groups (records, patients), never over items.

Items of one group (the beats of a record, the recordings of a patient) are
correlated, so resampling items would give intervals that are too narrow.
Here each resample draws ``G`` groups with replacement out of the ``G``
groups and keeps *all* items of every drawn group (the cluster bootstrap;
Efron B, Tibshirani RJ, *An Introduction to the Bootstrap*, 1993). Intervals
are percentile intervals (linear interpolation, as ``numpy.quantile``).

Groups are ordered by their sorted identifiers before drawing, so the
intervals depend on ``seed`` but not on the order of the items or groups.

Two paths share the same draws (same ``seed`` -> same resamples):

* :func:`bootstrap_ci` -- generic: any statistic of the resampled items,
  one call per resample;
* :func:`bootstrap_sums` -- fast, for statistics of additive per-group
  tables (confusion matrices): a resample is a count-weighted sum of the
  per-group tables, one matrix product for all resamples.
  :func:`confusion_bootstrap` scores those sums with
  :func:`~ecgscope.evaluation.classification.metrics_from_confusion`.

A statistic that is undefined (NaN) in some resamples -- e.g. the
sensitivity of a rare class when no record containing it is drawn -- gets its
interval from the resamples where it is defined; ``n_defined`` says how many.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .classification import EvaluationError, macro_mean, metrics_from_confusion

__all__ = [
    "BootstrapCI",
    "check_bootstrap_args",
    "group_index",
    "draw_groups",
    "resample_counts",
    "percentile_interval",
    "bootstrap_sums",
    "bootstrap_ci",
    "confusion_bootstrap",
]


@dataclass
class BootstrapCI:
    """A point estimate with its percentile bootstrap interval (scalars or arrays of one shape).

    ``samples`` holds the statistic of every resample, ``(n_boot, ...)``;
    ``n_defined`` counts the resamples where it is not NaN.
    """

    point: float | np.ndarray
    low: float | np.ndarray
    high: float | np.ndarray
    level: float
    n_boot: int
    n_defined: int | np.ndarray
    samples: np.ndarray

    def contains_point(self) -> bool | np.ndarray:
        """Whether ``low <= point <= high`` (elementwise)."""
        return (self.low <= self.point) & (self.point <= self.high)


def check_bootstrap_args(n_boot: int, ci: float) -> tuple[int, float]:
    """Validated ``(n_boot, ci)``: ``n_boot >= 0`` (0 = no intervals), ``0 < ci < 1``."""
    if isinstance(n_boot, bool) or int(n_boot) != n_boot or n_boot < 0:
        raise EvaluationError(f"n_boot={n_boot!r} is not a non-negative integer",
                              fix="pass n_boot=1000 (or 0 to skip confidence intervals)")
    if not 0.0 < float(ci) < 1.0:
        raise EvaluationError(f"ci={ci!r} is not a coverage in (0, 1)", fix="pass ci=0.95 for 95 % intervals")
    return int(n_boot), float(ci)


def group_index(groups) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, inverse)``: sorted distinct group identifiers and each item's index into them."""
    arr = np.asarray(groups)
    if arr.ndim != 1:
        raise EvaluationError(f"groups has shape {arr.shape}, not one identifier per item",
                              fix="pass a 1-D sequence of record or patient identifiers")
    if arr.dtype.kind not in "iub":
        arr = arr.astype(str)
    ids, inverse = np.unique(arr, return_inverse=True)
    return ids, inverse.reshape(-1).astype(np.int64)


def draw_groups(n_groups: int, n_boot: int, seed: int | np.random.Generator | None = 0) -> np.ndarray:
    """``(n_boot, n_groups)`` group indices drawn with replacement (one row per resample)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, n_groups, size=(n_boot, n_groups), dtype=np.int64)


def resample_counts(n_groups: int, n_boot: int, seed: int | np.random.Generator | None = 0) -> np.ndarray:
    """``(n_boot, n_groups)`` times each group is drawn per resample (the draws of :func:`draw_groups`)."""
    draws = draw_groups(n_groups, n_boot, seed)
    flat = draws + (np.arange(n_boot, dtype=np.int64) * n_groups)[:, None]
    return np.bincount(flat.ravel(), minlength=n_boot * n_groups).reshape(n_boot, n_groups)


def percentile_interval(samples, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(low, high, n_defined)`` percentile interval along axis 0, ignoring NaN samples.

    Equal to ``numpy.nanquantile(samples, [(1-level)/2, (1+level)/2], axis=0)``
    (linear interpolation) but vectorised without warnings; NaN where no
    sample is defined.
    """
    s = np.asarray(samples, dtype=np.float64)
    s = np.where(np.isfinite(s), s, np.nan)
    s = np.sort(s, axis=0)  # NaN last
    n_def = np.isfinite(s).sum(axis=0)
    if s.shape[0] == 0:
        nan = np.full(s.shape[1:], np.nan)
        return nan, nan.copy(), n_def

    def quantile(q: float) -> np.ndarray:
        pos = q * np.maximum(n_def - 1, 0)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, np.maximum(n_def - 1, 0))
        a = np.take_along_axis(s, lo[None, ...], axis=0)[0]
        b = np.take_along_axis(s, hi[None, ...], axis=0)[0]
        frac = pos - lo
        out = np.where(frac > 0, a + frac * (b - a), a)
        return np.where(n_def > 0, out, np.nan)

    alpha = (1.0 - float(level)) / 2.0
    return quantile(alpha), quantile(1.0 - alpha), n_def


def bootstrap_sums(per_group, n_boot: int = 1000, seed: int | np.random.Generator | None = 0) -> np.ndarray:
    """``(n_boot, ...)`` sums of ``per_group[g]`` (shape ``(G, ...)``) over each resample's drawn groups.

    For additive tables (per-record confusion matrices) this is the table of
    the resampled data set, computed as one ``counts @ tables`` product.
    """
    table = np.asarray(per_group)
    g = table.shape[0]
    counts = resample_counts(g, n_boot, seed)
    flat = table.reshape(g, -1)
    if flat.dtype.kind in "iub":
        out = counts @ flat.astype(np.int64)
    else:
        out = counts.astype(np.float64) @ flat
    return out.reshape(n_boot, *table.shape[1:])


def bootstrap_ci(stat_fn: Callable[..., float | np.ndarray], groups, *arrays, n_boot: int = 1000,
                 seed: int | np.random.Generator | None = 0, ci: float = 0.95) -> BootstrapCI:
    """Percentile bootstrap CI of ``stat_fn(*arrays)``, resampling whole ``groups``.

    Args:
        stat_fn: statistic of the (resampled) arrays; returns a scalar or an
            array of fixed shape (NaN allowed where undefined).
        groups: group identifier (record, patient) of every item.
        arrays: per-item arrays indexed along their first axis, e.g.
            ``y_true, y_pred`` or ``y_true, proba``.
        n_boot, seed, ci: number of resamples, random seed, coverage.
    """
    n_boot, ci = check_bootstrap_args(n_boot, ci)
    ids, inv = group_index(groups)
    arrays = tuple(np.asarray(a) for a in arrays)
    for k, a in enumerate(arrays):
        if a.ndim == 0 or a.shape[0] != inv.size:
            n = a.shape[0] if a.ndim else 0
            raise EvaluationError(f"array {k} has {n} items but groups has {inv.size}",
                                  fix="pass one group identifier per item")
    point = np.asarray(stat_fn(*arrays), dtype=np.float64)
    order = np.argsort(inv, kind="stable")
    sizes = np.bincount(inv, minlength=ids.size)
    starts = np.cumsum(sizes) - sizes
    samples = np.empty((n_boot, *point.shape))
    for b, drawn in enumerate(draw_groups(ids.size, n_boot, seed)):
        lengths = sizes[drawn]
        offsets = np.cumsum(lengths) - lengths
        idx = order[np.repeat(starts[drawn] - offsets, lengths) + np.arange(lengths.sum())]
        samples[b] = stat_fn(*(a[idx] for a in arrays))
    low, high, n_def = percentile_interval(samples, ci)
    unwrap = (lambda x: float(x)) if point.ndim == 0 else (lambda x: x)
    return BootstrapCI(unwrap(point), unwrap(low), unwrap(high), ci, n_boot,
                       int(n_def) if point.ndim == 0 else n_def, samples)


def confusion_bootstrap(per_group_cm, n_boot: int = 1000, seed: int | np.random.Generator | None = 0,
                        ci: float = 0.95,
                        f1_subsets: dict[str, Sequence[int]] | None = None) -> dict[str, BootstrapCI]:
    """Bootstrap CIs of every confusion-matrix metric from per-group matrices ``(G, K, K)``.

    Returns ``{name: BootstrapCI}`` for ``se ppv fpr spec f1`` (per class,
    ``(K,)``), ``accuracy`` and ``macro_f1:<subset name>`` for each entry of
    ``f1_subsets`` (name -> class indices). Fully vectorised: no loop over
    items or resamples.
    """
    n_boot, ci = check_bootstrap_args(n_boot, ci)
    cms = np.asarray(per_group_cm, dtype=np.int64)
    point = metrics_from_confusion(cms.sum(axis=0))
    boot = metrics_from_confusion(bootstrap_sums(cms, n_boot, seed))
    stats = {m: (point[m], boot[m]) for m in ("se", "ppv", "fpr", "spec", "f1", "accuracy")}
    for name, cols in (f1_subsets or {}).items():
        stats[f"macro_f1:{name}"] = (macro_mean(point["f1"], cols), macro_mean(boot["f1"], cols))
    out = {}
    for name, (p, s) in stats.items():
        low, high, n_def = percentile_interval(s, ci)
        if np.ndim(p) == 0:
            out[name] = BootstrapCI(float(p), float(low), float(high), ci, n_boot, int(n_def), s)
        else:
            out[name] = BootstrapCI(p, low, high, ci, n_boot, n_def, s)
    return out
