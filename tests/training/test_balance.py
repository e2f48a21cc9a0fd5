"""Oversampling and normalisation touch the training patients' beats only."""

from __future__ import annotations

import numpy as np
import pytest

from ecgscope.errors import ConfigError
from ecgscope.training.balance import oversample
from ecgscope.training.config import TrainConfig
from ecgscope.training.normalisation import apply_normalisation, fit_normalisation
from ecgscope.training.trainer import prepare_data
from ecgscope.training.validation import choose_validation_patients, validation_split


@pytest.mark.parametrize("method", ["random", "smote", "adasyn"])
def test_oversample_keeps_originals_and_balances(beats, method):
    x, rr, y = beats.x, beats.rr, beats.y.copy()
    if method == "adasyn":  # ADASYN needs classes that overlap (it weights by hard neighbours)
        y[::7] = (y[::7] + 1) % 3
    ox, orr, oy, origin = oversample(x, rr, y, method, ratio=1.0, k_neighbors=3, seed=1)
    n = len(y)
    np.testing.assert_array_equal(ox[:n], x)
    np.testing.assert_array_equal(orr[:n], rr)
    np.testing.assert_array_equal(oy[:n], y)
    assert ox.shape[1:] == x.shape[1:] and orr.shape[1] == rr.shape[1]
    counts = np.bincount(oy)
    top = np.bincount(y).max()
    if method == "adasyn":  # ADASYN targets the count approximately
        assert counts.min() >= 0.8 * top
    else:
        assert (counts == top).all()
    if method == "random":
        np.testing.assert_array_equal(ox[n:], x[origin[n:]])
        assert (origin[n:] >= 0).all()
    else:
        assert (origin[n:] == -1).all()
    if method == "smote":  # synthetic beats lie between beats of their own class: V stays negative
        assert (ox[n:][oy[n:] == 2].min(axis=2) < -0.5).all()
    again = oversample(x, rr, y, method, ratio=1.0, k_neighbors=3, seed=1)
    np.testing.assert_array_equal(again[0], ox)


def test_oversample_ratio_none_and_errors(beats):
    x, rr, y = beats.x, beats.rr, beats.y
    same = oversample(x, rr, y, "none")
    assert same[0] is x and (same[3] == np.arange(len(y))).all()
    half = oversample(x, rr, y, "random", ratio=0.5)[2]
    top = np.bincount(y).max()
    assert np.bincount(half).min() == max(int(round(0.5 * top)), np.bincount(y).min())
    with pytest.raises(ConfigError):
        oversample(x, rr, y, "mixup")
    with pytest.raises(ConfigError, match="unlabelled"):
        oversample(x, rr, np.where(np.arange(len(y)) == 0, -1, y), "random")
    with pytest.raises(ConfigError, match="adasyn oversampling failed.*Fix: use train.oversample=smote"):
        oversample(x, rr, y, "adasyn")  # perfectly separable classes: ADASYN has nothing to weight
    tiny = np.array([0] * 20 + [1])  # a class of one beat: duplicated, not an error
    out = oversample(x[:21], rr[:21], tiny, "smote")
    assert np.bincount(out[2]).tolist() == [20, 20]


def test_normalisation_statistics():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, (50, 2, 40)).astype(np.float32)
    rr = rng.normal(1.0, 0.1, (50, 3)).astype(np.float32)
    stats = fit_normalisation(x, rr)
    nx, nrr = apply_normalisation(x, rr, stats)
    np.testing.assert_allclose(nx.mean(axis=(0, 2)), 0, atol=1e-4)
    np.testing.assert_allclose(nrr.std(axis=0), 1, atol=1e-3)
    ident = fit_normalisation(x, rr, enabled=False)
    np.testing.assert_array_equal(apply_normalisation(x, rr, ident)[0], x)
    flat = fit_normalisation(np.ones((4, 1, 5), np.float32), np.ones((4, 1), np.float32))
    assert flat["x_std"] == [1.0] and flat["rr_std"] == [1.0]


def test_prepare_data_fits_and_oversamples_training_only(beats):
    fit_set, val_set, val_patients = validation_split(beats, 2, seed=0)
    prep = prepare_data(fit_set, val_set, TrainConfig(oversample="smote", oversample_k=3, seed=0))
    # normalisation statistics are those of the training beats alone
    own = fit_normalisation(fit_set.x, fit_set.rr)
    assert prep.normalisation == own
    assert prep.normalisation != fit_normalisation(beats.x, beats.rr)
    # validation beats: only standardised, never oversampled or reordered
    vx, vrr = apply_normalisation(val_set.x, val_set.rr, own)
    np.testing.assert_array_equal(prep.val_x, vx)
    np.testing.assert_array_equal(prep.val_rr, vrr)
    np.testing.assert_array_equal(prep.val_y, val_set.y)
    assert prep.info["val_counts"] == val_set.class_counts()
    # training beats: originals first, then synthetic ones; more beats than before
    n = len(fit_set)
    assert len(prep.y) > n and (prep.origin[n:] == -1).all()
    np.testing.assert_array_equal(prep.x[:n], apply_normalisation(fit_set.x, fit_set.rr, own)[0])
    assert prep.info["fit_counts"] != prep.info["train_counts"]
    assert set(prep.info["train_patients"]).isdisjoint(val_patients)


def test_validation_patients_are_stratified_and_seeded():
    pids = np.array(["a"] * 10 + ["b"] * 10 + ["c"] * 10 + ["d"] * 10)
    y = np.zeros(40, int)
    y[10:12] = 1  # b has class 1
    y[20:22] = 1  # c has class 1
    y[22:24] = 2  # c has class 2 as does d
    y[30:32] = 2
    chosen = choose_validation_patients(pids, y, 3, 1, seed=0)
    assert chosen == ["c"]  # covers the most classes and is not the last holder of any
    for seed in range(5):
        two = choose_validation_patients(pids, y, 3, 2, seed=seed)
        assert len(set(two)) == 2
        rest = set("abcd") - set(two)
        assert {int(v) for p in rest for v in y[pids == p]} == {0, 1, 2}  # training keeps every class
    assert choose_validation_patients(pids, y, 3, 0) == []
    from ecgscope.errors import DatasetError

    with pytest.raises(DatasetError, match="val_patients"):
        choose_validation_patients(pids, y, 3, 4)
