"""Classical rhythm baselines: RR-statistics boosting, HRV logistic regression, MiniRocket + logistic.

All three follow the :class:`~ecgscope.models.rhythm.RhythmEstimator` protocol,
predict the CinC 2017 classes (:data:`~ecgscope.datasets.rhythm.RHYTHM_CLASSES`)
and take a RhythmSet at any sampling rate, so a model fitted on CinC 2017 applies
unchanged (zero-shot) to MIT-BIH windows or LUDB records:

- ``"gbm-rr"``: scikit-learn ``HistGradientBoostingClassifier`` on the eight
  RR-interval statistics (:func:`~ecgscope.features.rr_statistics`) of the whole
  record (NaN where undefined, which the trees handle natively).
- ``"hrv-logistic"``: standardised ``LogisticRegression`` on the whole record's HRV
  vector and its mask (:func:`~ecgscope.features.hrv_vector`); values pass through
  a signed ``log1p`` first because spectral powers span orders of magnitude.
- ``"minirocket-logistic"``: :class:`~ecgscope.features.MiniRocket` fitted on the
  training records' windows only (``window_s`` windows at ``fs`` Hz, each
  standardised to zero mean and unit variance, after a 0.5-40 Hz band-pass), a
  record's features being the mean of its windows' features, then standardised
  ``LogisticRegression``. Mean pooling is exact for PPV features: a PPV is the
  proportion of positive values of a convolution, so the mean over equal-length
  windows is the proportion over all of them, i.e. the record's own PPV.

R peaks are detected at the data's own sampling rate with
:func:`ecgscope.signal.find_rpeaks`; the RR and HRV features are memoised per
signal (keyed by a hash of its samples), so cross-validation detects each record once.
Hyper-parameters are fixed a priori (nothing tuned on any test fold or target).
"""

from __future__ import annotations

import numpy as np

from ...datasets.rhythm import RHYTHM_CLASSES
from ...errors import ModelError
from . import register_rhythm_estimator
from ._memo import ArrayMemo

__all__ = ["GBMRR", "GBMSummary", "HRVLogistic", "MiniRocketLogistic", "record_features"]

_MEMO = ArrayMemo(200_000)


def record_features(data, kind: str, progress: bool = False) -> np.ndarray:
    """Per-record features of a RhythmSet: ``"rr"`` (8 RR statistics), ``"hrv"`` (HRV values + mask as 0/1)
    or ``"summary"`` (:func:`~ecgscope.features.rhythm_summary.rhythm_summary`, NaN where unmeasured).

    Memoised per signal, so repeated calls (cross-validation folds, zero-shot) detect R peaks once.
    """
    from ...features.hrv_stream import HRV_FEATURE_NAMES, RR_STAT_NAMES, hrv_vector, rr_statistics
    from ...features.rhythm_summary import SUMMARY_FEATURES, rhythm_summary
    from ...signal import find_rpeaks

    widths = {"rr": len(RR_STAT_NAMES), "hrv": 2 * len(HRV_FEATURE_NAMES), "summary": len(SUMMARY_FEATURES)}
    if kind not in widths:
        raise ModelError(f"unknown record feature kind {kind!r}", fix="use one of " + ", ".join(widths))
    width = widths[kind]
    out = np.empty((len(data), width), np.float32)
    items = range(len(data))
    if progress:
        from tqdm.auto import tqdm

        items = tqdm(items, desc=f"{kind} features", unit="record", leave=False)
    def compute(x: np.ndarray) -> np.ndarray:
        r = find_rpeaks(x, data.fs, nan_policy="mask")
        if kind == "rr":
            return rr_statistics(r, data.fs)
        if kind == "summary":
            return rhythm_summary(x, data.fs, r)
        v, m = hrv_vector(r, data.fs, duration_s=x.shape[-1] / data.fs)
        return np.r_[v, m.astype(np.float32)]

    for i in items:
        x = np.asarray(data.signals[i], dtype=np.float32)
        out[i] = _MEMO.get(x, (kind, float(data.fs)), lambda: compute(x))
    return out


def _fitted_check(est) -> None:
    if getattr(est, "model_", None) is None:
        raise ModelError(f"{type(est).__name__} is not fitted", fix="call fit(train) first")


class _SklearnRhythm:
    """Shared plumbing: fixed classes, label encoding, probabilities padded to every class."""

    classes_: tuple[str, ...] = RHYTHM_CLASSES
    model_ = None

    def _features(self, data, progress: bool) -> np.ndarray:
        raise NotImplementedError

    def _make_model(self):
        raise NotImplementedError

    def fit(self, train, *, progress: bool = False):
        """Fit on a labelled RhythmSet (labels among :data:`RHYTHM_CLASSES`)."""
        labels = np.asarray(train.labels, dtype=str)
        unknown = sorted(set(labels.tolist()) - set(self.classes_))
        if unknown:
            raise ModelError(f"training labels {unknown} are not among {self.classes_}",
                             fix="train on CinC 2017 style labels N, A, O, ~")
        if np.unique(labels).size < 2:
            raise ModelError("training data holds a single class", fix="train on at least two classes")
        x = self._features(train, progress)
        y = np.array([self.classes_.index(c) for c in labels])
        self.columns_ = np.flatnonzero(~np.isnan(x).all(0))  # a feature never measured in training carries nothing
        self.model_ = self._make_model().fit(x[:, self.columns_], y, **self._fit_kwargs(y))
        return self

    def _fit_kwargs(self, y: np.ndarray) -> dict:
        """Extra keywords of the model's ``fit`` (e.g. ``sample_weight``); none by default."""
        return {}

    def predict_proba(self, data) -> np.ndarray:
        """Record-level probabilities ``(n, 4)`` in :data:`RHYTHM_CLASSES` order."""
        _fitted_check(self)
        if len(data) == 0:
            return np.zeros((0, len(self.classes_)))
        p = self.model_.predict_proba(self._features(data, False)[:, self.columns_])
        out = np.zeros((p.shape[0], len(self.classes_)))
        out[:, self.model_.classes_.astype(int)] = p
        return out


@register_rhythm_estimator("gbm-rr")
class GBMRR(_SklearnRhythm):
    """Gradient-boosted trees on the eight RR-interval statistics of the whole record."""

    def __init__(self, max_iter: int = 200, learning_rate: float = 0.1, max_leaf_nodes: int = 31,
                 min_samples_leaf: int = 20, random_state: int = 0, class_weights: str = "none") -> None:
        self.max_iter, self.learning_rate = int(max_iter), float(learning_rate)
        self.max_leaf_nodes, self.min_samples_leaf = int(max_leaf_nodes), int(min_samples_leaf)
        self.random_state, self.class_weights = int(random_state), str(class_weights)
        if self.class_weights not in ("none", "sqrt", "balanced"):
            raise ModelError(f"class_weights={class_weights!r} is not supported", fix="use none, sqrt or balanced")

    def _fit_kwargs(self, y):
        """Per-record weights of their class (:func:`~ecgscope.training.losses.class_weights`: none, sqrt, balanced)."""
        from ...training.losses import class_weights

        if self.class_weights == "none":
            return {}
        return {"sample_weight": class_weights(y, len(self.classes_), self.class_weights)[y]}

    def _features(self, data, progress):
        return record_features(data, "rr", progress)

    def _make_model(self):
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(max_iter=self.max_iter, learning_rate=self.learning_rate,
                                              max_leaf_nodes=self.max_leaf_nodes,
                                              min_samples_leaf=self.min_samples_leaf, early_stopping=False,
                                              random_state=self.random_state)


@register_rhythm_estimator("gbm-summary")
class GBMSummary(GBMRR):
    """Gradient-boosted trees on the record's rhythm summary: rhythm, morphology, atrial activity, quality."""

    def __init__(self, max_iter: int = 400, learning_rate: float = 0.05, max_leaf_nodes: int = 31,
                 min_samples_leaf: int = 20, random_state: int = 0, class_weights: str = "none") -> None:
        super().__init__(max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, random_state, class_weights)

    def _features(self, data, progress):
        return record_features(data, "summary", progress)


def _signed_log1p(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


def _logistic(c: float, max_iter: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=max_iter))


@register_rhythm_estimator("hrv-logistic")
class HRVLogistic(_SklearnRhythm):
    """Standardised logistic regression on the record's HRV vector (signed log1p) and its mask."""

    def __init__(self, c: float = 1.0, max_iter: int = 5000) -> None:
        self.c, self.max_iter = float(c), int(max_iter)

    def _features(self, data, progress):
        x = record_features(data, "hrv", progress)
        half = x.shape[1] // 2
        return np.c_[_signed_log1p(x[:, :half]), x[:, half:]]

    def _make_model(self):
        return _logistic(self.c, self.max_iter)


@register_rhythm_estimator("minirocket-logistic")
class MiniRocketLogistic(_SklearnRhythm):
    """MiniRocket on z-scored windows (fitted on training windows only), mean-pooled per record, logistic."""

    def __init__(self, fs: float = 50.0, window_s: float = 10.0, num_features: int = 4032, c: float = 0.01,
                 max_iter: int = 2000, random_state: int = 0, batch_size: int = 512) -> None:
        self.fs, self.window_s, self.num_features = float(fs), float(window_s), int(num_features)
        self.c, self.max_iter, self.random_state = float(c), int(max_iter), int(random_state)
        self.batch_size = int(batch_size)
        self.rocket_ = None

    def _windows(self, data, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """``(windows (n_win, 1, L), record index per window)`` from :func:`.preprocess.window_table`."""
        from .preprocess import WindowSpec, window_table

        spec = WindowSpec(fs=self.fs, window_s=self.window_s, hop_s=self.window_s,
                          bandpass=(0.5, min(40.0, 0.4 * self.fs)), hrv=False)
        table = window_table([x[:1] for x in data.signals], data.fs, spec, progress=progress)
        return table.x, table.record

    def _features(self, data, progress):
        import torch

        from ...features.minirocket import MiniRocket

        windows, owner = self._windows(data, progress)
        if self.rocket_ is None:
            torch.manual_seed(self.random_state)
            rocket = MiniRocket(num_features=self.num_features, random_state=self.random_state)
            self.rocket_ = rocket.fit(windows)
        feats = np.concatenate([self.rocket_.transform(windows[i:i + self.batch_size])
                                for i in range(0, len(windows), self.batch_size)])
        counts = np.bincount(owner, minlength=len(data)).astype(np.float64)
        pooled = np.zeros((len(data), feats.shape[1]))
        np.add.at(pooled, owner, feats)
        return (pooled / counts[:, None]).astype(np.float32)

    def fit(self, train, *, progress: bool = False):
        """Fit MiniRocket on the training windows, then the logistic regression on pooled record features."""
        self.rocket_ = None  # refit the transform on this training set only
        return super().fit(train, progress=progress)

    def _make_model(self):
        return _logistic(self.c, self.max_iter)
