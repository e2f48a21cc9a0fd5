"""Classical rhythm baselines: registry, fit/predict_proba contract, determinism, any input fs."""

from __future__ import annotations

import numpy as np
import pytest

from ecgscope.datasets.rhythm import RHYTHM_CLASSES, RhythmSet
from ecgscope.errors import ModelError
from ecgscope.models.rhythm import create_rhythm_estimator, list_rhythm_estimators

NAMES = ("gbm-rr", "hrv-logistic", "minirocket-logistic", "gbm-summary")
SMALL = {"minirocket-logistic": {"num_features": 168, "window_s": 5.0}, "gbm-rr": {"min_samples_leaf": 2},
         "gbm-summary": {"min_samples_leaf": 2, "max_iter": 100}}


def _ecg(rr: np.ndarray, fs: float, seconds: float, rng, noise: float = 0.02) -> np.ndarray:
    t = np.arange(int(seconds * fs)) / fs
    x = noise * rng.standard_normal(t.size)
    for b in np.cumsum(rr):
        if b < seconds:
            x += np.exp(-((t - b) ** 2) / (2 * 0.012**2))
            x -= 0.2 * np.exp(-((t - b - 0.25) ** 2) / (2 * 0.04**2))  # T wave
    return x[None].astype(np.float32)


def _toy(n_per_class=6, fs=200.0, seed=0, prefix="T") -> RhythmSet:
    rng = np.random.default_rng(seed)
    sigs, labels = [], []
    for i in range(n_per_class):
        sec = float(rng.uniform(10, 16))
        sigs.append(_ecg(np.full(40, 0.85) + 0.01 * rng.standard_normal(40), fs, sec, rng))  # N: regular
        sigs.append(_ecg(rng.uniform(0.35, 1.1, 60), fs, sec, rng))  # A: irregular
        sigs.append(_ecg(np.full(60, 0.45) + 0.01 * rng.standard_normal(60), fs, sec, rng))  # O: fast
        sigs.append(_ecg(np.full(40, 0.8), fs, sec, rng, noise=1.0))  # ~: noisy
        labels += ["N", "A", "O", "~"]
    names = [f"{prefix}{i:03d}" for i in range(len(sigs))]
    return RhythmSet(sigs, fs, labels, names, names, "toy", ("ECG",))


def test_registered():
    assert set(NAMES) <= set(list_rhythm_estimators())


@pytest.mark.parametrize("name", NAMES)
def test_contract_and_determinism(name, one_torch_thread):
    train, test = _toy(), _toy(n_per_class=2, seed=1, prefix="S")
    est = create_rhythm_estimator(name, **SMALL.get(name, {}))
    assert tuple(est.classes_) == RHYTHM_CLASSES
    with pytest.raises(ModelError, match="not fitted"):
        est.predict_proba(test)
    p = est.fit(train).predict_proba(test)
    assert p.shape == (len(test), 4) and np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-6)
    again = create_rhythm_estimator(name, **SMALL.get(name, {})).fit(train).predict_proba(test)
    np.testing.assert_allclose(p, again, atol=1e-6)
    # learns something: held-out accuracy well above chance (0.25) on this easy toy set
    acc = (p.argmax(1) == np.array([RHYTHM_CLASSES.index(c) for c in test.labels])).mean()
    assert acc >= 0.5, acc
    # any sampling rate: the same records at another fs give probabilities of the same shape
    p300 = est.predict_proba(test.resample(300.0))
    assert p300.shape == p.shape and np.isfinite(p300).all()


@pytest.mark.parametrize("name", NAMES[:2])
def test_missing_class_in_training_gets_zero_probability(name):
    train = _toy()
    train = train.subset(train.labels != "~")
    p = create_rhythm_estimator(name).fit(train).predict_proba(_toy(2, seed=2, prefix="S"))
    assert np.all(p[:, 3] == 0) and np.allclose(p.sum(1), 1)


def test_bad_training_labels():
    data = _toy(2)
    bad = RhythmSet(data.signals, data.fs, ["AF"] * len(data), data.records, data.patients)
    with pytest.raises(ModelError, match="not among"):
        create_rhythm_estimator("gbm-rr").fit(bad)


def test_tree_class_weights_shift_probability_to_the_rare_class():
    train = _toy()
    keep = np.r_[np.flatnonzero(train.labels != "A"), np.flatnonzero(train.labels == "A")[:2]]  # A is rare
    train = train.subset(np.isin(np.arange(len(train)), keep))
    test = _toy(2, seed=3, prefix="S")
    plain = create_rhythm_estimator("gbm-summary", min_samples_leaf=2, max_iter=50).fit(train)
    weighted = create_rhythm_estimator("gbm-summary", min_samples_leaf=2, max_iter=50,
                                       class_weights="balanced").fit(train)
    a = RHYTHM_CLASSES.index("A")
    assert weighted.predict_proba(test)[:, a].mean() > plain.predict_proba(test)[:, a].mean()
    with pytest.raises(ModelError, match="class_weights"):
        create_rhythm_estimator("gbm-summary", class_weights="bogus")
