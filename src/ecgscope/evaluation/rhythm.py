"""Record-level rhythm metrics: the CinC 2017 challenge score and zero-shot AF detection, with bootstrap CIs.

* :func:`rhythm_report` — four-class rhythm classification (``N A O ~``):
  the PhysioNet/CinC Challenge 2017 score ``F1 = (F1_N + F1_A + F1_O) / 3``
  (Clifford et al., "AF classification from a short single lead ECG
  recording: the PhysioNet/Computing in Cardiology Challenge 2017", CinC 44,
  2017), each F1 one-vs-rest against all four classes (a noisy record
  predicted ``N`` is an ``N`` false positive); per-class Se, +P, F1, AUROC,
  AUPRC; accuracy; top-label ECE (15 bins). Predictions are the arg-max of
  the probabilities.
* :func:`af_report` — binary AF detection at a fixed threshold (0.5 by
  default): F1, Se, Sp, +P, AUROC, AUPRC, with ``n`` and prevalence.

Every metric carries a 95 % percentile bootstrap interval over ``groups``
(records or patients; each item is its own group by default), computed with
:mod:`ecgscope.evaluation.bootstrap`. Metrics are fractions in [0, 1]; NaN
(``None`` in JSON) where undefined. The Markdown formatters print percentages.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .bootstrap import bootstrap_ci, check_bootstrap_args, confusion_bootstrap, group_index
from .classification import (
    LabelError,
    check_classes,
    check_proba,
    confusion_matrix,
    encode_labels,
    expected_calibration_error,
    macro_mean,
    metrics_from_confusion,
    roc_pr_curves,
)
from .report_io import format_ci, markdown_table

__all__ = ["CHALLENGE_CLASSES", "af_report", "af_table", "rhythm_class_table", "rhythm_report",
           "rhythm_table"]

#: Classes averaged by the CinC 2017 score.
CHALLENGE_CLASSES: tuple[str, ...] = ("N", "A", "O")
_ECE_BINS = 15


def _ci(point, boot=None, index=None) -> dict:
    """``{"value", "low", "high"}`` from a point and an optional BootstrapCI (``index`` picks a class)."""
    def pick(x):
        x = np.asarray(x, dtype=np.float64)
        return float(x if index is None else x[index])

    if boot is None:
        return {"value": pick(point), "low": float("nan"), "high": float("nan")}
    return {"value": pick(point), "low": pick(boot.low), "high": pick(boot.high)}


def _groups(groups, n: int) -> tuple[np.ndarray, int]:
    if groups is None:
        return np.arange(n, dtype=np.int64), n
    ids, inv = group_index(groups)
    if inv.size != n:
        raise LabelError(f"groups has {inv.size} entries for {n} items", fix="pass one group per item")
    return inv, ids.size


def _ranking(t: np.ndarray, p: np.ndarray, classes: tuple[str, ...]) -> np.ndarray:
    """``(2, K)``: AUROC and AUPRC per class."""
    curves = roc_pr_curves(t, p, classes, max_points=2)
    return np.array([[curves[c].auroc for c in classes], [curves[c].auprc for c in classes]])


def rhythm_report(labels, proba, classes: Sequence[str] = ("N", "A", "O", "~"), groups=None,
                  n_boot: int = 1000, seed: int = 0, ci: float = 0.95) -> dict:
    """Challenge F1, per-class Se/+P/F1/AUROC/AUPRC, accuracy, ECE and confusion matrix, with bootstrap CIs.

    Args:
        labels: reference class per record (names or indices into ``classes``).
        proba: ``(n, K)`` probabilities, columns in ``classes`` order.
        classes: class names; the challenge score averages those of
            :data:`CHALLENGE_CLASSES` present in ``classes``.
        groups: resampling unit per record (patient); default each record.
        n_boot: bootstrap resamples (0: no intervals); seed, ci: RNG seed, coverage.

    Returns a JSON-safe-able dict: ``challenge_f1``, ``macro_f1``,
    ``accuracy``, ``ece`` (each ``{"value", "low", "high"}``), ``per_class``
    (class -> ``se ppv f1 auroc auprc`` dicts and ``support``), ``confusion``
    (rows reference, columns prediction), ``n``, ``n_groups``, ``bootstrap``.
    """
    classes = check_classes(classes)
    n_boot, ci = check_bootstrap_args(n_boot, ci)
    t = encode_labels(labels, classes, name="labels")
    p = check_proba(proba, t.size, len(classes), unit=True)
    if t.size == 0:
        raise LabelError("no records to score", fix="pass at least one labelled record")
    pred = p.argmax(axis=1)
    inv, n_groups = _groups(groups, t.size)
    cms = confusion_matrix(t, pred, len(classes), groups=inv, n_groups=n_groups)
    challenge = [classes.index(c) for c in CHALLENGE_CLASSES if c in classes]
    subsets = {"all": list(range(len(classes)))} | ({"challenge": challenge} if challenge else {})
    point = metrics_from_confusion(cms.sum(axis=0))
    boot = confusion_bootstrap(cms, n_boot, seed, ci, f1_subsets=subsets) if n_boot else {}
    rank_point = _ranking(t, p, classes)
    rank_boot = (bootstrap_ci(lambda a, b: _ranking(a, b, classes), inv, t, p, n_boot=n_boot, seed=seed,
                              ci=ci) if n_boot else None)
    ece_point = expected_calibration_error(t, p, _ECE_BINS, classes)
    ece_boot = (bootstrap_ci(lambda a, b: expected_calibration_error(a, b, _ECE_BINS, classes), inv, t, p,
                             n_boot=n_boot, seed=seed, ci=ci) if n_boot else None)
    per_class = {}
    for k, c in enumerate(classes):
        row = {m: _ci(point[m], boot.get(m), k) for m in ("se", "ppv", "spec", "f1")}
        for j, m in enumerate(("auroc", "auprc")):
            row[m] = {"value": float(rank_point[j, k]),
                      "low": float(rank_boot.low[j, k]) if rank_boot else float("nan"),
                      "high": float(rank_boot.high[j, k]) if rank_boot else float("nan")}
        row["support"] = int(point["support"][k])
        per_class[c] = row
    out = {
        "classes": list(classes), "n": int(t.size), "n_groups": int(n_groups),
        "challenge_classes": [classes[k] for k in challenge],
        "challenge_f1": (_ci(macro_mean(point["f1"], challenge), boot.get("macro_f1:challenge"))
                         if challenge else _ci(float("nan"))),
        "macro_f1": _ci(macro_mean(point["f1"], subsets["all"]), boot.get("macro_f1:all")),
        "accuracy": _ci(point["accuracy"], boot.get("accuracy")),
        "ece": _ci(ece_point, ece_boot),
        "per_class": per_class,
        "confusion": cms.sum(axis=0).tolist(),
        "bootstrap": {"n_boot": n_boot, "seed": seed, "ci": ci,
                      "unit": "group" if groups is not None else "record"},
    }
    return out


def af_report(y_true, p_af, threshold: float = 0.5, groups=None, n_boot: int = 1000, seed: int = 0,
              ci: float = 0.95) -> dict:
    """Binary AF detection at ``threshold``: F1, Se, Sp, +P, AUROC, AUPRC (+ n, prevalence), with CIs.

    ``y_true`` is bool (True = AF), ``p_af`` the AF probability; an item is
    called AF when ``p_af >= threshold``. ``groups`` is the resampling unit
    (patient or record); default each item.
    """
    n_boot, ci = check_bootstrap_args(n_boot, ci)
    y = np.asarray(y_true)
    if y.ndim != 1 or y.dtype.kind not in "bi" or (y.dtype.kind == "i" and not np.isin(y, (0, 1)).all()):
        raise LabelError("y_true must be a 1-D boolean array (True = AF)", fix="pass labels == 'AF'")
    y = y.astype(np.int64)
    p = check_proba(np.asarray(p_af, dtype=np.float64).reshape(-1, 1), y.size, 1, name="p_af",
                    unit=True)[:, 0]
    if y.size == 0:
        raise LabelError("no items to score", fix="pass at least one item")
    proba = np.c_[1.0 - p, p]
    pred = (p >= float(threshold)).astype(np.int64)
    inv, n_groups = _groups(groups, y.size)
    cms = confusion_matrix(y, pred, 2, groups=inv, n_groups=n_groups)
    point = metrics_from_confusion(cms.sum(axis=0))
    boot = confusion_bootstrap(cms, n_boot, seed, ci) if n_boot else {}
    classes = ("non-AF", "AF")
    rank_point = _ranking(y, proba, classes)[:, 1]
    rank_boot = (bootstrap_ci(lambda a, b: _ranking(a, b, classes)[:, 1], inv, y, proba, n_boot=n_boot,
                              seed=seed, ci=ci) if n_boot else None)
    out = {
        "n": int(y.size), "n_groups": int(n_groups), "n_af": int(y.sum()), "prevalence": float(y.mean()),
        "threshold": float(threshold),
        "f1": _ci(point["f1"], boot.get("f1"), 1), "se": _ci(point["se"], boot.get("se"), 1),
        "sp": _ci(point["spec"], boot.get("spec"), 1), "ppv": _ci(point["ppv"], boot.get("ppv"), 1),
    }
    for j, m in enumerate(("auroc", "auprc")):
        out[m] = {"value": float(rank_point[j]),
                  "low": float(rank_boot.low[j]) if rank_boot else float("nan"),
                  "high": float(rank_boot.high[j]) if rank_boot else float("nan")}
    out["confusion"] = cms.sum(axis=0).tolist()
    out["bootstrap"] = {"n_boot": n_boot, "seed": seed, "ci": ci,
                        "unit": "group" if groups is not None else "item"}
    return out


# ------------------------------------------------------------------ Markdown
def _fmt(d: dict | None) -> str:
    d = d or {}
    return format_ci(d.get("value"), d.get("low"), d.get("high"))


def rhythm_table(reports: dict[str, dict]) -> str:
    """One row per model: challenge F1, F1 per class, AUROC of A, accuracy, ECE (percent, 95 % CI)."""
    classes = next(iter(reports.values()))["classes"] if reports else []
    header = ["model", "challenge F1", *(f"F1 {c}" for c in classes), "AUROC A", "accuracy", "ECE"]
    rows = []
    for name, r in reports.items():
        pc = r["per_class"]
        rows.append([name, _fmt(r["challenge_f1"]), *(_fmt(pc[c]["f1"]) for c in classes),
                     _fmt(pc.get("A", {}).get("auroc")), _fmt(r["accuracy"]), _fmt(r["ece"])])
    return markdown_table(header, rows)


def rhythm_class_table(report: dict) -> str:
    """Per-class Se, +P, F1, AUROC, AUPRC and support of one :func:`rhythm_report` (percent, 95 % CI)."""
    rows = [[c, *(_fmt(r[m]) for m in ("se", "ppv", "f1", "auroc", "auprc")), r["support"]]
            for c, r in report["per_class"].items()]
    return markdown_table(["class", "Se", "+P", "F1", "AUROC", "AUPRC", "n"], rows)


def af_table(reports: dict[str, dict], label: str = "target") -> str:
    """One row per entry (target database or model) of :func:`af_report` dicts (percent, 95 % CI)."""
    rows = [[name, r["n"], r["n_af"], _fmt(r["f1"]), _fmt(r["auroc"]), _fmt(r["auprc"]), _fmt(r["se"]),
             _fmt(r["sp"])] for name, r in reports.items()]
    return markdown_table([label, "n", "AF", "F1", "AUROC", "AUPRC", "Se", "Sp"], rows)
