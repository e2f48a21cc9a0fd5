"""Generic multi-class classification metrics: confusion matrices, ROC/PR curves, calibration.

Everything here is task-agnostic (beats, rhythms, records) and works from a
confusion matrix ``C`` whose rows are the reference and columns the
prediction. Per class ``k`` (one-vs-rest):

* ``TP = C[k, k]``, ``FN`` = rest of row ``k``, ``FP`` = rest of column ``k``,
  ``TN`` = everything else;
* sensitivity (recall) ``Se = TP / (TP + FN)``, positive predictivity
  (precision) ``+P = TP / (TP + FP)``, false positive rate
  ``FPR = FP / (FP + TN)``, specificity ``Spec = TN / (TN + FP)``,
  ``F1 = 2 TP / (2 TP + FP + FN)``.

Values are fractions in ``[0, 1]``. A ratio whose denominator is zero is
**undefined** and returned as NaN (no warning, no crash); ``Se`` and ``F1``
of a class absent from the reference are undefined. Macro means over a
subset of classes are NaN when any member is undefined.

Ranking metrics are one-vs-rest ROC and precision-recall curves with the area
under the ROC curve (trapezoidal) and the average precision
``AP = sum_n (R_n - R_{n-1}) P_n`` (the step-wise area under the PR curve, as
in scikit-learn). Calibration is the top-label expected calibration error of
Naeini MP, Cooper GF, Hauskrecht M, "Obtaining well calibrated probabilities
using Bayesian binning", AAAI 2015, as used by Guo C, Pleiss G, Sun Y,
Weinberger KQ, "On calibration of modern neural networks", ICML 2017.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from ..errors import ECGScopeError

__all__ = [
    "EvaluationError",
    "LabelError",
    "COUNTS",
    "RATES",
    "check_classes",
    "encode_labels",
    "check_proba",
    "confusion_matrix",
    "metrics_from_confusion",
    "macro_mean",
    "MulticlassMetrics",
    "multiclass_metrics",
    "mean_f1",
    "ClassCurves",
    "roc_pr_curves",
    "ReliabilityBins",
    "reliability_bins",
    "expected_calibration_error",
]

#: Count fields of :func:`metrics_from_confusion` (per class).
COUNTS: tuple[str, ...] = ("tp", "fp", "fn", "tn")
#: Ratio fields of :func:`metrics_from_confusion` (per class, fractions).
RATES: tuple[str, ...] = ("se", "ppv", "fpr", "spec", "f1")


class EvaluationError(ECGScopeError, ValueError):
    """An input to an evaluation function is invalid (also a ``ValueError``)."""


class LabelError(EvaluationError):
    """Labels, classes or probabilities passed to a metric are inconsistent."""


# --------------------------------------------------------------------------- inputs
def check_classes(classes: Iterable) -> tuple[str, ...]:
    """``classes`` as a tuple of distinct, non-empty names (raises :class:`LabelError`)."""
    names = tuple(str(c) for c in classes)
    if not names:
        raise LabelError("classes is empty", fix="pass the class names, e.g. classes=('N', 'S', 'V', 'F')")
    if len(set(names)) != len(names) or "" in names:
        raise LabelError(f"classes {names} has duplicate or empty names", fix="pass each class name once")
    return names


def encode_labels(y, classes: Sequence[str], *, name: str = "labels") -> np.ndarray:
    """``y`` (class names or integer indices into ``classes``) as an int64 index array.

    Raises :class:`LabelError` naming ``name`` when a label is not one of
    ``classes`` (or an index is out of range), or when ``y`` is not 1-D.
    """
    classes = check_classes(classes)
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise LabelError(f"{name} has shape {arr.shape}, not one label per item",
                         fix="pass a 1-D sequence of class names or indices")
    if arr.size == 0:
        return np.zeros(0, np.int64)
    integral_floats = arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr))
    if arr.dtype.kind in "iu" or integral_floats:
        idx = arr.astype(np.int64)
        bad = (idx < 0) | (idx >= len(classes))
        if bad.any():
            raise LabelError(
                f"{name} holds {int(bad.sum())} index(es) outside 0..{len(classes) - 1} "
                f"(e.g. {idx[bad][0]}) for classes {classes}",
                fix="pass indices into classes=, or the class names themselves")
        return idx
    if arr.dtype.kind == "b" or arr.dtype.kind == "f":
        raise LabelError(f"{name} has dtype {arr.dtype}, not class names or integer indices",
                         fix="pass class names (e.g. 'N', 'V') or integer indices into classes=")
    unique, inverse = np.unique(arr.astype(str), return_inverse=True)
    lookup = {c: i for i, c in enumerate(classes)}
    mapped = np.array([lookup.get(u, -1) for u in unique.tolist()], dtype=np.int64)
    if (mapped < 0).any():
        unknown = unique[mapped < 0].tolist()
        raise LabelError(
            f"{name} holds label(s) {unknown[:5]}{' ...' if len(unknown) > 5 else ''} that are not "
            f"among classes {classes}",
            fix="drop those items before scoring (e.g. AAMI Q beats) or add the class to classes=")
    return mapped[inverse.reshape(-1)]


def check_proba(proba, n_items: int, n_classes: int, *, name: str = "proba",
                unit: bool = False) -> np.ndarray:
    """``proba`` as a finite float64 ``(n_items, n_classes)`` array (values in [0, 1] if ``unit``)."""
    p = np.asarray(proba, dtype=np.float64)
    if p.shape != (n_items, n_classes):
        raise LabelError(f"{name} has shape {p.shape}, expected ({n_items}, {n_classes})",
                         fix="pass one row per item and one column per class, in the order of classes=")
    if not np.all(np.isfinite(p)):
        raise LabelError(f"{name} holds NaN or infinite values", fix="pass finite scores")
    if unit and p.size and (p.min() < -1e-9 or p.max() > 1 + 1e-9):
        raise LabelError(f"{name} holds values outside [0, 1]",
                         fix="pass probabilities (e.g. a softmax), not logits")
    return p


def _ratio(num, den) -> np.ndarray:
    """``num / den`` as float64, NaN where ``den == 0`` (no warning)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    return np.divide(num, den, out=out, where=den > 0)


# --------------------------------------------------------------------------- confusion metrics
def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int,
                     groups: np.ndarray | None = None, n_groups: int | None = None) -> np.ndarray:
    """Counts ``C[t, p]`` of items with reference ``t`` predicted as ``p`` (int64 indices in).

    With ``groups`` (int64 group index per item, ``0..n_groups-1``) returns one
    matrix per group, ``(n_groups, K, K)``, in one ``bincount`` pass.
    """
    k = int(n_classes)
    flat = np.asarray(y_true, np.int64) * k + np.asarray(y_pred, np.int64)
    if groups is None:
        return np.bincount(flat, minlength=k * k).reshape(k, k)
    g = int(n_groups if n_groups is not None else (int(np.max(groups)) + 1 if len(groups) else 0))
    flat = np.asarray(groups, np.int64) * (k * k) + flat
    return np.bincount(flat, minlength=g * k * k).reshape(g, k, k)


def metrics_from_confusion(cm) -> dict[str, np.ndarray]:
    """Per-class counts and rates of confusion matrices shaped ``(..., K, K)``.

    Returns ``tp fp fn tn`` (int64, ``(..., K)``), ``se ppv fpr spec f1``
    (float64 fractions, ``(..., K)``, NaN where undefined), ``support``
    (reference count per class) and ``accuracy`` (``(...)``). Vectorised over
    the leading axes, so a stack of bootstrap or per-record matrices is
    scored at once.
    """
    cm = np.asarray(cm, dtype=np.int64)
    tp = np.diagonal(cm, axis1=-2, axis2=-1)
    support = cm.sum(axis=-1)
    predicted = cm.sum(axis=-2)
    total = cm.sum(axis=(-2, -1))
    fn, fp = support - tp, predicted - tp
    tn = total[..., None] - tp - fn - fp
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    f1[support == 0] = np.nan  # Se undefined -> harmonic mean undefined
    return {
        "tp": tp.copy(), "fp": fp, "fn": fn, "tn": tn, "support": support,
        "se": _ratio(tp, tp + fn), "ppv": _ratio(tp, tp + fp), "fpr": _ratio(fp, fp + tn),
        "spec": _ratio(tn, tn + fp), "f1": f1,
        "accuracy": _ratio(np.trace(cm, axis1=-2, axis2=-1), total),
    }


def macro_mean(values: np.ndarray, columns: Sequence[int]) -> np.ndarray:
    """Mean of ``values[..., columns]`` (NaN when any of them is undefined)."""
    return np.asarray(values, np.float64)[..., list(columns)].mean(axis=-1)


@dataclass
class MulticlassMetrics:
    """Confusion matrix and per-class metrics of one labelling (fractions, NaN = undefined).

    ``per_class`` maps ``tp fp fn tn support se ppv fpr spec f1`` to ``(K,)``
    arrays in the order of ``classes``; ``macro_f1`` is the mean F1 over all
    classes.
    """

    classes: tuple[str, ...]
    confusion: np.ndarray
    per_class: dict[str, np.ndarray]
    accuracy: float
    macro_f1: float

    def table(self):
        """Per-class metrics as a pandas DataFrame indexed by class."""
        import pandas as pd

        return pd.DataFrame(self.per_class, index=pd.Index(self.classes, name="class"))

    def to_dict(self) -> dict:
        """JSON-safe dict (NaN -> None)."""
        from .report_io import to_jsonable

        return to_jsonable({
            "classes": list(self.classes), "confusion": self.confusion,
            "per_class": {m: dict(zip(self.classes, v.tolist())) for m, v in self.per_class.items()},
            "accuracy": self.accuracy, "macro_f1": self.macro_f1,
        })


def multiclass_metrics(y_true, y_pred, classes: Sequence[str]) -> MulticlassMetrics:
    """Confusion matrix, per-class Se/+P/FPR/Spec/F1 with counts, accuracy and macro-F1.

    ``y_true`` and ``y_pred`` hold class names or indices into ``classes``.
    """
    classes = check_classes(classes)
    t = encode_labels(y_true, classes, name="y_true")
    p = encode_labels(y_pred, classes, name="y_pred")
    if t.size != p.size:
        raise LabelError(f"y_true has {t.size} labels but y_pred has {p.size}",
                         fix="pass one prediction per reference label")
    cm = confusion_matrix(t, p, len(classes))
    m = metrics_from_confusion(cm)
    per_class = {k: m[k] for k in (*COUNTS, "support", *RATES)}
    macro = float(macro_mean(m["f1"], range(len(classes))))
    return MulticlassMetrics(classes=classes, confusion=cm, per_class=per_class,
                             accuracy=float(m["accuracy"]), macro_f1=macro)


def mean_f1(y_true, y_pred, classes: Sequence[str], subset: Sequence[str] | None = None) -> float:
    """Mean of the per-class F1 over ``subset`` of ``classes`` (all by default).

    The PhysioNet/CinC Challenge 2017 score is
    ``mean_f1(y, yhat, ("N", "A", "O", "~"), subset=("N", "A", "O"))``:
    each ``F1 = 2 TP / (2 TP + FP + FN)`` is computed against all classes (a
    noisy record predicted as ``N`` is an ``N`` false positive). NaN when a
    subset class is absent from the reference.
    """
    classes = check_classes(classes)
    subset = classes if subset is None else tuple(str(s) for s in subset)
    missing = [s for s in subset if s not in classes]
    if missing or not subset:
        raise LabelError(f"subset {subset} names classes {missing} that are not in {classes}",
                         fix="pick the subset from classes=")
    f1 = multiclass_metrics(y_true, y_pred, classes).per_class["f1"]
    return float(macro_mean(f1, [classes.index(s) for s in subset]))


# --------------------------------------------------------------------------- ROC / PR curves
@dataclass
class ClassCurves:
    """One-vs-rest ROC and precision-recall curves of one class.

    ``auroc`` and ``auprc`` (average precision) are computed on the full
    curves; the stored points are thinned to at most ``max_points`` for
    plotting and reports. Undefined (NaN areas, empty curves) when the class
    has no positive or no negative item.
    """

    fpr: np.ndarray
    tpr: np.ndarray
    recall: np.ndarray
    precision: np.ndarray
    auroc: float
    auprc: float
    n_pos: int
    n_neg: int

    @property
    def prevalence(self) -> float:
        """Fraction of positives (the PR curve of a random classifier)."""
        n = self.n_pos + self.n_neg
        return self.n_pos / n if n else float("nan")

    def to_dict(self) -> dict:
        """JSON-safe dict."""
        from .report_io import to_jsonable

        return to_jsonable({k: getattr(self, k) for k in self.__dataclass_fields__})

    @classmethod
    def from_dict(cls, d: dict) -> "ClassCurves":
        """Inverse of :meth:`to_dict`."""
        arr = {k: np.asarray(d[k], np.float64) for k in ("fpr", "tpr", "recall", "precision")}
        return cls(**arr, auroc=_float(d["auroc"]), auprc=_float(d["auprc"]),
                   n_pos=int(d["n_pos"]), n_neg=int(d["n_neg"]))


def _float(x) -> float:
    return float("nan") if x is None else float(x)


def _thin(n: int, max_points: int) -> np.ndarray:
    """At most ``max_points`` evenly spread indices into ``range(n)``, ends included."""
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max_points).round().astype(np.int64))


def _binary_curves(pos: np.ndarray, score: np.ndarray, max_points: int) -> ClassCurves:
    n_pos = int(pos.sum())
    n_neg = int(pos.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        empty = np.zeros(0)
        return ClassCurves(empty, empty, empty, empty, float("nan"), float("nan"), n_pos, n_neg)
    order = np.argsort(-score, kind="stable")
    s, y = score[order], pos[order]
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]  # last item of each distinct threshold
    tps = np.cumsum(y)[last].astype(np.float64)
    fps = (last + 1) - tps
    tpr, fpr = np.r_[0.0, tps / n_pos], np.r_[0.0, fps / n_neg]
    precision, recall = tps / (tps + fps), tps / n_pos
    auroc = float(np.trapezoid(tpr, fpr))
    auprc = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
    # Thin the ROC curve: drop collinear points, then cap the count.
    dx, dy = np.diff(fpr), np.diff(tpr)
    keep = np.r_[True, np.abs(dx[:-1] * dy[1:] - dy[:-1] * dx[1:]) > 1e-12, True]
    fpr, tpr = fpr[keep], tpr[keep]
    ri = _thin(fpr.size, max_points)
    precision, recall = np.r_[1.0, precision], np.r_[0.0, recall]
    pi = _thin(recall.size, max_points)
    return ClassCurves(fpr[ri], tpr[ri], recall[pi], precision[pi], auroc, auprc, n_pos, n_neg)


def roc_pr_curves(y_true, proba, classes: Sequence[str] | None = None, *,
                  max_points: int = 1000) -> dict[str, ClassCurves]:
    """One-vs-rest ROC and PR curves with AUROC and AUPRC for every class.

    ``proba`` is ``(n, K)`` scores (probabilities or any monotone score), one
    column per class; ``y_true`` holds class names or indices. ``classes``
    defaults to ``"0" .. "K-1"`` (then ``y_true`` must be indices).
    Returns ``{class: ClassCurves}``.
    """
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 2:
        raise LabelError(f"proba has shape {p.shape}, expected (items, classes)",
                         fix="pass a 2-D score array")
    classes = check_classes(range(p.shape[1]) if classes is None else classes)
    t = encode_labels(y_true, classes, name="y_true")
    p = check_proba(p, t.size, len(classes))
    return {c: _binary_curves(t == k, p[:, k], max_points) for k, c in enumerate(classes)}


# --------------------------------------------------------------------------- calibration
@dataclass
class ReliabilityBins:
    """Top-label reliability diagram data: ``n_bins`` equal-width confidence bins on [0, 1].

    ``count`` items per bin, ``confidence`` mean top probability and
    ``accuracy`` fraction correct per bin (NaN for empty bins).
    """

    edges: np.ndarray
    count: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    ece: float
    mce: float = field(default=float("nan"))

    def to_dict(self) -> dict:
        """JSON-safe dict."""
        from .report_io import to_jsonable

        return to_jsonable({k: getattr(self, k) for k in self.__dataclass_fields__})

    @classmethod
    def from_dict(cls, d: dict) -> "ReliabilityBins":
        """Inverse of :meth:`to_dict`."""
        arr = {k: np.asarray([np.nan if v is None else v for v in d[k]], np.float64)
               for k in ("edges", "confidence", "accuracy")}
        return cls(**arr, count=np.asarray(d["count"], np.int64), ece=_float(d["ece"]), mce=_float(d["mce"]))


def reliability_bins(y_true, proba, n_bins: int = 15,
                     classes: Sequence[str] | None = None) -> ReliabilityBins:
    """Reliability diagram bins and ECE/MCE of the top-label confidence ``max(proba)``.

    Bin ``b`` holds confidences in ``((b-1)/n_bins, b/n_bins]`` (the first
    includes 0). ``ECE = sum_b (n_b / n) |acc_b - conf_b|``; ``MCE`` is the
    largest gap over non-empty bins.
    """
    if int(n_bins) < 1:
        raise LabelError(f"n_bins={n_bins} is not a positive integer", fix="pass n_bins >= 1 (15 is usual)")
    n_bins = int(n_bins)
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 2:
        raise LabelError(f"proba has shape {p.shape}, expected (items, classes)",
                         fix="pass a 2-D probability array")
    classes = check_classes(range(p.shape[1]) if classes is None else classes)
    t = encode_labels(y_true, classes, name="y_true")
    p = check_proba(p, t.size, len(classes), unit=True)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    if t.size == 0:
        nan = np.full(n_bins, np.nan)
        return ReliabilityBins(edges, np.zeros(n_bins, np.int64), nan, nan.copy(), float("nan"), float("nan"))
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == t).astype(np.float64)
    b = np.clip(np.ceil(conf * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    count = np.bincount(b, minlength=n_bins)
    conf_sum = np.bincount(b, weights=conf, minlength=n_bins)
    corr_sum = np.bincount(b, weights=correct, minlength=n_bins)
    gap = np.abs(corr_sum - conf_sum)
    ece = float(gap.sum() / t.size)
    mce = float(np.max(_ratio(gap, count)[count > 0]))
    return ReliabilityBins(edges, count, _ratio(conf_sum, count), _ratio(corr_sum, count), ece, mce)


def expected_calibration_error(y_true, proba, n_bins: int = 15,
                               classes: Sequence[str] | None = None) -> float:
    """Top-label expected calibration error (fraction) over ``n_bins`` equal-width bins."""
    return reliability_bins(y_true, proba, n_bins, classes).ece
