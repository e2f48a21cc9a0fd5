"""``WindowRhythmEstimator``: the shared fit/predict/save of the window-level rhythm networks.

A record-level rhythm estimator built on a window classifier: records are
resampled, band-passed and cut into fixed windows (:mod:`.preprocess`); a
network subclass (RAMBA, the ResNet1D baseline) classifies windows, trained
with every window labelled by its record's rhythm (:mod:`ecgscope.training.rhythm`);
window probabilities are pooled per record by the power mean
``(mean_w p^Q)^(1/Q)`` (``pooling="power"``, or ``"mean"``/``"max"``), renormalised
over classes for a softmax head so a record's probabilities sum to 1, left
per class (one-vs-rest) for a sigmoid head. With ``calibration="temperature"``
(the default) the window logits are divided by one temperature fitted after
training on the validation records' pooled probabilities
(:mod:`ecgscope.training.calibration`), so the probabilities mean what they say.

A subclass provides :meth:`_build_net` (building, and fitting anything the
network carries such as MiniRocket, on the training windows only),
:meth:`_inputs` (the per-window input arrays the network takes), and
``extra_defaults`` (its own options).
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from ...datasets.rhythm import RHYTHM_CLASSES
from ...errors import ConfigError, ModelError
from ...training.calibration import activate, fit_temperature
from ...training.rhythm import RhythmTrainConfig, split_validation, train_windows
from ..blocks.pooling import WINDOW_POOLING, pool_windows
from .preprocess import WindowSpec, WindowTable, window_table
from .windows import group_by_record

__all__ = ["COMMON_DEFAULTS", "WindowRhythmEstimator", "challenge_f1"]

#: Options every window estimator takes (plus :class:`RhythmTrainConfig`'s fields).
COMMON_DEFAULTS: dict[str, Any] = {
    "fs": 100.0, "window_s": 10.0, "hop_s": 10.0, "bandpass": (0.5, 40.0),
    "pooling": "power", "q": 3.0, "head": "softmax", "predict_batch": 256, "workers": 1, "calibration": "temperature",
    **RhythmTrainConfig().to_dict(),
}


def challenge_f1(y_true: np.ndarray, proba: np.ndarray, classes=RHYTHM_CLASSES) -> float:
    """CinC 2017 score: mean F1 of N, A, O (those present in ``y_true``) of the argmax of ``proba`` (integer ``y_true``)."""
    from ...evaluation.classification import mean_f1

    classes = tuple(classes)
    names = np.asarray(classes)
    present = set(names[np.asarray(y_true)].tolist())
    subset = [c for c in ("N", "A", "O") if c in present] or sorted(present)
    score = mean_f1(names[np.asarray(y_true)], names[np.asarray(proba).argmax(1)], classes, subset=subset)
    return float(np.nan_to_num(score, nan=0.0))


class WindowRhythmEstimator:
    """Record-level rhythm estimator over fixed windows; see the module docstring."""

    estimator_name: ClassVar[str] = ""  # set by @register_rhythm_estimator
    extra_defaults: ClassVar[dict[str, Any]] = {}
    classes_: tuple[str, ...] = RHYTHM_CLASSES

    def __init__(self, **options: Any) -> None:
        defaults = {**COMMON_DEFAULTS, **self.extra_defaults}
        unknown = sorted(set(options) - set(defaults))
        if unknown:
            raise ModelError(f"{self._name}: unknown option(s) {', '.join(unknown)}",
                             fix="use only: " + ", ".join(sorted(defaults)))
        self.options: dict[str, Any] = {**defaults, **options}
        if self.options["pooling"] not in WINDOW_POOLING:
            raise ConfigError(f"pooling={self.options['pooling']!r} is not supported",
                              fix=f"use one of {', '.join(WINDOW_POOLING)}")
        if self.options["head"] not in ("softmax", "sigmoid"):
            raise ConfigError(f"head={self.options['head']!r} is not supported", fix="use 'softmax' or 'sigmoid'")
        if not float(self.options["q"]) > 0:
            raise ConfigError(f"q={self.options['q']!r} must be positive", fix="e.g. q=3 (1 = mean)")
        if self.options["calibration"] not in ("temperature", None):
            raise ConfigError(f"calibration={self.options['calibration']!r} is not supported",
                              fix="use 'temperature' or null (none)")
        self.net_: nn.Module | None = None
        #: Divides the window logits (1.0 = uncalibrated); fitted by :meth:`fit`, read from the card on load.
        self.temperature_: float = 1.0
        self.leads_: tuple[str, ...] = ()
        self.fit_info_: dict[str, Any] = {}

    # -- hooks --------------------------------------------------------------------------
    def _hrv_spec(self) -> dict[str, Any]:
        """The HRV fields of :class:`~.preprocess.WindowSpec` (``hrv``, ``hrv_af``, ``hrv_context_s``,
        ``hrv_ectopy``) for this estimator's network; the default takes no HRV vectors."""
        return {"hrv": False}

    def _build_net(self, n_leads: int, train: WindowTable) -> nn.Module:
        """A new network; may fit parts of it on the training windows ``train`` (never on others)."""
        raise NotImplementedError

    def _rebuild_net(self, kwargs: dict) -> nn.Module:
        """The untrained network from the card's ``network`` keywords (weights are loaded after)."""
        raise NotImplementedError

    def _inputs(self, net: nn.Module, table: WindowTable) -> dict[str, np.ndarray]:
        """Per-window inputs of ``net`` (keyword -> array with one row per window)."""
        return {"x": table.x}

    # -- shared ---------------------------------------------------------------------------
    @property
    def _name(self) -> str:
        return self.estimator_name or type(self).__name__

    @property
    def spec(self) -> WindowSpec:
        """The windowing settings of this estimator."""
        o = self.options
        band = None if o["bandpass"] is None else tuple(o["bandpass"])
        return WindowSpec(float(o["fs"]), float(o["window_s"]), float(o["hop_s"]), band, **self._hrv_spec())

    def _encode(self, labels) -> np.ndarray:
        lookup = {c: i for i, c in enumerate(self.classes_)}
        bad = sorted({str(v) for v in labels} - set(lookup))
        if bad:
            raise ConfigError(f"{self._name}: labels {bad} are not rhythm classes {list(self.classes_)}",
                              fix="train on a RhythmSet labelled N, A, O, ~ (load_cinc2017)")
        return np.array([lookup[str(v)] for v in labels], dtype=np.int64)

    def fit(self, train, *, progress: bool = False, out_dir=None) -> WindowRhythmEstimator:
        """Train on the records of ``train`` (a RhythmSet); validation records come from ``train`` only."""
        t0 = time.perf_counter()
        if len(train) == 0:
            raise ConfigError("the training RhythmSet is empty", fix="pass the training records")
        o = self.options
        self.temperature_ = 1.0
        config = RhythmTrainConfig.from_options({**o, "progress": progress})
        y_rec = self._encode(train.labels)
        tr_idx, val_idx = split_validation(train.labels, train.patients, float(o["val_fraction"]), int(o["seed"]))
        table = window_table(train.signals, train.fs, self.spec, progress=progress, workers=int(o["workers"]))
        t_prep = time.perf_counter() - t0
        fit_table, val_table = table.select_records(tr_idx), table.select_records(val_idx)
        torch.manual_seed(int(o["seed"]))
        net = self._build_net(fit_table.x.shape[1], fit_table)
        val_inputs = self._inputs(net, val_table) if val_idx.size else None
        t_features = time.perf_counter() - t0 - t_prep

        def validate(model: nn.Module) -> float:
            return challenge_f1(y_rec[val_idx], self._record_proba(model, val_inputs, val_table), self.classes_)

        t_train = time.perf_counter()
        self.net_, train_info = self._train_net(net, fit_table, y_rec[tr_idx][fit_table.record], config,
                                                validate if val_inputs is not None else None, out_dir)
        t_train = time.perf_counter() - t_train
        if o["calibration"] == "temperature" and val_inputs is not None:
            self.temperature_ = fit_temperature(self._window_logits(self.net_, val_inputs).numpy(),
                                                y_rec[val_idx], head=o["head"],
                                                pool=lambda p: self._pool(p, val_table))
        self.leads_ = tuple(getattr(train, "leads", ()) or (f"lead{i}" for i in range(fit_table.x.shape[1])))
        self.fit_info_ = {
            "train_records": int(tr_idx.size), "val_records": int(val_idx.size),
            "train_windows": len(fit_table), "val_windows": len(val_table), **train_info,
            "temperature": self.temperature_,
            "seconds": {"preprocess": t_prep, "features": t_features, "train": t_train,
                        "total": time.perf_counter() - t0},
            "training_source": getattr(train, "source", ""),
        }
        return self

    def _train_net(self, net: nn.Module, table: WindowTable, y_windows: np.ndarray, config: RhythmTrainConfig,
                   validate, out_dir) -> tuple[nn.Module, dict[str, Any]]:
        """Train ``net`` on the windows of ``table`` (labels ``y_windows``); ``(trained net, fit summary)``.

        The default trains the network by gradient descent (:func:`~ecgscope.training.rhythm.train_windows`),
        with early stopping on ``validate`` (the validation records' challenge F1).
        """
        result = train_windows(net, self._inputs(net, table), y_windows, len(self.classes_), config,
                               head=self.options["head"], validate=validate, out_dir=out_dir)
        return result.model, {"best_epoch": result.best_epoch, "val_challenge_f1": result.best_score,
                              "epochs_run": len(result.history), "steps_per_epoch": result.steps_per_epoch,
                              "class_weights": result.class_weights, "history": result.history}

    def _check_fitted(self) -> nn.Module:
        if self.net_ is None:
            raise ModelError(f"{self._name} is not fitted", fix="call fit(train) or load_rhythm_estimator(folder)")
        return self.net_

    @torch.no_grad()
    def _window_logits(self, net: nn.Module, inputs: dict[str, np.ndarray]) -> torch.Tensor:
        """Window logits on the CPU, computed where ``net`` is (its first parameter's device; CPU without any)."""
        net.eval()
        device = next(net.parameters(), torch.zeros(0)).device
        n = len(next(iter(inputs.values())))
        bs = int(self.options["predict_batch"])
        out = [net(**{k: torch.from_numpy(np.ascontiguousarray(v[i:i + bs])).to(device)
                      for k, v in inputs.items()}).cpu()
               for i in range(0, n, bs)]
        return torch.cat(out) if out else torch.zeros(0, len(self.classes_))

    def _activate(self, logits: torch.Tensor) -> torch.Tensor:
        return activate(logits, self.options["head"], self.temperature_)

    def _record_proba(self, net: nn.Module, inputs: dict[str, np.ndarray], table: WindowTable) -> np.ndarray:
        p = self._activate(self._window_logits(net, inputs)).numpy()
        return self._pool(p, table)

    def _pool(self, window_proba: np.ndarray, table: WindowTable) -> np.ndarray:
        grouped, mask = group_by_record(window_proba, table.record, table.n_records)
        pooled = pool_windows(torch.from_numpy(grouped), self.options["pooling"], float(self.options["q"]),
                              torch.from_numpy(mask), renormalise=self.options["head"] == "softmax")
        return pooled.numpy().astype(np.float64)

    def _table(self, data, workers: int | None = None) -> WindowTable:
        net = self._check_fitted()
        if len(data) == 0:
            raise ConfigError("the RhythmSet is empty", fix="pass at least one record")
        workers = int(self.options.get("workers", 1) if workers is None else workers)
        table = window_table(data.signals, data.fs, self.spec, workers=workers)
        expected = getattr(net, "in_leads", table.x.shape[1])
        if table.x.shape[1] != expected:
            from ...errors import LeadCountError

            raise LeadCountError(f"records have {table.x.shape[1]} lead(s); the model takes {expected} "
                                 f"({', '.join(self.leads_)})", fix="pass the model's leads, in its order")
        return table

    def predict_windows(self, data, *, workers: int | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per record of ``data``: ``(starts_s (n_w,), window_proba (n_w, K))`` before pooling.

        Windows are ``window_s`` long every ``hop_s`` seconds (the last one ends at
        the record's end; a short record is one zero-padded window); columns follow
        ``classes_``. ``workers`` (default: the ``workers`` option) processes compute a long record's
        window features; the result is the same.
        """
        table = self._table(data, workers)
        p = self._activate(self._window_logits(self.net_, self._inputs(self.net_, table))).numpy()
        return [(table.starts_s[table.record == i], p[table.record == i]) for i in range(table.n_records)]

    def predict_proba(self, data) -> np.ndarray:
        """Record-level probabilities ``(n_records, K)`` of a RhythmSet, columns in ``classes_`` order."""
        table = self._table(data)
        return self._record_proba(self.net_, self._inputs(self.net_, table), table)

    def pool(self, windows: list, pooling: str | None = None, q: float | None = None) -> np.ndarray:
        """Record probabilities from :meth:`predict_windows` output, with this estimator's pooling or another.

        ``pool(est.predict_windows(data))`` equals ``predict_proba(data)``; ``pooling=``/``q=``
        re-pool the same window probabilities (e.g. to compare mean, max and power pooling).
        """
        table = WindowTable(np.zeros((0, 1, 1), np.float32), np.zeros((0, 0)), np.zeros((0, 0), bool),
                            np.concatenate([np.full(len(p), i) for i, (_, p) in enumerate(windows)]).astype(np.int64),
                            np.zeros(0), len(windows))
        probs = np.concatenate([p for _, p in windows])
        saved = dict(self.options)
        try:
            self.options["pooling"] = saved["pooling"] if pooling is None else pooling
            self.options["q"] = saved["q"] if q is None else q
            return self._pool(probs, table)
        finally:
            self.options.update(saved)

    def predict(self, data) -> np.ndarray:
        """Record-level labels (argmax of :meth:`predict_proba`)."""
        return np.asarray(self.classes_)[self.predict_proba(data).argmax(1)]

    def save(self, folder, *, training: dict | None = None, metrics: dict | None = None):
        """Write ``model.safetensors`` + ``card.json`` to ``folder`` (see :func:`.checkpoint.save_rhythm_estimator`)."""
        from .checkpoint import save_rhythm_estimator

        return save_rhythm_estimator(self, folder, training=training, metrics=metrics)

    def card_extra(self) -> dict:
        """Estimator-specific card entries (``normalisation``, ``minirocket``, ``hrv``)."""
        return {"normalisation": {"window": "per-window per-lead z-score",
                                  "bandpass_hz": self.options["bandpass"]},
                "minirocket": None, "hrv": None}
