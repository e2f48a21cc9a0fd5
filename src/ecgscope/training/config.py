"""Experiment configuration: dataclasses <-> YAML, with typed dotted overrides.

An experiment is :class:`ExperimentConfig` = ``name`` + :class:`DataConfig`
(where the beats come from and how they are cut; a
:class:`~ecgscope.datasets.beats.BeatDatasetConfig` plus its source) +
:class:`ModelConfig` + :class:`TrainConfig`. YAML files in ``configs/beats/``
hold them; the command line changes single values::

    cfg = load_config("configs/beats/resnet1d.yaml", ["train.epochs=30", "model.variant=large"])

Values are parsed as YAML scalars or flow lists (``[0.3, 0.5]``) and then
converted to the field's declared type (``1e-3`` -> float, ``101`` -> ``"101"``
in a list of record names). An unknown key or an unconvertible value raises
:class:`~ecgscope.errors.ConfigError` naming the valid keys or the type.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml

from ..datasets.beats import BeatDatasetConfig, lead_reader
from ..datasets.labels import DS1, DS2
from ..errors import ConfigError

__all__ = [
    "DataConfig",
    "ModelConfig",
    "TrainConfig",
    "ExperimentConfig",
    "load_config",
    "read_config_yaml",
    "apply_overrides",
    "parse_override",
    "config_to_dict",
    "config_from_dict",
]


#: Names that stand for record lists in ``data.records``.
_RECORD_SETS = {"DS1": DS1, "DS2": DS2}


@dataclass(frozen=True)
class DataConfig(BeatDatasetConfig):
    """Beat dataset settings plus their source.

    Attributes (besides those of :class:`BeatDatasetConfig`):
        database: registry name (``"mitdb"``) or a folder of WFDB records.
        root: data root for registry names (default ``$ECGSCOPE_DATA`` or the user cache).
        records: records to train on (default DS1; ``DS1`` / ``DS2`` expand to the de Chazal lists).
        split: shipped patient-wise split used by cross-validation (``load_split``).
        split_version: its version.
        cache_dir: beat cache folder (default the user cache).
    """

    database: str = "mitdb"
    root: str | None = None
    records: tuple[str, ...] = DS1
    split: str = "mitdb-ds1"
    split_version: int = 1
    cache_dir: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        records = [self.records] if isinstance(self.records, str) else list(self.records)
        expanded: list[str] = []
        for r in records:
            expanded.extend(_RECORD_SETS.get(str(r).upper(), (str(r),)))
        object.__setattr__(self, "records", tuple(expanded))
        if not self.records:
            raise ConfigError("data.records is empty", fix="list the records to train on, e.g. the DS1 records")

    def first_lead_reader(self):
        """``read(record_id) -> (samples, fs)`` of the first configured lead of this source's records
        (:func:`ecgscope.datasets.beats.lead_reader`)."""
        return lead_reader(self.database, self.leads[0], self.root)

    def beat_config(self) -> BeatDatasetConfig:
        """The :class:`BeatDatasetConfig` part (what the beat cache is keyed on)."""
        names = {f.name for f in dataclasses.fields(BeatDatasetConfig)}
        return BeatDatasetConfig(**{n: getattr(self, n) for n in names})


@dataclass(frozen=True)
class ModelConfig:
    """Which model to build: a registry ``name``, its ``variant`` and extra constructor ``kwargs``."""

    name: str = "resnet1d"
    variant: str = "base"
    kwargs: dict[str, Any] = field(default_factory=dict)


_LOSSES = ("ce", "focal")
_WEIGHTS = ("none", "balanced", "sqrt")
_OVERSAMPLERS = ("none", "random", "smote", "adasyn")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation, balancing, early stopping and runtime settings.

    Attributes:
        epochs, batch_size: the budget; ``max_steps_per_epoch`` caps an epoch (smoke runs).
        lr, weight_decay: AdamW; weight decay applies to weights, not biases or norms.
        warmup_epochs, min_lr_ratio: linear warm-up then cosine decay to ``lr * min_lr_ratio``.
        grad_clip: max gradient norm (``None``: off).
        loss: ``"ce"`` (cross-entropy) or ``"focal"`` (Lin et al. 2017, ``focal_gamma``).
        class_weights: ``"none"``, ``"balanced"`` (n / (k n_c)) or ``"sqrt"`` of balanced.
        label_smoothing: for ``"ce"``.
        oversample: ``"none"``, ``"random"``, ``"smote"`` or ``"adasyn"`` (imbalanced-learn),
            applied to the training patients' beats only; minority classes are raised to
            ``oversample_ratio`` times the majority count; ``oversample_k`` neighbours.
        ema, ema_decay: exponential moving average of the weights (evaluated and saved).
        patience, min_delta: early stopping on validation macro-F1.
        calibration: ``"temperature"`` (one temperature on the logits, fitted on the validation
            beats after selection; :mod:`ecgscope.training.calibration`) or ``None``.
        premature_rule: fit :class:`ecgscope.training.premature.PrematureRule` on the training
            records' N and S beats and apply it to the model's labels (CV predictions, the card).
        val_patients: patients held out of the training records for validation (stratified).
        standardize: z-score beats (per channel) and RR features with training statistics.
        seed: seeds torch, numpy, random, the data loader and the splits.
        device: ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.
        amp, compile: mixed precision and ``torch.compile``, used only on CUDA.
        num_workers: data-loader workers.
        progress, tensorboard: progress bars; TensorBoard logs when the package is installed.
    """

    epochs: int = 30
    batch_size: int = 256
    max_steps_per_epoch: int | None = None
    lr: float = 1e-3
    weight_decay: float = 1e-2
    warmup_epochs: float = 1.0
    min_lr_ratio: float = 0.01
    grad_clip: float | None = 1.0
    loss: str = "ce"
    focal_gamma: float = 2.0
    class_weights: str = "balanced"
    label_smoothing: float = 0.0
    oversample: str = "none"
    oversample_ratio: float = 1.0
    oversample_k: int = 5
    ema: bool = True
    ema_decay: float = 0.999
    patience: int = 5
    min_delta: float = 1e-4
    calibration: str | None = "temperature"
    premature_rule: bool = False
    val_patients: int = 2
    standardize: bool = True
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    compile: bool = False
    num_workers: int = 0
    progress: bool = True
    tensorboard: bool = True

    def __post_init__(self) -> None:
        checks = [
            (self.epochs >= 1, "epochs must be >= 1", "e.g. train.epochs=30"),
            (self.batch_size >= 1, "batch_size must be >= 1", "e.g. train.batch_size=256"),
            (self.max_steps_per_epoch is None or self.max_steps_per_epoch >= 1,
             "max_steps_per_epoch must be >= 1 or null", "e.g. train.max_steps_per_epoch=null"),
            (self.lr > 0, "lr must be > 0", "e.g. train.lr=0.001"),
            (self.weight_decay >= 0, "weight_decay must be >= 0", "e.g. train.weight_decay=0.01"),
            (self.warmup_epochs >= 0, "warmup_epochs must be >= 0", "e.g. train.warmup_epochs=1"),
            (0 <= self.min_lr_ratio <= 1, "min_lr_ratio must be in [0, 1]", "e.g. train.min_lr_ratio=0.01"),
            (self.grad_clip is None or self.grad_clip > 0, "grad_clip must be > 0 or null",
             "e.g. train.grad_clip=1"),
            (self.loss in _LOSSES, f"loss={self.loss!r} is unknown", f"use one of {list(_LOSSES)}"),
            (self.class_weights in _WEIGHTS, f"class_weights={self.class_weights!r} is unknown",
             f"use one of {list(_WEIGHTS)}"),
            (0 <= self.label_smoothing < 1, "label_smoothing must be in [0, 1)", "e.g. train.label_smoothing=0.05"),
            (self.calibration in ("temperature", None), f"calibration={self.calibration!r} is unknown",
             "use train.calibration=temperature or null"),
            (self.oversample in _OVERSAMPLERS, f"oversample={self.oversample!r} is unknown",
             f"use one of {list(_OVERSAMPLERS)}"),
            (0 < self.oversample_ratio <= 1, "oversample_ratio must be in (0, 1]",
             "e.g. train.oversample_ratio=0.5"),
            (self.oversample_k >= 1, "oversample_k must be >= 1", "e.g. train.oversample_k=5"),
            (0 <= self.ema_decay < 1, "ema_decay must be in [0, 1)", "e.g. train.ema_decay=0.999"),
            (self.patience >= 1, "patience must be >= 1", "e.g. train.patience=5"),
            (self.val_patients >= 0, "val_patients must be >= 0", "e.g. train.val_patients=2"),
            (self.device in ("auto", "cpu", "cuda") or str(self.device).startswith("cuda:"),
             f"device={self.device!r} is unknown", "use auto, cpu, cuda or cuda:N"),
            (self.num_workers >= 0, "num_workers must be >= 0", "e.g. train.num_workers=0"),
        ]
        for ok, problem, fix in checks:
            if not ok:
                raise ConfigError(f"train.{problem}", fix=fix)


@dataclass(frozen=True)
class ExperimentConfig:
    """A whole experiment: ``name``, ``data``, ``model``, ``train`` and the CV ``folds`` to run (``None``: all)."""

    name: str = "beats"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    folds: tuple[int, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON/YAML-safe nested dict."""
        return config_to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ExperimentConfig":
        """Build from a nested dict, converting and checking every value."""
        return config_from_dict(cls, data)

    def to_yaml(self) -> str:
        """The config as YAML text (round-trips through :func:`load_config`)."""
        return yaml.dump(self.to_dict(), Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=100)

    def save(self, path) -> Path:
        """Write :meth:`to_yaml` to ``path``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_yaml(), encoding="utf-8")
        return path

    def override(self, overrides: Sequence[str]) -> "ExperimentConfig":
        """A copy with ``key=value`` overrides applied (see :func:`apply_overrides`)."""
        return apply_overrides(self, overrides)


class _Dumper(yaml.SafeDumper):
    """Block-style sections, flow-style lists (``window: [0.25, 0.45]``)."""


_Dumper.add_representer(list, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))


# ================================================================ conversion
def config_to_dict(obj) -> Any:
    """Nested plain dict/list form of a config dataclass."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: config_to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [config_to_dict(v) for v in obj]
    if isinstance(obj, Mapping):
        return {str(k): config_to_dict(v) for k, v in obj.items()}
    return obj


def _hints(cls) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _type_name(tp) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _convert(value, tp, key: str):
    """``value`` converted to type ``tp`` or :class:`ConfigError` naming ``key``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(value, arg, key)
            except ConfigError as exc:
                errors.append(exc)
        raise errors[0] if errors else ConfigError(f"{key} must not be null", fix="give a value")
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key} must be a mapping of {_type_name(tp)} settings, got {value!r}",
                              fix=f"write {key}: followed by indented keys")
        return config_from_dict(tp, value, prefix=f"{key}.")
    if origin in (list, tuple):
        if isinstance(value, (str, int, float)) and not isinstance(value, bool) and not (
                origin is tuple and len(args) == 2 and args[1] is not Ellipsis):
            value = [value]  # `leads=II` means [II]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key} must be a list, got {value!r}", fix=f"write {key}=[a, b]")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise ConfigError(f"{key} must have {len(args)} items, got {list(value)!r}",
                                  fix=f"write {key}=[{', '.join(_type_name(a) for a in args)}]")
            return tuple(_convert(v, a, f"{key}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
        item = args[0] if args else Any
        items = [_convert(v, item, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict or tp is dict:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key} must be a mapping, got {value!r}", fix=f"write {key}.name=value")
        return {str(k): v for k, v in value.items()}
    if tp is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "yes", "on", "1"):
            return True
        if text in ("false", "no", "off", "0"):
            return False
        raise ConfigError(f"{key} must be true or false, got {value!r}", fix=f"write {key}=true or {key}=false")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        try:
            if isinstance(value, float) and value.is_integer():
                return int(value)
            if isinstance(value, str):
                return int(value.strip())
        except ValueError:
            pass
        raise ConfigError(f"{key} must be an integer, got {value!r}", fix=f"write e.g. {key}=10")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        try:
            if isinstance(value, str):
                return float(value.strip())
        except ValueError:
            pass
        raise ConfigError(f"{key} must be a number, got {value!r}", fix=f"write e.g. {key}=0.5")
    if tp is str:
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise ConfigError(f"{key} must be text, got {value!r}", fix=f"write {key}=name")
    return value


def config_from_dict(cls, data: Mapping[str, Any] | None, prefix: str = ""):
    """Build config dataclass ``cls`` from ``data``; unknown keys and bad values raise :class:`ConfigError`."""
    data = {} if data is None else data
    if not isinstance(data, Mapping):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'} must be a mapping, got {type(data).__name__}",
                          fix="write key: value lines")
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = [k for k in data if k not in names]
    if unknown:
        raise ConfigError(f"unknown key {prefix}{unknown[0]}",
                          fix=f"valid keys{' under ' + prefix.rstrip('.') if prefix else ''}: {', '.join(names)}")
    kwargs = {k: _convert(v, hints[k], prefix + k) for k, v in data.items()}
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        if prefix and not exc.problem.startswith(prefix):
            raise ConfigError(f"{prefix}{exc.problem}", fix=exc.fix) from None
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: {exc}", fix="check the values") from None


# ================================================================= overrides
def parse_override(text: str) -> tuple[list[str], Any]:
    """``"train.lr=1e-3"`` -> ``(["train", "lr"], "1e-3" parsed as YAML)``."""
    if "=" not in text:
        raise ConfigError(f"override {text!r} has no '='", fix="write key=value, e.g. train.epochs=30")
    key, raw = text.split("=", 1)
    parts = [p.strip() for p in key.strip().split(".")]
    if not all(parts):
        raise ConfigError(f"override {text!r} has an empty key", fix="write key=value, e.g. train.epochs=30")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return parts, value


def apply_overrides(config: ExperimentConfig, overrides: Sequence[str]) -> ExperimentConfig:
    """A copy of ``config`` with dotted ``key=value`` overrides (``model.kwargs.depth=3`` adds a kwarg)."""
    data = config.to_dict()
    for text in overrides:
        parts, value = parse_override(text)
        node, cls, trail = data, type(config), []
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            is_free_dict = cls is dict
            if not is_free_dict:
                names = [f.name for f in dataclasses.fields(cls)]
                if part not in names:
                    where = ".".join(trail)
                    raise ConfigError(f"unknown key {'.'.join(parts[:depth + 1])} in override {text!r}",
                                      fix=f"valid keys{' under ' + where if where else ''}: {', '.join(names)}")
            if last:
                node[part] = value
                break
            if is_free_dict:
                node = node.setdefault(part, {})
                continue
            tp = _hints(cls)[part]
            if dataclasses.is_dataclass(tp):
                cls = tp
            elif tp is dict or typing.get_origin(tp) is dict:
                cls = dict
            else:
                raise ConfigError(f"{'.'.join(parts[:depth + 1])} is a value, not a section, in override {text!r}",
                                  fix=f"write {'.'.join(parts[:depth + 1])}=VALUE")
            node = node.setdefault(part, {})
            trail.append(part)
    return ExperimentConfig.from_dict(data)


# ===================================================================== files
def read_config_yaml(path) -> dict:
    """The mapping of a YAML config file; :class:`ConfigError` when missing, unreadable or invalid."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError("config file not found", path=path,
                          fix="pass a YAML file such as configs/beats/resnet1d.yaml")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(f"is not valid YAML ({first})", path=path, fix="fix the YAML syntax") from None
    except (OSError, UnicodeError) as exc:
        raise ConfigError(f"cannot be read ({exc})", path=path, fix="check the file") from None
    if not isinstance(data, dict):
        raise ConfigError(f"holds a {type(data).__name__}, not a mapping of sections", path=path,
                          fix="write the config as name/data/model/train sections")
    return data


def load_config(path, overrides: Sequence[str] = ()) -> ExperimentConfig:
    """Read a YAML experiment config (missing keys take their defaults) and apply overrides."""
    data = read_config_yaml(path)
    if "members" in data:
        raise ConfigError("is an ensemble config (it lists members)", path=Path(path),
                          fix="load it with ecgscope.training.ensemble.load_experiment_config")
    try:
        config = ExperimentConfig.from_dict(data)
    except ConfigError as exc:
        raise ConfigError(exc.problem, path=Path(path), fix=exc.fix) from None
    return apply_overrides(config, overrides) if overrides else config
