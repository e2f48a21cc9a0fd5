"""Gradient-boosted trees on each window's rhythm summary and its context, pooled like RAMBA's windows.

``gbm-windows`` is a :class:`~.estimator.WindowRhythmEstimator` whose window
classifier is a ``HistGradientBoostingClassifier`` instead of a network: each
10-s window is described by its rhythm summary
(:mod:`ecgscope.features.rhythm_summary`: RR and HRV statistics, ectopy,
delineated intervals, the median beat, atrial activity after QRST
cancellation, signal quality) and the summary of the ``hrv_context_s`` seconds
centred on it (the whole record for records up to that length). Windows are
labelled with their record's rhythm; the record's probabilities are the power
mean of its windows', as for RAMBA, so a short paroxysm in a long record is
not averaged away and :func:`ecgscope.classify_rhythm` gives per-window
probabilities with times.

The fitted trees are exported to arrays (:mod:`.trees`) held as buffers of a
small :class:`TreeNet`, so the checkpoint is ``model.safetensors`` +
``card.json`` like every rhythm model (no pickle), and inference needs no
scikit-learn. The window "logits" are the trees' log-probabilities, so the
temperature fitted on the validation records (10 % of the training records,
which the trees do not see) sharpens or softens them like a network's.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from ...errors import ConfigError, ModelError
from ...features.rhythm_summary import QRS_SHAPE_FEATURES, SUMMARY_VERSION
from . import register_rhythm_estimator
from .estimator import WindowRhythmEstimator
from .preprocess import WindowTable
from .trees import TREE_ARRAYS, export_trees, predict_trees

__all__ = ["GBMWindows", "TreeNet", "short_copies", "with_class_probability"]


class TreeNet(nn.Module):
    """Exported gradient-boosted trees as buffers: ``forward(hrv, hrv_mask) -> log-probabilities``.

    With ``af_class`` (the index of AF among the classes) the net also holds a second, binary set of trees
    (buffers ``af_*``) whose probability replaces that class's; the other classes share the rest in the
    proportions of the first set (:func:`with_class_probability`).
    """

    def __init__(self, in_leads: int = 1, n_classes: int = 4, n_features: int = 0,
                 af_class: int | None = None) -> None:
        super().__init__()
        self.in_leads, self.n_classes, self.n_features = int(in_leads), int(n_classes), int(n_features)
        self.af_class = None if af_class is None else int(af_class)
        self.model_kwargs = {"in_leads": self.in_leads, "n_classes": self.n_classes, "n_features": self.n_features}
        if self.af_class is not None:
            self.model_kwargs["af_class"] = self.af_class
        self._tree_names = TREE_ARRAYS + (() if self.af_class is None else tuple(f"af_{n}" for n in TREE_ARRAYS))
        for name in self._tree_names:
            self.register_buffer(name, torch.zeros(0))

    def set_trees(self, arrays: dict[str, np.ndarray], af_arrays: dict[str, np.ndarray] | None = None) -> TreeNet:
        """Hold the arrays of :func:`.trees.export_trees` (``af_arrays``: the binary AF trees, with ``af_class``)."""
        if (af_arrays is None) != (self.af_class is None):
            raise ModelError("the AF trees are given without af_class, or af_class without them",
                             fix="build TreeNet(af_class=...) for a net with AF trees")
        given = {**arrays, **{f"af_{k}": v for k, v in (af_arrays or {}).items()}}
        for name in self._tree_names:
            self._buffers[name] = torch.from_numpy(np.ascontiguousarray(given[name]))
        return self

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Take each tree buffer's shape and dtype from the incoming tensor (trees differ in size)."""
        for name in self._tree_names:
            value = state_dict.get(prefix + name)
            if isinstance(value, torch.Tensor):
                self._buffers[name] = torch.empty_like(value)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _trees(self, prefix: str = "") -> dict[str, np.ndarray]:
        return {name: self._buffers[prefix + name].numpy() for name in TREE_ARRAYS}

    def forward(self, hrv: torch.Tensor, hrv_mask: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
        """Per-window log-probabilities ``(n, n_classes)`` from the feature rows (masked values are missing)."""
        features = np.where(hrv_mask.numpy().astype(bool), hrv.numpy().astype(np.float64), np.nan)
        trees = self._trees()
        p = np.zeros((features.shape[0], self.n_classes))
        p[:, trees["classes"]] = predict_trees(trees, features)
        if self.af_class is not None:
            p = with_class_probability(p, predict_trees(self._trees("af_"), features)[:, 1], self.af_class)
        return torch.from_numpy(np.log(np.maximum(p, 1e-12))).float()


def with_class_probability(p: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    """``p (n, K)`` with column ``k`` set to ``q (n,)`` and the other columns sharing ``1 - q`` in their own
    proportions (equal shares where they are all zero)."""
    rest = np.delete(np.asarray(p, np.float64), k, 1)
    total = rest.sum(1, keepdims=True)
    rest = np.where(total > 0, rest / np.where(total > 0, total, 1.0), 1.0 / rest.shape[1])
    return np.insert(rest * (1.0 - np.asarray(q, np.float64))[:, None], k, q, axis=1)


def short_copies(rows: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, y)`` plus, for each row whose context half differs from its window half, a copy whose context
    half is the window half (the row of that window as a record of its own; NaN: unmeasured)."""
    width = rows.shape[1] // 2
    window, context = rows[:, :width], rows[:, width:]
    differs = ~((window == context) | (np.isnan(window) & np.isnan(context))).all(1)
    copies = np.concatenate([window[differs], window[differs]], 1)
    return np.concatenate([rows, copies]), np.concatenate([y, y[differs]])


@register_rhythm_estimator("gbm-windows")
class GBMWindows(WindowRhythmEstimator):
    """Gradient-boosted trees on window + context rhythm summaries, power-pooled per record.

    Options (besides :data:`.estimator.COMMON_DEFAULTS`, of which the network-training ones, ``epochs`` to
    ``class_weights``, are unused: the trees are unweighted):
    ``hrv_context_s`` (context seconds, 0: the window only), and the trees' ``max_iter``,
    ``learning_rate``, ``max_leaf_nodes``, ``min_samples_leaf``, ``l2_regularization``; ``early_stopping``
    keeps the first ``k`` iterations (``k`` a multiple of ``stop_every`` up to ``max_iter``) with the best
    challenge F1 on the validation records (ties: fewer trees). ``short_copies`` adds to the training rows a
    copy of every window whose context is longer than the window, with the window's own summary as its context:
    the row the window would give as a record of its own, so short records (a 10-s strip) are not outside
    what the trees saw. ``af_head`` (None: off) fits a second, binary set of trees for AF against the rest and
    takes P(AF) from it: ``"all"`` on every summary value, ``"rhythm"`` on all but the QRS-shape values
    (:data:`~ecgscope.features.rhythm_summary.QRS_SHAPE_FEATURES`), so AF is read from the rhythm and the
    atrial activity, whatever the shape of the ventricular complex.
    """

    extra_defaults: ClassVar[dict[str, Any]] = {"hrv_context_s": 60.0, "max_iter": 400, "learning_rate": 0.05,
                                                "max_leaf_nodes": 31, "min_samples_leaf": 20,
                                                "l2_regularization": 0.0, "early_stopping": False,
                                                "stop_every": 50, "short_copies": False, "af_head": None}

    def _hrv_spec(self) -> dict[str, Any]:
        return {"hrv": True, "hrv_summary": True, "hrv_context_s": float(self.options["hrv_context_s"] or 0.0)}

    def _af_columns(self) -> np.ndarray | None:
        """Columns of the feature row the AF trees read (None: no AF trees)."""
        head = self.options["af_head"]
        if head is None:
            return None
        if head not in ("all", "rhythm"):
            raise ConfigError(f"af_head={head!r} is not supported", fix="use null, 'all' or 'rhythm'")
        names = [n.split("@")[0] for n in self.spec.hrv_names]
        return np.array([i for i, n in enumerate(names) if head == "all" or n not in QRS_SHAPE_FEATURES], np.int64)

    def _build_net(self, n_leads: int, train: WindowTable) -> nn.Module:
        af_class = None if self._af_columns() is None else self.classes_.index("A")
        return TreeNet(n_leads, len(self.classes_), train.hrv.shape[1], af_class)

    def _rebuild_net(self, kwargs: dict) -> nn.Module:
        return TreeNet(**kwargs)

    def _inputs(self, net: nn.Module, table: WindowTable) -> dict[str, np.ndarray]:
        names = list(self.spec.hrv_names)
        card = (getattr(self, "card_", None) or {}).get("hrv", {"features": names, "summary_version": SUMMARY_VERSION})
        trained, version = card.get("features", names), card.get("summary_version", 1)
        if table.hrv.shape[1] != net.n_features or trained != names or version != SUMMARY_VERSION:
            raise ModelError(f"the trees were fitted on {net.n_features} summary values ({len(trained)} named in "
                             f"the card, summary version {version}) but this ecgscope computes "
                             f"{table.hrv.shape[1]} (version {SUMMARY_VERSION})",
                             fix="use the ecgscope version named in the card, or retrain the model")
        return {"hrv": np.nan_to_num(table.hrv.astype(np.float32)), "hrv_mask": table.hrv_mask}

    def _train_net(self, net, table, y_windows, config, validate, out_dir):
        from sklearn.ensemble import HistGradientBoostingClassifier

        o = self.options

        def fitted(rows: np.ndarray, y: np.ndarray):
            return HistGradientBoostingClassifier(
                max_iter=int(o["max_iter"]), learning_rate=float(o["learning_rate"]),
                max_leaf_nodes=int(o["max_leaf_nodes"]), min_samples_leaf=int(o["min_samples_leaf"]),
                l2_regularization=float(o["l2_regularization"]), early_stopping=False,
                random_state=int(o["seed"])).fit(rows, y)

        inputs = self._inputs(net, table)
        rows = np.where(inputs["hrv_mask"], inputs["hrv"], np.nan)
        if o["short_copies"] and self.spec.hrv_context_s > 0:
            rows, y_windows = short_copies(rows, np.asarray(y_windows))
        keep = np.flatnonzero(np.isfinite(rows).any(0))  # a feature never measured in training carries nothing
        model = fitted(rows[:, keep], y_windows)
        af_trees = None
        if net.af_class is not None:
            is_af = np.asarray(y_windows) == net.af_class
            if is_af.all() or not is_af.any():
                raise ConfigError("af_head needs training windows both of AF and of other rhythms",
                                  fix="train on records of both, or set af_head: null")
            af_keep = np.intersect1d(keep, self._af_columns())
            af_trees = export_trees(fitted(rows[:, af_keep], is_af))
            af_trees["feature"] = af_keep[af_trees["feature"]]

        def trees_after(n_iter: int | None) -> TreeNet:
            trees = export_trees(model, n_iter)
            trees["feature"] = keep[trees["feature"]]  # back to the columns of the full feature row
            return TreeNet(**net.model_kwargs).set_trees(trees, af_trees)

        n_iter, scores = None, {}
        if o["early_stopping"] and validate is not None:  # the iteration count with the best validation score
            step = max(1, int(o["stop_every"]))
            scores = {k: float(validate(trees_after(k))) for k in range(step, int(o["max_iter"]) + 1, step)}
            n_iter = max(scores, key=lambda k: (scores[k], -k))
        net = trees_after(n_iter)
        score = scores[n_iter] if n_iter else (None if validate is None else float(validate(net)))
        return net, {"val_challenge_f1": score, "trees": int(net.roots.numel()), "nodes": int(net.leaf.numel()),
                     "iterations": int(net.roots.shape[0]), "val_scores": scores,
                     "training_rows": int(rows.shape[0]),
                     "af_nodes": None if af_trees is None else int(af_trees["leaf"].size)}

    def card_extra(self) -> dict:
        extra = super().card_extra()
        context = self.spec.hrv_context_s
        extra["normalisation"]["features"] = "none (trees); unmeasured values are missing (NaN)"
        extra["hrv"] = {"features": list(self.spec.hrv_names), "summary": "ecgscope.features.rhythm_summary",
                        "summary_version": SUMMARY_VERSION,
                        "rpeaks": "ecgscope detector on the conditioned record at the model fs",
                        "per": f"window, then {context:g} s centred on it (inside the record)" if context else "window"}
        return extra
