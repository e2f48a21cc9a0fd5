"""One training run from an :class:`ExperimentConfig` to a self-describing checkpoint folder.

:func:`train_experiment` builds the beats of ``config.data`` (all configured
records, e.g. all of DS1), holds out ``train.val_patients`` patients of them
for early stopping, trains, and writes into ``out_dir``: ``model.safetensors``
+ ``card.json`` (the checkpoint), ``config.yaml``, ``split.json`` (records,
training and validation patients), ``version.json`` (ecgscope version, git
commit, environment), ``metrics.json`` and ``log.csv``. The helpers here
(:func:`load_beats`, :func:`build_model`, :func:`make_card`,
:func:`write_provenance`) are shared with cross-validation.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
from torch import nn

from ..datasets.beats import BeatSet, build_beat_dataset
from .config import DataConfig, ExperimentConfig
from .distributed import DistContext, cleanup_distributed, setup_distributed
from .premature import PrematureRule, fit_rule_on_beats
from .reproducibility import code_version, environment, seed_everything
from .trainer import FitResult, fit
from .validation import validation_split

__all__ = [
    "TrainOutcome", "ModelFactory", "load_beats", "model_arguments", "build_model", "channel_names", "make_card",
    "write_json", "write_provenance", "train_experiment",
]

#: ``factory(name, seed=..., **model_kwargs) -> nn.Module``; default :func:`ecgscope.models.create_model`.
ModelFactory = Callable[..., nn.Module]


@dataclass
class TrainOutcome:
    """Result of :func:`train_experiment`: the fit, the card and the output folder."""

    result: FitResult
    card: dict
    out_dir: Path
    val_patients: list[str]


def load_beats(data: DataConfig, progress: bool = False) -> BeatSet:
    """The (cached) beat set of a data config."""
    return build_beat_dataset(data.database, data.beat_config(), root=data.root, records=list(data.records),
                              cache_dir=data.cache_dir, progress=progress)


def model_arguments(config: ExperimentConfig, beats: BeatSet) -> dict[str, Any]:
    """Constructor keywords of the model for these beats (shape, classes, RR features, variant, extras)."""
    return {"in_leads": int(beats.x.shape[1]), "n_classes": len(beats.classes), "window": int(beats.x.shape[2]),
            "n_rr": len(beats.rr_names), "variant": config.model.variant, **config.model.kwargs}


def build_model(config: ExperimentConfig, beats: BeatSet, factory: ModelFactory | None = None,
                seed: int | None = None) -> nn.Module:
    """Build ``config.model`` for ``beats``, its weights initialised from ``seed`` (default ``train.seed``)."""
    if factory is None:
        from ..models import create_model as factory
    seed = config.train.seed if seed is None else seed
    return factory(config.model.name, seed=seed, **model_arguments(config, beats))


def channel_names(data: DataConfig) -> list[str]:
    """Names of the input channels: the leads, ``lead@before+after s`` per extra window, ``lead-template``,
    ``lead@beat-k`` .. ``lead@beat+k`` per neighbour beat (``context_beats``)."""
    names = list(data.leads)
    for before, after in data.extra_windows:
        names += [f"{lead}@{before:g}+{after:g}s" for lead in data.leads]
    if getattr(data, "template", False):
        names += [f"{lead}-template" for lead in data.leads]
    for offset in data.context_offsets() if getattr(data, "context_beats", 0) else ():
        names += [f"{lead}@beat{offset:+d}" for lead in data.leads]
    return names


def make_card(config: ExperimentConfig, beats: BeatSet, result: FitResult, split: dict,
              rule: PrematureRule | None = None) -> dict:
    """The checkpoint card: everything inference needs, plus data, split, config, metrics and versions."""
    data = config.data
    return {
        "classes": list(beats.classes),
        "fs": float(data.fs),
        "window": data.window_card(),
        "leads": channel_names(data),
        "normalisation": {"beat": data.normalize, "bandpass": None if data.bandpass is None else list(data.bandpass),
                          "standardize": config.train.standardize, **result.normalisation},
        "rr_features": list(beats.rr_names),
        "calibration": {"method": config.train.calibration, "temperature": result.temperature,
                        "fitted_on": "the validation patients' beats (training records only)"},
        "premature_rule": None if rule is None else rule.to_card(),
        "training": {
            "data": {"database": data.database, "records": beats.records, "patients": beats.patients,
                     "excluded_records": beats.meta.get("excluded", []), "beats": len(beats),
                     "class_counts": beats.class_counts()},
            "split": split,
            "config": config.to_dict(),
            "beat_dataset": data.beat_config().to_dict(),
            "code_version": code_version(),
            "best_epoch": result.best_epoch,
            "epochs_run": result.epochs_run,
            "stopped_early": result.stopped_early,
            "fit": result.info,
        },
        "metrics": {"validation": result.metrics},
    }


def write_json(path, data) -> Path:
    """Write ``data`` as indented JSON (NumPy values converted)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=_jsonable) + "\n", encoding="utf-8")
    return path


def _jsonable(value):
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    return str(value)


def write_provenance(out_dir, config: ExperimentConfig, split: dict) -> None:
    """``config.yaml``, ``split.json`` and ``version.json`` (code version + environment + time)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    config.save(out_dir / "config.yaml")
    write_json(out_dir / "split.json", split)
    created = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    write_json(out_dir / "version.json", {**code_version(), "environment": environment(), "created": created})


def train_experiment(config: ExperimentConfig, out_dir, *, beats: BeatSet | None = None,
                     model_factory: ModelFactory | None = None, dist: DistContext | None = None) -> TrainOutcome:
    """Train on all configured records with a patient-wise validation split; write the checkpoint folder."""
    from ..models.checkpoint import save_checkpoint

    own_dist = dist is None
    dist = setup_distributed(config.train.device) if own_dist else dist
    try:
        out_dir = Path(out_dir)
        seed_everything(config.train.seed)
        if beats is None:
            beats = load_beats(config.data, progress=config.train.progress and dist.is_main)
        fit_set, val_set, val_patients = validation_split(beats, config.train.val_patients, config.train.seed)
        split = {"mode": "train", "database": config.data.database, "records": beats.records,
                 "excluded_records": beats.meta.get("excluded", []), "train_patients": fit_set.patients,
                 "val_patients": val_patients, "val_seed": config.train.seed}
        if dist.is_main:
            write_provenance(out_dir, config, split)
        model = build_model(config, beats, model_factory)
        result = fit(model, fit_set, val_set, config.train, out_dir=out_dir, dist=dist)
        rule = fit_rule_on_beats(beats) if config.train.premature_rule else None
        card = make_card(config, beats, result, split, rule)
        if dist.is_main:
            save_checkpoint(result.model, card, out_dir)
            write_json(out_dir / "metrics.json", {"validation": result.metrics, "best_epoch": result.best_epoch,
                                                  "epochs_run": result.epochs_run,
                                                  "stopped_early": result.stopped_early})
            if dist.enabled:
                write_json(out_dir / "ddp.json", {"world_size": dist.world_size, "checksums": result.checksums})
        return TrainOutcome(result, card, out_dir, val_patients)
    finally:
        if own_dist:
            cleanup_distributed(dist)
