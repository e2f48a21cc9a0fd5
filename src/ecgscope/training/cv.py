"""Patient-wise k-fold cross-validation over a shipped split (``load_split("mitdb-ds1")``).

For each fold: the other folds' records are the training pool; a stratified
patient-wise validation split is drawn from them for early stopping; the
model is trained (normalisation and oversampling on the training patients
only) and predicts the held-out fold. Out-of-fold predictions with record,
patient and sample are collected. A :class:`LeakGuard` per fold makes it a
hard error for any test patient's beats to reach training, normalisation,
oversampling or validation; a patient whose records sit in different folds
is refused before anything is trained.

``out_dir`` receives ``config.yaml``, ``split.json`` (the split file plus each
fold's train / validation / test records and patients), ``version.json``,
``predictions.csv`` (one row per held-out beat with class probabilities),
``summary.json`` (per-fold and out-of-fold metrics) and ``folds/<k>/`` (log
and, with ``save_checkpoints``, the fold's checkpoint).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..datasets.beats import BeatSet
from ..datasets.splits import Split, load_split
from ..errors import DatasetError
from .config import ExperimentConfig
from .distributed import DistContext, cleanup_distributed, setup_distributed
from .experiment import ModelFactory, build_model, load_beats, make_card, write_json, write_provenance
from .leakage import DataLeakError, LeakGuard
from .premature import apply_rule_to_beats, fit_rule_on_beats
from .reproducibility import seed_everything
from .trainer import classification_metrics, fit, predict_proba
from .validation import validation_split

__all__ = ["CVResult", "cross_validate", "check_patient_folds", "fold_plan", "prediction_metrics"]


@dataclass
class CVResult:
    """Out-of-fold ``predictions``, per-fold records and metrics, the ``summary`` and the output folder."""

    predictions: pd.DataFrame
    folds: list[dict]
    summary: dict
    out_dir: Path


def check_patient_folds(beats: BeatSet, split: Split) -> None:
    """Raise :class:`DataLeakError` when one patient's records lie in different folds."""
    folds_of: dict[str, set[int]] = defaultdict(set)
    for rec, pid in zip(beats.record_id.tolist(), beats.patient_id.tolist()):
        folds_of[pid].add(split.fold_of(rec))
    for rec, a in split.assignments.items():
        folds_of[str(a["patient"])].add(int(a["fold"]))
    spread = {p: sorted(f) for p, f in folds_of.items() if len(f) > 1}
    if spread:
        raise DataLeakError(f"patients {spread} have records in more than one fold of split {split.name}")


def fold_plan(beats: BeatSet, split: Split, fold: int) -> tuple[list[str], list[str]]:
    """``(training records, test records)`` of ``fold`` among the records present in ``beats``."""
    present = set(beats.records)
    train, test = split.train_test(fold)
    return [r for r in train if r in present], [r for r in test if r in present]


def cross_validate(
    config: ExperimentConfig,
    out_dir,
    *,
    beats: BeatSet | None = None,
    split: Split | None = None,
    model_factory: ModelFactory | None = None,
    save_checkpoints: bool = True,
    dist: DistContext | None = None,
) -> CVResult:
    """Run patient-wise k-fold CV of ``config``; write and return the out-of-fold predictions."""
    from ..models.checkpoint import save_checkpoint

    own_dist = dist is None
    dist = setup_distributed(config.train.device) if own_dist else dist
    try:
        out_dir = Path(out_dir)
        seed_everything(config.train.seed)
        split = split or load_split(config.data.split, config.data.split_version)
        if beats is None:
            beats = load_beats(config.data, progress=config.train.progress and dist.is_main)
        unknown = sorted(set(beats.records) - set(split.records))
        if unknown:
            raise DatasetError(f"records {unknown} are not in split {split.name} v{split.version}",
                               fix=f"train on the split's records ({', '.join(split.records)}) "
                                   "or choose another split")
        check_patient_folds(beats, split)
        folds = list(config.folds) if config.folds is not None else list(range(split.k))
        bad = [f for f in folds if not 0 <= f < split.k]
        if bad:
            raise DatasetError(f"folds {bad} do not exist in split {split.name}", fix=f"use folds 0..{split.k - 1}")

        plans, skipped = [], []
        for k in folds:
            train_records, test_records = fold_plan(beats, split, k)
            if not test_records or not train_records:  # nothing to predict, or nothing to learn from
                skipped.append(k)
                continue
            pool = beats.by_records(train_records)
            fit_set, val_set, val_patients = validation_split(pool, config.train.val_patients,
                                                              config.train.seed + k)
            test = beats.by_records(test_records)
            test = test.subset(test.y >= 0)  # predictions are scored: labelled beats only
            rule = fit_rule_on_beats(pool) if config.train.premature_rule else None
            plans.append({"fold": k, "train_records": fit_set.records, "val_records": [] if val_set is None
                          else val_set.records, "test_records": test.records, "train_patients": fit_set.patients,
                          "val_patients": val_patients, "test_patients": test.patients,
                          "_sets": (fit_set, val_set, test, rule)})
        split_doc = {"mode": "cv", "split": split.to_dict(),
                     "folds": [{k: v for k, v in p.items() if k != "_sets"} for p in plans],
                     "skipped_folds": skipped, "excluded_records": beats.meta.get("excluded", [])}
        if dist.is_main:
            write_provenance(out_dir, config, split_doc)

        if not plans:
            raise DatasetError(f"no fold of split {split.name} has both training and test records among "
                               f"{beats.records}", fix="train on more of the split's records")
        frames, fold_docs = [], []
        for plan in plans:
            k = plan["fold"]
            fit_set, val_set, test, rule = plan.pop("_sets")
            guard = LeakGuard(set(test.patients) | split.patients(k), name=f"fold {k} test")
            fold_dir = out_dir / "folds" / str(k)
            model = build_model(config, beats, model_factory, seed=config.train.seed + k)
            result = fit(model, fit_set, val_set, config.train, out_dir=fold_dir, guard=guard, dist=dist)
            probs = predict_proba(result.model, test, result.normalisation, device=dist.device,
                                  temperature=result.temperature)
            model_pred = probs.argmax(axis=1)
            pred = model_pred if rule is None else apply_rule_to_beats(rule, test, model_pred)
            test_metrics = classification_metrics(test.y, pred, beats.classes)
            frames.append(prediction_rows(test, probs, pred, {"fold": k}, None if rule is None else model_pred))
            doc = {**plan, "best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
                   "stopped_early": result.stopped_early, "validation": result.metrics, "test": test_metrics,
                   "premature_rule": None if rule is None else rule.to_card(), "leak_check": guard.report()}
            fold_docs.append(doc)
            if dist.is_main:
                write_json(fold_dir / "metrics.json", doc)
                if save_checkpoints:
                    save_checkpoint(result.model, make_card(config, fit_set, result,
                                                            {"mode": "cv", "fold": k, **plan}, rule), fold_dir)

        predictions = pd.concat(frames, ignore_index=True)
        summary = {**_summary(predictions, fold_docs, beats.classes, split), "skipped_folds": skipped}
        if dist.is_main:
            predictions.to_csv(out_dir / "predictions.csv", index=False, float_format="%.6g")
            write_json(out_dir / "summary.json", summary)
        return CVResult(predictions, fold_docs, summary, out_dir)
    finally:
        if own_dist:
            cleanup_distributed(dist)


def prediction_rows(beats: BeatSet, probs: np.ndarray, pred: np.ndarray, extra: dict | None = None,
                    model_pred: np.ndarray | None = None) -> pd.DataFrame:
    """One row per beat: ``extra`` columns, ids, position, ``y_true``, ``y_pred``, ``y_model`` (the model's
    own label, when a rule changed ``y_pred``) and ``p_<class>`` columns."""
    classes = np.array(beats.classes)
    frame = pd.DataFrame({
        **(extra or {}), "record_id": beats.record_id, "patient_id": beats.patient_id, "sample": beats.sample,
        "symbol": beats.symbol, "y_true": classes[beats.y], "y_pred": classes[pred],
    })
    if model_pred is not None:
        frame["y_model"] = classes[model_pred]
    for i, c in enumerate(beats.classes):
        frame[f"p_{c}"] = probs[:, i]
    return frame


def prediction_metrics(predictions: pd.DataFrame, classes) -> dict:
    """:func:`classification_metrics` of a predictions table's ``y_true`` / ``y_pred`` class names."""
    index = {c: i for i, c in enumerate(classes)}
    y_true = predictions["y_true"].map(index).to_numpy(dtype=np.int64)
    y_pred = predictions["y_pred"].map(index).to_numpy(dtype=np.int64)
    return classification_metrics(y_true, y_pred, classes)


def _summary(predictions: pd.DataFrame, folds: list[dict], classes, split: Split) -> dict:
    oof = prediction_metrics(predictions, classes)
    return {
        "split": {"name": split.name, "version": split.version, "k": split.k},
        "classes": list(classes),
        "out_of_fold": oof,
        "folds": [{"fold": f["fold"], "test_patients": f["test_patients"], "val_patients": f["val_patients"],
                   "best_epoch": f["best_epoch"], "val_macro_f1": f["validation"].get("macro_f1"),
                   "test_macro_f1": f["test"].get("macro_f1")} for f in folds],
    }
