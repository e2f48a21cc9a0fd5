"""Ensembles trained member by member: their config, their training and their cross-validation.

An ensemble config names member experiment configs and their weights::

    name: beats-ensemble
    members:
      transnet: {config: default.yaml, weight: 1.0}     # a path (relative to this file) or the config inline
      features: {config: feature_mlp.yaml, weight: 1.0}
    shape_rule: 0.999                                   # optional: the dominant-shape rule at this quantile

Each member is trained exactly as it is alone (its own input, standardisation,
validation patients and early stopping). :func:`train_ensemble` trains them on
all configured records and writes an ensemble folder
(:mod:`ecgscope.models.ensemble`). :func:`cross_validate_ensemble` runs every
member's patient-wise CV over the same split -- so each fold's members see
that fold's training patients only -- and averages their out-of-fold
probabilities with the fixed weights; each fold's premature-beat rule is the
first member's, fitted on that fold's training labels. With ``shape_rule``
(:mod:`.shape_rule`) the ensemble's labels then follow the dominant-shape
rule, fitted on the training records' labels and signals (per fold in CV). A
member whose CV folder already holds a finished run of the same config is reused.

Dotted overrides apply to every member (``train.seed=1``) or, prefixed with a
member's name, to that member only (``features.train.epochs=10``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import yaml

from ..errors import ConfigError, DatasetError
from .config import ExperimentConfig, apply_overrides, load_config, read_config_yaml

__all__ = ["EnsembleConfig", "load_experiment_config", "train_ensemble", "cross_validate_ensemble",
           "combine_cv_runs"]

_RESERVED = {f.name for f in dataclasses.fields(ExperimentConfig)} | {"members"}
#: Data settings every member must share: they define which beats are scored and how folds fall.
_SHARED_DATA = ("database", "records", "split", "split_version", "classes", "leads", "annotator")


@dataclass
class EnsembleConfig:
    """``name``, member experiment configs by name, their positive ``weights`` and ``shape_rule`` (the quantile
    of :func:`~.shape_rule.fit_shape_rule`, or None for no dominant-shape rule)."""

    name: str
    members: dict[str, ExperimentConfig]
    weights: dict[str, float]
    shape_rule: float | None = None

    def __post_init__(self) -> None:
        if not self.members:
            raise ConfigError("an ensemble config needs members", fix="list them under members:")
        bad = sorted(set(self.members) & _RESERVED)
        if bad:
            raise ConfigError(f"member names {bad} clash with config sections",
                              fix="rename the members (e.g. transnet, features)")
        for name, weight in self.weights.items():
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0:
                raise ConfigError(f"member {name!r}: weight {weight!r} must be a positive number",
                                  fix="use e.g. weight: 1.0")
        if self.shape_rule is not None:
            from .shape_rule import check_quantile

            self.shape_rule = check_quantile(self.shape_rule)
        first, *others = self.members.items()
        for name, cfg in others:
            for key in _SHARED_DATA:
                if getattr(cfg.data, key) != getattr(first[1].data, key):
                    raise ConfigError(f"members {first[0]!r} and {name!r} differ in data.{key}",
                                      fix="ensemble members must share database, records, split, classes "
                                          "and leads (inputs may differ)")

    @property
    def data(self):
        """The first member's data config (database, records, split and classes are shared)."""
        return next(iter(self.members.values())).data

    def to_dict(self) -> dict[str, Any]:
        """YAML-safe dict with every member's config inline."""
        out = {"name": self.name, "members": {name: {"weight": float(self.weights.get(name, 1.0)),
                                                     "config": cfg.to_dict()}
                                              for name, cfg in self.members.items()}}
        if self.shape_rule is not None:
            out["shape_rule"] = float(self.shape_rule)
        return out

    def to_yaml(self) -> str:
        """The config as YAML text (round-trips through :func:`load_experiment_config`)."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None, width=100)

    def save(self, path) -> Path:
        """Write :meth:`to_yaml` to ``path``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_yaml(), encoding="utf-8")
        return path


def _member_config(entry: Any, name: str, base: Path, overrides: Sequence[str]) -> ExperimentConfig:
    source = entry.get("config") if isinstance(entry, Mapping) else entry
    if isinstance(source, str):
        return load_config(base / source, overrides)
    if isinstance(source, Mapping):
        try:
            return apply_overrides(ExperimentConfig.from_dict(source), overrides)
        except ConfigError as exc:
            raise ConfigError(f"member {name!r}: {exc.problem}", fix=exc.fix) from None
    raise ConfigError(f"member {name!r} has no config", fix="write {config: path.yaml, weight: 1.0}")


def load_experiment_config(path, overrides: Sequence[str] = ()) -> ExperimentConfig | EnsembleConfig:
    """An experiment config, or an :class:`EnsembleConfig` when the YAML lists ``members``."""
    path = Path(path)
    data = read_config_yaml(path)
    if "members" not in data:
        return load_config(path, overrides)
    members = data["members"]
    if not isinstance(members, Mapping) or not members:
        raise ConfigError("members must map member names to {config, weight}", path=path,
                          fix="see configs/beats/ensemble.yaml")
    unknown = sorted(set(data) - {"name", "members", "shape_rule"})
    if unknown:
        raise ConfigError(f"unknown keys {unknown} in an ensemble config", path=path,
                          fix="an ensemble config holds name, members and shape_rule only")
    mine = {name: [] for name in members}
    shared = []
    for text in overrides:
        head, _, rest = text.partition(".")
        if head in mine and rest:
            mine[head].append(rest)
        else:
            shared.append(text)
    configs = {str(n): _member_config(e, str(n), path.parent, [*shared, *mine[n]]) for n, e in members.items()}
    weights = {str(n): e.get("weight", 1.0) if isinstance(e, Mapping) else 1.0 for n, e in members.items()}
    try:
        return EnsembleConfig(str(data.get("name", path.stem)), configs, weights, data.get("shape_rule"))
    except ConfigError as exc:
        raise ConfigError(exc.problem, path=path, fix=exc.fix) from None


# ===================================================================== training
def train_ensemble(config: EnsembleConfig, out_dir) -> list:
    """Train every member on all configured records into ``out_dir/<name>``, then write the ensemble card
    (and ``config.yaml``, ``split.json``, ``version.json``).

    Returns the members' :class:`~ecgscope.training.experiment.TrainOutcome` in order.
    """
    from ..models.ensemble import save_ensemble
    from .experiment import train_experiment, write_provenance

    out_dir = Path(out_dir)
    outcomes = [train_experiment(cfg, out_dir / name) for name, cfg in config.members.items()]
    write_provenance(out_dir, config, {"mode": "train-ensemble",
                                       "members": {n: _read_json(out_dir / n / "split.json") for n in config.members}})
    rule = None
    if config.shape_rule is not None:
        from .experiment import load_beats
        from .shape_rule import fit_shape_rule_on_beats

        rule = fit_shape_rule_on_beats(load_beats(config.data), config.data.first_lead_reader(), config.shape_rule)
    save_ensemble({name: out_dir / name for name in config.members}, out_dir, weights=config.weights,
                  training={"config": config.to_dict()}, shape_rule=None if rule is None else rule.to_card())
    return outcomes


# ===================================================================== cross-validation
def _finished(folder: Path, cfg: ExperimentConfig) -> bool:
    """Whether ``folder`` holds a completed CV run of exactly ``cfg``."""
    saved = folder / "config.yaml"
    return ((folder / "summary.json").is_file() and (folder / "predictions.csv").is_file()
            and saved.is_file() and saved.read_text(encoding="utf-8") == cfg.to_yaml())


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot read {path.name} ({exc})", path=path, fix="re-run that member's CV") from None


def combine_cv_runs(runs: Mapping[str, Path], weights: Mapping[str, float] | None = None
                    ) -> tuple[pd.DataFrame, list[dict]]:
    """Weighted mean of the out-of-fold probabilities of CV runs over the same split and folds.

    Beats are matched on record and sample (those every run scored). Each
    fold's premature-beat rule is the first run's. Returns the predictions
    (``fold``, ids, ``y_true``, ``y_pred``, ``y_model``, ``p_<class>``) and one
    record per fold.
    """
    from .cv import prediction_metrics
    from .premature import PrematureRule, apply_rules_by_fold, premature_features

    names = list(runs)
    weights = {n: float((weights or {}).get(n, 1.0)) for n in names}
    splits = {n: _read_json(Path(runs[n]) / "split.json") for n in names}
    first = splits[names[0]]
    for n in names[1:]:
        if splits[n].get("split") != first.get("split") or \
                [f["test_records"] for f in splits[n]["folds"]] != [f["test_records"] for f in first["folds"]]:
            raise DatasetError(f"CV runs {names[0]!r} and {n!r} used different splits or folds",
                               path=runs[n], fix="run every member over the same split and folds")
    frames = {n: pd.read_csv(Path(runs[n]) / "predictions.csv", dtype={"record_id": str, "patient_id": str})
              .set_index(["record_id", "sample"]) for n in names}
    keys = frames[names[0]].index
    for n in names[1:]:
        keys = keys.intersection(frames[n].index, sort=False)
    base = frames[names[0]].loc[keys].reset_index()
    classes = [c[2:] for c in base.columns if c.startswith("p_")]
    columns = [f"p_{c}" for c in classes]
    probs = sum(weights[n] * frames[n].loc[keys, columns].to_numpy(np.float64) for n in names)
    probs /= sum(weights.values())
    out = base[["fold", "record_id", "patient_id", "sample", "symbol", "y_true"]].copy()
    model_pred = np.asarray(classes, dtype=object)[probs.argmax(axis=1)]
    pm, irr = premature_features(base["sample"].to_numpy(), base["record_id"].to_numpy())
    docs = {k: {n: _read_json(Path(runs[n]) / "folds" / str(k) / "metrics.json") for n in names}
            for k in (int(f["fold"]) for f in first["folds"])}
    rules = {k: PrematureRule.from_card(d[names[0]].get("premature_rule")) for k, d in docs.items()}
    pred = apply_rules_by_fold(model_pred, out["fold"].to_numpy(), rules, pm, irr)
    out["y_pred"], out["y_model"] = pred.astype(str), model_pred.astype(str)
    for i, c in enumerate(columns):
        out[c] = probs[:, i]
    fold_docs = [{"fold": k, "test_patients": fold["test_patients"],
                  "premature_rule": None if rules[k] is None else rules[k].to_card(),
                  "test": prediction_metrics(out[out["fold"] == k], classes),
                  "members": {n: {"val_patients": docs[k][n].get("val_patients"),
                                  "best_epoch": docs[k][n].get("best_epoch"),
                                  "val_macro_f1": docs[k][n].get("validation", {}).get("macro_f1"),
                                  "test_macro_f1": docs[k][n].get("test", {}).get("macro_f1")} for n in names}}
                 for k, fold in zip(docs, first["folds"])]
    return out, fold_docs


def _fold_summary(fold: dict) -> dict:
    """A fold of the ensemble's summary, shaped as a single model's (member values joined by '/')."""
    members = fold["members"].values()
    return {"fold": fold["fold"], "test_patients": fold["test_patients"],
            "val_patients": sorted({p for m in members for p in (m["val_patients"] or [])}),
            "best_epoch": "/".join(str(m["best_epoch"]) for m in members), "val_macro_f1": None,
            "test_macro_f1": fold["test"].get("macro_f1"), "members": fold["members"]}


def _shape_rule_by_fold(predictions: pd.DataFrame, folds: list[dict], config: EnsembleConfig) -> None:
    """Each fold's dominant-shape rule, fitted on the other folds' rows (the fold's training records), applied
    to its labels in place; the fold records get the rule."""
    from .cv import prediction_metrics
    from .shape_rule import refit_shape_rule_by_fold

    if any(cfg.folds is not None for cfg in config.members.values()):
        raise DatasetError("the shape rule's CV fits each fold on the other folds' rows: run every fold",
                           fix="drop folds from the members' configs")
    labels, rules = refit_shape_rule_by_fold(predictions, config.data.first_lead_reader(), config.shape_rule)
    predictions["y_pred"] = labels.astype(str)
    classes = list(config.data.classes)
    for fold in folds:
        fold["shape_rule"] = rules[fold["fold"]].to_card()
        fold["test"] = prediction_metrics(predictions[predictions["fold"] == fold["fold"]], classes)


def cross_validate_ensemble(config: EnsembleConfig, out_dir, *, save_checkpoints: bool = True):
    """Every member's patient-wise CV into ``out_dir/members/<name>``, then the combined out-of-fold run.

    Returns a :class:`~ecgscope.training.cv.CVResult`; ``out_dir`` receives
    ``config.yaml``, ``split.json``, ``version.json``, ``predictions.csv`` and ``summary.json``.
    """
    from .cv import CVResult, cross_validate, prediction_metrics
    from .experiment import write_json, write_provenance

    out_dir = Path(out_dir)
    runs = {}
    for name, cfg in config.members.items():
        runs[name] = out_dir / "members" / name
        if not _finished(runs[name], cfg):
            cross_validate(cfg, runs[name], save_checkpoints=save_checkpoints)
    predictions, folds = combine_cv_runs(runs, config.weights)
    if config.shape_rule is not None:
        _shape_rule_by_fold(predictions, folds, config)
    member_split = _read_json(runs[next(iter(runs))] / "split.json")
    write_provenance(out_dir, config, {**member_split, "mode": "cv-ensemble", "members": list(runs)})
    classes = list(config.data.classes)
    oof = prediction_metrics(predictions, classes)
    member_summaries = {n: _read_json(runs[n] / "summary.json") for n in runs}
    summary = {"split": member_summaries[next(iter(runs))]["split"], "classes": classes, "out_of_fold": oof,
               "weights": dict(config.weights),
               "members": {n: s["out_of_fold"].get("macro_f1") for n, s in member_summaries.items()},
               "folds": [_fold_summary(f) for f in folds]}
    predictions.to_csv(out_dir / "predictions.csv", index=False, float_format="%.6g")
    write_json(out_dir / "summary.json", summary)
    return CVResult(predictions, folds, summary, out_dir)
