"""Figures of classification reports: confusion matrix, ROC and PR curves, reliability diagram.

Each function builds a :class:`matplotlib.figure.Figure` directly (no pyplot
state, so it is safe in servers and threads; the Agg canvas renders it) and,
when ``path`` is given, saves it as PNG. All figures are titled, label their
axes and say when something is undefined (``n/a``).
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from .classification import ClassCurves, ReliabilityBins

__all__ = ["save_figure", "plot_confusion_matrix", "plot_roc_curves", "plot_pr_curves", "plot_reliability"]

_DPI = 150


def _figure(width: float, height: float) -> "Figure":
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), facecolor="white", layout="constrained")


def save_figure(fig: "Figure", path: str | PathLike | None, dpi: int = _DPI) -> "Figure":
    """Save ``fig`` as PNG at ``path`` (parents created) when ``path`` is given; returns ``fig``."""
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi, format="png", facecolor="white")
    return fig


def _colors(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return [cmap(i % 10) for i in range(n)]


def plot_confusion_matrix(cm, classes: Sequence[str], *, title: str = "Confusion matrix",
                          path: str | PathLike | None = None) -> "Figure":
    """Heat map of the row-normalised confusion matrix; each cell shows the count and the row %.

    Rows are the reference, columns the prediction. A row with no reference
    item shows ``n/a`` for its percentages.
    """
    from .classification import _ratio

    cm = np.asarray(cm, dtype=np.int64)
    k = cm.shape[0]
    frac = _ratio(cm, cm.sum(axis=1, keepdims=True))
    size = max(4.5, 1.1 * k + 2.5)
    fig = _figure(size + 1.0, size)
    ax = fig.add_subplot()
    from matplotlib import colormaps

    cmap = colormaps["Blues"].with_extremes(bad="0.88")  # rows without reference items: grey
    image = ax.imshow(np.ma.masked_invalid(frac * 100), cmap=cmap, vmin=0, vmax=100)
    small = 9 if k <= 6 else 7
    for i in range(k):
        for j in range(k):
            pct = "n/a" if np.isnan(frac[i, j]) else f"{100 * frac[i, j]:.1f} %"
            dark = not np.isnan(frac[i, j]) and frac[i, j] > 0.55
            ax.text(j, i, f"{cm[i, j]:,}\n{pct}", ha="center", va="center", fontsize=small,
                    color="white" if dark else "black")
    ax.set_xticks(range(k), [str(c) for c in classes])
    ax.set_yticks(range(k), [f"{c}\n(n={n:,})" for c, n in zip(classes, cm.sum(axis=1))])
    ax.set_xlabel("Predicted class")
    ax.set_ylabel("Reference class")
    ax.set_title(f"{title}\n(counts and % of each reference row)")
    fig.colorbar(image, ax=ax, shrink=0.8, label="% of reference row")
    return save_figure(fig, path)


def _legend_missing(ax, name: str, color) -> None:
    ax.plot([], [], color=color, label=f"{name}: n/a (no positives or no negatives)")


def plot_roc_curves(curves: Mapping[str, "ClassCurves"], *, title: str = "ROC curves (one-vs-rest)",
                    path: str | PathLike | None = None) -> "Figure":
    """One-vs-rest ROC curve per class with its AUROC in the legend, plus the chance diagonal."""
    fig = _figure(6.0, 5.6)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], ls="--", color="0.6", lw=1, label="chance (0.500)")
    for (name, c), color in zip(curves.items(), _colors(len(curves))):
        if c.fpr.size == 0:
            _legend_missing(ax, name, color)
            continue
        ax.plot(c.fpr, c.tpr, color=color, lw=1.8, label=f"{name}: AUROC {c.auroc:.3f} (n+={c.n_pos:,})")
    ax.set(xlim=(-0.01, 1.01), ylim=(-0.01, 1.01), xlabel="False positive rate (1 - specificity)",
           ylabel="True positive rate (sensitivity)", title=title)
    ax.set_aspect("equal")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return save_figure(fig, path)


def plot_pr_curves(curves: Mapping[str, "ClassCurves"], *,
                   title: str = "Precision-recall curves (one-vs-rest)",
                   path: str | PathLike | None = None) -> "Figure":
    """One-vs-rest precision-recall curve per class with its AUPRC; dotted lines mark prevalences."""
    fig = _figure(6.0, 5.6)
    ax = fig.add_subplot()
    for (name, c), color in zip(curves.items(), _colors(len(curves))):
        if c.recall.size == 0:
            _legend_missing(ax, name, color)
            continue
        ax.plot(c.recall, c.precision, color=color, lw=1.8, drawstyle="steps-post",
                label=f"{name}: AUPRC {c.auprc:.3f} (prevalence {c.prevalence:.3f})")
        ax.axhline(c.prevalence, color=color, ls=":", lw=1)
    ax.set(xlim=(-0.01, 1.01), ylim=(-0.01, 1.01), xlabel="Recall (sensitivity)",
           ylabel="Precision (positive predictivity)", title=title)
    ax.set_aspect("equal")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return save_figure(fig, path)


def plot_reliability(bins: "ReliabilityBins", *, title: str = "Reliability diagram (top-label confidence)",
                     path: str | PathLike | None = None) -> "Figure":
    """Accuracy against mean confidence per bin (bars) over the diagonal, with bin counts below."""
    fig = _figure(6.0, 6.4)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    edges = np.asarray(bins.edges)
    width = np.diff(edges)
    centers = edges[:-1] + width / 2
    filled = np.asarray(bins.count) > 0
    acc = np.nan_to_num(np.asarray(bins.accuracy), nan=0.0)
    conf = np.nan_to_num(np.asarray(bins.confidence), nan=0.0)
    top.plot([0, 1], [0, 1], ls="--", color="0.5", lw=1, label="perfect calibration")
    top.bar(centers[filled], acc[filled], width=width[filled], color="tab:blue", edgecolor="white",
            alpha=0.85, label="accuracy in bin")
    top.bar(centers[filled], (conf - acc)[filled], bottom=acc[filled], width=width[filled], fill=False,
            edgecolor="tab:red", hatch="//", lw=0.8, label="gap to mean confidence")
    top.set(xlim=(0, 1), ylim=(0, 1), ylabel="Accuracy",
            title=f"{title}\nECE {100 * bins.ece:.2f} %, MCE {100 * bins.mce:.2f} %")
    top.grid(alpha=0.3)
    top.legend(loc="upper left", fontsize=8)
    bottom.bar(centers, np.asarray(bins.count), width=width, color="0.55", edgecolor="white")
    if np.asarray(bins.count).max(initial=0) > 0:
        bottom.set_yscale("log")
    bottom.set(xlabel="Confidence (highest predicted probability)", ylabel="Items")
    bottom.grid(alpha=0.3)
    return save_figure(fig, path)
