"""Beat-classification protocols: inter-patient (DS1 -> DS2), patient-wise CV in DS1, cross-database.

Each protocol produces out-of-sample predictions, scores them with
:func:`~ecgscope.evaluation.aami.aami_report` (AAMI EC57, 95 % bootstrap CIs
over **records**) and writes into one output folder: ``report.json``,
``report.md``, ``report.tex`` and the plots, ``predictions.csv``, and the
provenance every experiment carries (``config.yaml`` where there is one,
``split.json``, ``version.json``) plus ``protocol.json`` (protocol, inputs,
model hash, timings, notes).

- :func:`run_interpatient`: train on MIT-BIH DS1 (or take a frozen
  checkpoint trained without any DS2 record), test once on DS2 (de Chazal et
  al., IEEE TBME 51(7), 2004). Needs the full database; missing records raise
  :class:`~ecgscope.errors.DatasetError` before anything runs.
- :func:`run_cv`: :func:`ecgscope.training.cv.cross_validate` over the shipped
  patient-wise split (``mitdb-ds1``), report on the pooled out-of-fold beats.
- :func:`run_cross_db`: a frozen checkpoint applied to another annotated WFDB
  database at any sampling rate (beats rebuilt with
  :meth:`BeatDatasetConfig.from_card`, records resampled to the card's fs);
  no adaptation, no re-fitting of anything.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..datasets.labels import DS2
from ..errors import DatasetError, ModelError
from .aami import AAMIReport, aami_report

__all__ = [
    "PROTOCOLS", "ProtocolResult", "missing_records", "require_records", "report_from_predictions",
    "prediction_frame", "frozen_predictions", "run_cv", "run_interpatient", "run_cross_db",
]

#: Protocol names accepted by ``ecgscope benchmark beats --protocol``.
PROTOCOLS = ("interpatient", "cv", "cross-db")

_SAME_PATIENT_NOTE = ("MIT-BIH records 201 (DS1) and 202 (DS2) come from the same patient; the published "
                      "de Chazal split separates records, not patients, and is kept as published.")


@dataclass
class ProtocolResult:
    """Outcome of a protocol: the AAMI report, the scored predictions, the output folder and what ran."""

    protocol: str
    report: AAMIReport
    predictions: pd.DataFrame
    out_dir: Path
    info: dict = field(default_factory=dict)


# ============================================================== shared pieces
def missing_records(directory, records: Sequence[str], annotator: str = "atr") -> list[str]:
    """Records of ``records`` lacking their ``.hea``, ``.dat`` or ``.<annotator>`` file in ``directory``."""
    directory = Path(directory)
    return [r for r in records
            if not all((directory / f"{r}.{ext}").is_file() for ext in ("hea", "dat", annotator))]


def require_records(database: str, root, records: Sequence[str], annotator: str = "atr") -> Path:
    """The local folder of ``database``; :class:`DatasetError` listing every missing record otherwise."""
    from ..datasets.paths import database_dir

    directory = database_dir(database, root)
    missing = missing_records(directory, records, annotator) if directory.is_dir() else list(records)
    if missing:
        raise DatasetError(
            f"the inter-patient protocol needs the full {database} database, and {len(missing)} of its "
            f"{len(records)} records are missing ({', '.join(missing)})", path=directory,
            fix=f"run `ecgscope data download {database}` (or point --root / data.root at a full copy)")
    return directory


def prediction_frame(beats, probs: np.ndarray, extra: dict | None = None, card: dict | None = None,
                     read_signal=None) -> pd.DataFrame:
    """One row per scored beat: ids, position, reference and predicted class, ``p_<class>`` columns.

    With a ``card`` that carries a premature-beat rule or a dominant-shape rule, ``y_pred`` follows them (as
    :func:`~ecgscope.analysis.classify.classify_beats` does) and ``y_model`` keeps the model's own label; the
    shape rule reads each record's lead through ``read_signal(record_id) -> (samples, fs)``.
    """
    from ..training.cv import prediction_rows
    from ..training.premature import PrematureRule, apply_rule_to_beats
    from ..training.shape_rule import ShapeRule, record_matches

    pred = probs.argmax(axis=1) if len(probs) else np.zeros(0, np.int64)
    rule = PrematureRule.from_card((card or {}).get("premature_rule"))
    shape = ShapeRule.from_card((card or {}).get("shape_rule"))
    if rule is None and shape is None:
        return prediction_rows(beats, probs, pred, extra)
    frame = prediction_rows(beats, probs, pred if rule is None else apply_rule_to_beats(rule, beats, pred), extra,
                            pred)
    if shape is not None:
        if read_signal is None:
            raise ModelError("the model's card has a dominant-shape rule, which needs the records' signals",
                             fix="pass read_signal (ecgscope.datasets.beats.lead_reader)")
        (match,) = record_matches(frame, read_signal, "y_pred")
        frame["y_pred"] = shape.apply(frame["y_pred"], match).astype(str)
    return frame


def report_from_predictions(predictions: pd.DataFrame, classes: Sequence[str], n_boot: int = 1000,
                            seed: int = 0) -> AAMIReport:
    """AAMI report of a predictions table (``y_true``, ``y_pred``, ``record_id``, ``p_<class>``)."""
    if predictions.empty:
        raise DatasetError("there are no labelled beats to score",
                           fix="check the test records and their reference annotations")
    proba = predictions[[f"p_{c}" for c in classes]].to_numpy(dtype=np.float64)
    return aami_report(predictions["y_true"].to_numpy(), predictions["y_pred"].to_numpy(),
                       predictions["record_id"].astype(str).to_numpy(), proba=proba, classes=tuple(classes),
                       n_boot=n_boot, seed=seed)


def _finish(protocol: str, predictions: pd.DataFrame, classes, out_dir: Path, info: dict, n_boot: int,
            seed: int, plots: bool) -> ProtocolResult:
    """Score, write report + predictions + protocol.json, return the result."""
    from ..training.experiment import write_json

    t0 = time.perf_counter()
    report = report_from_predictions(predictions, classes, n_boot=n_boot, seed=seed)
    report.save(out_dir, plots=plots)
    predictions.to_csv(out_dir / "predictions.csv", index=False, float_format="%.6g")
    info = {"protocol": protocol, **info, "classes": list(classes), "n_beats": report.n_beats,
            "n_records": report.n_records, "bootstrap": {"n_boot": n_boot, "seed": seed, "unit": "record"},
            "seconds": {**info.get("seconds", {}), "report": round(time.perf_counter() - t0, 2)},
            "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    write_json(out_dir / "protocol.json", info)
    return ProtocolResult(protocol, report, predictions, out_dir, info)


def _write_version(out_dir: Path) -> None:
    from ..training.experiment import write_json
    from ..training.reproducibility import code_version, environment

    created = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    write_json(out_dir / "version.json", {**code_version(), "environment": environment(), "created": created})


def _predict_frozen(model, card: dict, beats) -> np.ndarray:
    """Class probabilities of ``beats`` with the card's standardisation (nothing re-fitted)."""
    from ..models.checkpoint import card_temperature
    from ..training.trainer import predict_proba

    return predict_proba(model, beats, card["normalisation"], temperature=card_temperature(card))


def frozen_predictions(model_dir, build) -> tuple[object, np.ndarray, dict, dict]:
    """Beats and class probabilities of a frozen checkpoint or ensemble; its card and beat config(s).

    ``build(beat_config)`` returns the :class:`~ecgscope.datasets.beats.BeatSet`
    to score for a checkpoint's :meth:`BeatDatasetConfig.from_card`. An ensemble
    builds each member's beats, keeps the beats every member scored (matched on
    record and sample) and averages the members' probabilities with its weights.
    """
    from ..datasets.beats import BeatDatasetConfig
    from ..models.checkpoint import load_checkpoint, read_card_json
    from ..models.ensemble import is_ensemble, member_folders, read_ensemble_card

    if not is_ensemble(read_card_json(model_dir)):
        net, card = load_checkpoint(model_dir)
        beat_config = BeatDatasetConfig.from_card(card)
        beats = build(beat_config)
        return beats, _predict_frozen(net, card, beats), card, beat_config.to_dict()
    card = read_ensemble_card(model_dir)
    parts = [(weight, folder.name, *frozen_predictions(folder, build))
             for folder, weight in member_folders(model_dir, card)]
    keys = [pd.MultiIndex.from_arrays([beats.record_id, beats.sample]) for _, _, beats, *_ in parts]
    common = keys[0]
    for k in keys[1:]:
        common = common.intersection(k, sort=False)
    beats = parts[0][2].subset(keys[0].isin(common))
    total = np.zeros((len(beats.y), len(card["classes"])), np.float64)
    for (weight, _, _, probs, *_), k in zip(parts, keys):
        rows = k.get_indexer(pd.MultiIndex.from_arrays([beats.record_id, beats.sample]))
        total += weight * probs[rows]
    total /= sum(weight for weight, *_ in parts)
    return beats, total.astype(np.float32), card, {name: config for _, name, _, _, _, config in parts}


def _frozen_card(model_dir) -> dict:
    """The validated card of a checkpoint or ensemble folder."""
    from ..models.checkpoint import read_card, read_card_json
    from ..models.ensemble import is_ensemble, read_ensemble_card

    return read_ensemble_card(model_dir) if is_ensemble(read_card_json(model_dir)) else read_card(model_dir)


# ======================================================================== CV
def run_cv(config, out_dir, *, n_boot: int = 1000, seed: int = 0, beats=None, split=None, model_factory=None,
           save_checkpoints: bool = True, plots: bool = True) -> ProtocolResult:
    """Patient-wise k-fold CV of ``config`` (an :class:`~ecgscope.training.ExperimentConfig`) in its split.

    An :class:`~ecgscope.training.ensemble.EnsembleConfig` runs every member's
    CV and scores the weighted mean of their out-of-fold probabilities.

    Writes everything :func:`~ecgscope.training.cv.cross_validate` writes
    (config, split with per-fold patients, version, fold logs and
    checkpoints, ``predictions.csv``, ``summary.json``), then the AAMI report
    of the pooled out-of-fold predictions with record-bootstrap CIs.
    """
    from ..training.cv import cross_validate
    from ..training.ensemble import EnsembleConfig, cross_validate_ensemble

    out_dir = Path(out_dir)
    t0 = time.perf_counter()
    if isinstance(config, EnsembleConfig):
        if beats is not None or split is not None or model_factory is not None:
            raise DatasetError("an ensemble's CV builds each member's beats and models from its own config",
                               fix="drop beats / split / model_factory")
        cv = cross_validate_ensemble(config, out_dir, save_checkpoints=save_checkpoints)
    else:
        cv = cross_validate(config, out_dir, beats=beats, split=split, model_factory=model_factory,
                            save_checkpoints=save_checkpoints)
    seconds = {"cross_validation": round(time.perf_counter() - t0, 1)}
    info = {"config": config.name, "split": cv.summary["split"], "folds": cv.summary["folds"],
            "skipped_folds": cv.summary.get("skipped_folds", []),
            "records": sorted(set(cv.predictions["record_id"])),
            "seconds": seconds}
    return _finish("cv", cv.predictions, tuple(config.data.classes), out_dir, info, n_boot, seed, plots)


# ============================================================== inter-patient
def run_interpatient(config, out_dir, *, model=None, n_boot: int = 1000, seed: int = 0, test_records=DS2,
                     model_factory=None, plots: bool = True) -> ProtocolResult:
    """Train ``config`` on DS1 (or take checkpoint ``model``) and score it once on MIT-BIH DS2.

    The full database must be present under ``config.data.root`` (checked
    first). A training record list (or a checkpoint card) that contains a
    test record raises :class:`~ecgscope.training.leakage.DataLeakError`.
    """
    from ..datasets.beats import build_beat_dataset, lead_reader
    from ..models.ensemble import record_leads
    from ..models.checkpoint import card_hash, card_records
    from ..training.ensemble import EnsembleConfig, train_ensemble
    from ..training.experiment import train_experiment, write_json, write_provenance
    from ..training.leakage import DataLeakError

    data = config.data
    test_records = [str(r) for r in test_records]
    if data.database != "mitdb":
        raise DatasetError(f"the inter-patient protocol is defined on mitdb, not {data.database!r}",
                           fix="set data.database=mitdb, or use --protocol cross-db for other databases")
    train_records = list(data.records) if model is None else []
    leaked = sorted(set(train_records) & set(test_records))
    if leaked:
        raise DataLeakError(f"training records {leaked} are test records of the inter-patient protocol",
                            fix="train on DS1 only (data.records=DS1)")
    require_records("mitdb", data.root, sorted(set(train_records) | set(test_records)), data.annotator)
    out_dir = Path(out_dir)
    seconds: dict[str, float] = {}
    if model is None:
        t0 = time.perf_counter()
        if isinstance(config, EnsembleConfig):
            train_ensemble(config, out_dir / "model")
        else:
            train_experiment(config, out_dir / "model", model_factory=model_factory)
        seconds["training"] = round(time.perf_counter() - t0, 1)
        model_dir = out_dir / "model"
    else:
        model_dir = Path(model)
    leaked = sorted(set(card_records(_frozen_card(model_dir))) & set(test_records))
    if leaked:
        raise DataLeakError(f"checkpoint {model_dir} was trained on test records {leaked}", path=model_dir,
                            fix="evaluate a model trained on DS1 only")
    t0 = time.perf_counter()
    test, probs, card, beat_config = frozen_predictions(
        model_dir, lambda cfg: build_beat_dataset("mitdb", cfg, root=data.root, records=test_records,
                                                  cache_dir=data.cache_dir))
    seconds["testing"] = round(time.perf_counter() - t0, 1)
    split = {"mode": "interpatient", "train_records": card_records(card), "test_records": test.records,
             "excluded_test_records": test.meta.get("excluded", []),
             "val_patients": card.get("training", {}).get("split", {}).get("val_patients", [])}
    if model is None:
        write_provenance(out_dir, config, split)
    else:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_json(out_dir / "split.json", split)
        _write_version(out_dir)
    info = {"model": str(model_dir), "model_hash": card_hash(model_dir), "database": "mitdb",
            "root": None if data.root is None else str(data.root), "test_records": test.records,
            "beat_dataset": beat_config, "seconds": seconds, "notes": [_SAME_PATIENT_NOTE]}
    reader = lead_reader("mitdb", record_leads(card)[0], data.root)
    return _finish("interpatient", prediction_frame(test, probs, card=card, read_signal=reader),
                   tuple(card["classes"]), out_dir, info,
                   n_boot, seed, plots)


# ============================================================== cross-database
def run_cross_db(model, test, out_dir, *, records: Sequence[str] | None = None, lead: str | None = None,
                 annotator: str | None = None, n_boot: int = 1000, seed: int = 0, cache_dir=None,
                 cache: bool = True, plots: bool = True) -> ProtocolResult:
    """Score a frozen checkpoint on another annotated WFDB database, zero-shot.

    Args:
        model: checkpoint folder, or a shipped model name (``"default"``).
        test: a folder of WFDB records with beat annotations (any sampling rate),
            or a registry name with a local copy.
        records: subset of the test records (default all).
        lead: the test records' lead standing in for the card's lead (default
            the card's lead by canonical name, e.g. ``II`` finds ``MLII``).
        annotator: reference annotation extension (default the card's, ``atr``).
    """
    from ..datasets.beats import build_beat_dataset, lead_reader
    from ..models.ensemble import record_leads
    from ..models.checkpoint import card_hash, card_records
    from ..models.pretrained import resolve_model
    from ..training.experiment import write_json

    model_dir = resolve_model(model)
    changes = {}
    if lead is not None:
        changes["leads"] = (str(lead),)
    if annotator is not None:
        changes["annotator"] = str(annotator)

    def build(cfg):
        cfg = dataclasses.replace(cfg, **changes) if changes else cfg
        return build_beat_dataset(str(test), cfg, records=records, cache_dir=cache_dir, cache=cache)

    t0 = time.perf_counter()
    beats, probs, card, beat_config = frozen_predictions(model_dir, build)
    seconds = {"testing": round(time.perf_counter() - t0, 1)}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    shared = sorted(set(card_records(card)) & set(beats.records))
    notes = ["zero-shot: the checkpoint, its standardisation and its window are used as trained; "
             "records are resampled to the card's fs"]
    if shared:
        notes.append(f"record names {shared} also appear in the model's training data (check that the test "
                     "database is really another one)")
    split = {"mode": "cross-db", "train_records": card_records(card), "test": str(test),
             "test_records": beats.records, "excluded_test_records": beats.meta.get("excluded", [])}
    write_json(out_dir / "split.json", split)
    _write_version(out_dir)
    info = {"model": str(model_dir), "model_hash": card_hash(model_dir), "test": str(test),
            "model_fs": card.get("fs"), "beat_dataset": beat_config, "seconds": seconds, "notes": notes}
    reader = lead_reader(str(test), str(lead) if lead is not None else record_leads(card)[0])
    return _finish("cross-db", prediction_frame(beats, probs, card=card, read_signal=reader),
                   tuple(card["classes"]), out_dir, info,
                   n_boot, seed, plots)
