"""Gradient-boosted trees as plain arrays: a fitted ``HistGradientBoostingClassifier`` saved and run without pickle.

:func:`export_trees` flattens every tree of a fitted scikit-learn
``HistGradientBoostingClassifier`` (numerical features; NaN routed as the
fitted model routes it) into a few arrays that safetensors can hold;
:func:`predict_trees` walks all trees for all rows at once with NumPy
(one step per tree level) and returns the same probabilities as
``model.predict_proba``. So a checkpoint needs no pickle and inference
needs no scikit-learn.
"""

from __future__ import annotations

import numpy as np

from ...errors import ModelError

__all__ = ["TREE_ARRAYS", "export_trees", "predict_trees"]

#: The arrays :func:`export_trees` returns (one entry per node, per tree, or per output).
TREE_ARRAYS = ("feature", "threshold", "nan_left", "left", "right", "leaf", "value", "roots", "baseline", "classes")


def export_trees(model, n_iter: int | None = None) -> dict[str, np.ndarray]:
    """The trees of a fitted ``HistGradientBoostingClassifier`` as :data:`TREE_ARRAYS`.

    Node indices are global (over all trees); ``roots`` is ``(n_iter, K)`` (``K``
    = 1 for two classes, else the number of classes), ``baseline`` ``(K,)``.
    ``n_iter`` keeps the first boosting iterations only (what the model predicted after them).
    """
    predictors = getattr(model, "_predictors", None)
    if predictors is None:
        raise ModelError("the model is not a fitted HistGradientBoostingClassifier", fix="fit it first")
    nodes, roots, offset = [], [], 0
    for iteration in predictors[:n_iter]:
        row = []
        for tree in iteration:
            n = tree.nodes
            if n["is_categorical"].any():
                raise ModelError("categorical splits cannot be exported", fix="use numerical features only")
            row.append(offset)
            nodes.append((n, offset))
            offset += len(n)
        roots.append(row)
    cat = np.concatenate([n for n, _ in nodes])
    shift = np.concatenate([np.full(len(n), o) for n, o in nodes])
    leaf = cat["is_leaf"].astype(bool)
    return {
        "feature": cat["feature_idx"].astype(np.int64),
        "threshold": cat["num_threshold"].astype(np.float64),
        "nan_left": cat["missing_go_to_left"].astype(np.uint8),
        "left": np.where(leaf, np.arange(cat.size), cat["left"].astype(np.int64) + shift),
        "right": np.where(leaf, np.arange(cat.size), cat["right"].astype(np.int64) + shift),
        "leaf": leaf.astype(np.uint8),
        "value": cat["value"].astype(np.float64),
        "roots": np.asarray(roots, np.int64),
        "baseline": np.asarray(model._baseline_prediction, np.float64).reshape(-1),
        "classes": np.asarray(model.classes_).astype(np.int64),
    }


def predict_trees(trees: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """``(n, n_classes)`` probabilities of rows ``x`` (NaN = missing) from :func:`export_trees` arrays."""
    x = np.asarray(x, np.float64)
    roots = np.asarray(trees["roots"])
    n_iter, k = roots.shape
    node = np.broadcast_to(roots.reshape(1, -1), (x.shape[0], roots.size)).copy()
    rows = np.arange(x.shape[0])[:, None]
    leaf = trees["leaf"].astype(bool)
    while not leaf[node].all():
        feature = trees["feature"][node]
        value = x[rows, feature]
        go_left = np.where(np.isnan(value), trees["nan_left"][node].astype(bool), value <= trees["threshold"][node])
        node = np.where(go_left, trees["left"][node], trees["right"][node])
    raw = trees["value"][node].reshape(x.shape[0], n_iter, k).sum(1) + trees["baseline"][None, :]
    if k == 1:
        p1 = 1.0 / (1.0 + np.exp(-raw[:, 0]))
        return np.stack([1.0 - p1, p1], 1)
    raw -= raw.max(1, keepdims=True)
    e = np.exp(raw)
    return e / e.sum(1, keepdims=True)
