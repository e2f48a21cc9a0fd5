"""Rhythm protocols: patient-wise cross-validation and frozen zero-shot AF transfer of rhythm estimators.

Both take any :class:`~ecgscope.models.rhythm.RhythmEstimator` (``classes_``,
``fit(train)``, record-level ``predict_proba(data)``):

- :func:`cross_validate_rhythm`: one fresh estimator per fold of a shipped
  patient-wise split (``cinc2017`` v1), fitted on the other folds only; a
  :class:`~ecgscope.training.leakage.LeakGuard` asserts that no test patient
  (by the data's patients and by the split's) reaches ``fit``. The pooled
  out-of-fold predictions are scored with
  :func:`~ecgscope.evaluation.rhythm.rhythm_report` (bootstrap over patients).
- :func:`zero_shot`: a trained, frozen estimator applied to other databases
  (:func:`~ecgscope.datasets.rhythm.mitdb_af_windows`,
  :func:`~ecgscope.datasets.rhythm.ludb_af_records`); ``p_AF`` is its ``A``
  column, thresholded at 0.5; nothing is re-fitted or re-tuned. Scored with
  :func:`~ecgscope.evaluation.rhythm.af_report` (bootstrap over patients, so
  the windows of one MIT-BIH record move together).

With ``out_dir`` both write ``report.json``, ``report.md`` and ``predictions.csv``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DatasetError, ModelError
from .report_io import markdown_table, write_json
from .rhythm import af_report, af_table, rhythm_class_table, rhythm_report, rhythm_table

__all__ = ["RhythmCVResult", "check_proba_output", "cross_validate_rhythm", "fold_of_items", "zero_shot"]


@dataclass
class RhythmCVResult:
    """Out-of-fold predictions, their :func:`rhythm_report`, and per-fold sizes, times and leak checks."""

    predictions: pd.DataFrame
    report: dict
    folds: list[dict]
    classes: tuple[str, ...]
    info: dict = field(default_factory=dict)
    out_dir: Path | None = None

    def to_dict(self) -> dict:
        """JSON-safe summary (no predictions)."""
        return {"report": self.report, "folds": self.folds, "classes": list(self.classes), "info": self.info}

    def to_markdown(self, name: str = "model") -> str:
        """Summary table, per-class table and fold timings."""
        timing = markdown_table(["fold", "train", "test", "fit s", "predict s"],
                                [[f["fold"], f["n_train"], f["n_test"], f"{f['fit_s']:.1f}",
                                  f"{f['predict_s']:.1f}"] for f in self.folds])
        tables = [rhythm_table({name: self.report}), rhythm_class_table(self.report), timing]
        return "\n\n".join(tables) + "\n"


def _split(split):
    from ..datasets.splits import Split, load_split

    if isinstance(split, Split):
        return split
    if isinstance(split, str):
        name, _, version = split.partition(".v")
        return load_split(name, int(version) if version else 1)
    raise DatasetError(f"split {split!r} is neither a Split nor a split name", fix="pass e.g. 'cinc2017'")


def fold_of_items(data, split) -> tuple[np.ndarray, np.ndarray]:
    """``(fold, split_patient)`` per item; an item id ``"<record>:<start>"`` takes its record's fold."""
    split = _split(split)
    folds, patients, missing = [], [], []
    for rid in data.records.tolist():
        a = split.assignments.get(rid) or split.assignments.get(rid.split(":", 1)[0])
        if a is None:
            missing.append(rid)
            continue
        folds.append(int(a["fold"]))
        patients.append(str(a["patient"]))
    if missing:
        raise DatasetError(f"{len(missing)} item(s) are not in split {split.name} v{split.version} "
                           f"(e.g. {missing[0]!r})", fix=f"use the {split.database} records the split lists")
    return np.asarray(folds, np.int64), np.asarray(patients, dtype=str)


def check_proba_output(proba, n: int, classes: Sequence[str], who: str) -> np.ndarray:
    """``proba`` as float64 ``(n, K)``; :class:`ModelError` when the estimator broke its contract."""
    p = np.asarray(proba, dtype=np.float64)
    if p.shape != (n, len(classes)):
        raise ModelError(f"{who}.predict_proba returned shape {p.shape}, expected ({n}, {len(classes)})",
                         fix="return one row per record and one column per entry of classes_")
    if not np.all(np.isfinite(p)):
        raise ModelError(f"{who}.predict_proba returned NaN or infinite values",
                         fix="check the model's inputs")
    return p


def _name(est) -> str:
    return getattr(est, "estimator_name", type(est).__name__)


def cross_validate_rhythm(make_estimator: Callable, data, split="cinc2017", *,
                          folds: Sequence[int] | None = None, progress: bool = True, out_dir=None, n_boot: int = 1000, seed: int = 0,
                          name: str | None = None) -> RhythmCVResult:
    """Patient-wise k-fold CV of a rhythm estimator on ``data`` (a RhythmSet) with a shipped split.

    Args:
        make_estimator: builds a fresh, unfitted estimator (called once per fold).
        data: the items to cross-validate; each must be in ``split``.
        split: a :class:`~ecgscope.datasets.splits.Split` or a shipped split name
            (``"cinc2017"``, ``"cinc2017.v1"``).
        folds: test folds to run (default all); predictions cover only those folds.
        progress: passed to ``fit``.
        out_dir: write ``report.json``, ``report.md``, ``predictions.csv`` there.
        n_boot, seed: bootstrap of the report (over patients).
        name: model name for the report (default the estimator's registry name).
    """
    from ..training.leakage import LeakGuard

    split = _split(split)
    item_fold, split_patients = fold_of_items(data, split)
    run = sorted({int(f) for f in (range(split.k) if folds is None else folds)})
    frames, fold_info, classes, model_name = [], [], None, name
    for k in run:
        test_idx = np.flatnonzero(item_fold == k)
        train_idx = np.flatnonzero(item_fold != k)
        if test_idx.size == 0 or train_idx.size == 0:
            continue
        guard = LeakGuard(set(data.patients[test_idx]) | set(split_patients[test_idx]), name=f"fold {k} test")
        guard.check("fit (data patients)", data.patients[train_idx])
        guard.check("fit (split patients)", split_patients[train_idx])
        train, test = data.subset(train_idx), data.subset(test_idx)
        est = make_estimator()
        model_name = model_name or _name(est)
        t0 = time.perf_counter()
        est.fit(train, progress=progress)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        proba = est.predict_proba(test)
        predict_s = time.perf_counter() - t0
        est_classes = tuple(str(c) for c in est.classes_)
        if classes is not None and est_classes != classes:
            raise ModelError(f"fold {k} estimator has classes {est_classes}, earlier folds {classes}",
                             fix="keep classes_ fixed (e.g. RHYTHM_CLASSES) whatever the training labels")
        classes = est_classes
        proba = check_proba_output(proba, len(test), classes, model_name)
        frame = pd.DataFrame({"record": test.records, "patient": test.patients, "fold": k,
                              "label": test.labels, "pred": np.asarray(classes)[proba.argmax(axis=1)]})
        for j, c in enumerate(classes):
            frame[f"p_{c}"] = proba[:, j]
        frames.append(frame)
        fold_info.append({"fold": k, "n_train": int(train_idx.size), "n_test": int(test_idx.size),
                          "fit_s": round(fit_s, 3), "predict_s": round(predict_s, 3),
                          "leak_guard": {"test_patients": len(guard.test_patients),
                                         "checked": guard.checked}})
    if not frames:
        raise DatasetError("no fold had both training and test items", fix="check data and folds=")
    predictions = pd.concat(frames, ignore_index=True)
    proba = predictions[[f"p_{c}" for c in classes]].to_numpy()
    report = rhythm_report(predictions["label"].to_numpy(), proba, classes,
                           groups=predictions["patient"].to_numpy(), n_boot=n_boot, seed=seed)
    info = {"model": model_name, "split": {"name": split.name, "version": split.version, "k": split.k},
            "folds_run": run, "data": data.summary() | {"info": {}}, "protocol": "patient-wise k-fold CV",
            "fit_s_total": round(sum(f["fit_s"] for f in fold_info), 3),
            "predict_s_total": round(sum(f["predict_s"] for f in fold_info), 3)}
    result = RhythmCVResult(predictions, report, fold_info, classes, info)
    if out_dir is not None:
        result.out_dir = _write(out_dir, result.to_dict(), result.to_markdown(model_name), predictions)
    return result


def zero_shot(estimator, targets: dict, *, af_class: str = "A", threshold: float = 0.5, n_boot: int = 1000,
              seed: int = 0, out_dir=None, return_predictions: bool = False):
    """AF detection of a fitted, frozen estimator on each target RhythmSet (labels ``"AF"`` / ``"non-AF"``).

    ``p_AF`` is the ``af_class`` column of ``predict_proba``; items with
    ``p_AF >= threshold`` are called AF. Returns ``{target: af_report dict}``
    (each with ``predict_s``), plus the predictions table when
    ``return_predictions``. Nothing about the targets is fitted or tuned.
    """
    classes = tuple(str(c) for c in estimator.classes_)
    if af_class not in classes:
        raise ModelError(f"estimator classes {classes} have no {af_class!r} column",
                         fix="pass af_class= naming the AF class of the estimator")
    j = classes.index(af_class)
    reports, frames = {}, []
    for name, data in targets.items():
        bad = sorted(set(data.labels.tolist()) - {"AF", "non-AF"})
        if bad:
            raise DatasetError(f"target {name!r} has labels {bad[:5]}, not AF / non-AF",
                               fix="build targets with mitdb_af_windows / ludb_af_records")
        t0 = time.perf_counter()
        proba = check_proba_output(estimator.predict_proba(data), len(data), classes, _name(estimator))
        seconds = time.perf_counter() - t0
        p_af = proba[:, j]
        y = data.labels == "AF"
        rep = af_report(y, p_af, threshold=threshold, groups=data.patients, n_boot=n_boot, seed=seed)
        rep["predict_s"] = round(seconds, 3)
        rep["source"] = data.source
        reports[name] = rep
        frames.append(pd.DataFrame({"target": name, "record": data.records, "patient": data.patients,
                                    "start_s": data.starts_s, "label": data.labels, "p_AF": p_af,
                                    "pred": np.where(p_af >= threshold, "AF", "non-AF")}))
    predictions = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if out_dir is not None:
        info = {"model": _name(estimator), "af_class": af_class, "threshold": threshold,
                "protocol": "zero-shot"}
        _write(out_dir, {"targets": reports, "info": info}, af_table(reports) + "\n", predictions)
    return (reports, predictions) if return_predictions else reports


def _write(out_dir, report: dict, markdown: str, predictions: pd.DataFrame) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_json(report, out / "report.json")
    (out / "report.md").write_text(markdown, encoding="utf-8")
    predictions.to_csv(out / "predictions.csv", index=False, float_format="%.6g")
    return out
