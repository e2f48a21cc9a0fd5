"""Group (record/patient) bootstrap: draws, percentile intervals, generic and confusion-matrix paths."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from ecgscope.evaluation.bootstrap import (
    bootstrap_ci,
    bootstrap_sums,
    confusion_bootstrap,
    draw_groups,
    group_index,
    percentile_interval,
    resample_counts,
)
from ecgscope.evaluation.classification import EvaluationError, confusion_matrix


def test_percentile_interval_equals_nanquantile(rng):
    s = rng.normal(size=(501, 3, 2))
    s[rng.random(s.shape) < 0.2] = np.nan
    low, high, n_def = percentile_interval(s, 0.9)
    np.testing.assert_allclose(low, np.nanquantile(s, 0.05, axis=0), rtol=1e-12)
    np.testing.assert_allclose(high, np.nanquantile(s, 0.95, axis=0), rtol=1e-12)
    np.testing.assert_array_equal(n_def, np.isfinite(s).sum(0))


def test_percentile_interval_all_undefined_is_nan_without_warning():
    s = np.c_[np.full(10, np.nan), np.arange(10.0)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        low, high, n_def = percentile_interval(s, 0.95)
    assert np.isnan(low[0]) and np.isnan(high[0]) and n_def.tolist() == [0, 10]
    assert low[1] == pytest.approx(0.225) and high[1] == pytest.approx(8.775)


def test_counts_follow_draws_and_sums_are_group_sums(rng):
    draws = draw_groups(6, 50, seed=3)
    counts = resample_counts(6, 50, seed=3)
    assert counts.shape == (50, 6) and (counts.sum(1) == 6).all()
    np.testing.assert_array_equal(counts[7], np.bincount(draws[7], minlength=6))
    tables = rng.integers(0, 9, size=(6, 2, 2))
    sums = bootstrap_sums(tables, 50, seed=3)
    np.testing.assert_array_equal(sums[7], tables[draws[7]].sum(0))


def test_group_index_sorted_ids():
    ids, inv = group_index(["b", "a", "b", "c"])
    assert ids.tolist() == ["a", "b", "c"] and inv.tolist() == [1, 0, 1, 2]


def test_generic_ci_keeps_groups_together(rng):
    groups = np.repeat(np.arange(5), [1, 2, 3, 4, 50])
    res = bootstrap_ci(len, groups, np.zeros(groups.size), n_boot=200, seed=1)
    sizes = np.array([1, 2, 3, 4, 50])
    np.testing.assert_array_equal(res.samples, resample_counts(5, 200, seed=1) @ sizes)
    assert res.point == groups.size


def test_generic_ci_brackets_point_and_is_order_invariant(rng):
    groups = rng.integers(0, 30, 3000)
    x = rng.normal(loc=groups / 30, size=3000)
    res = bootstrap_ci(np.mean, groups, x, n_boot=300, seed=2)
    assert res.low < res.point < res.high and res.n_defined == 300
    perm = rng.permutation(3000)
    again = bootstrap_ci(np.mean, [f"rec{g:02d}" for g in groups[perm]], x[perm], n_boot=300, seed=2)
    assert again.low == pytest.approx(res.low, rel=1e-12) and again.high == pytest.approx(res.high, rel=1e-12)


def test_generic_and_confusion_paths_agree(rng):
    g = rng.integers(0, 12, 2000)
    t = rng.integers(0, 3, 2000)
    p = np.where(rng.random(2000) < 0.8, t, rng.integers(0, 3, 2000))
    fast = confusion_bootstrap(confusion_matrix(t, p, 3, groups=g, n_groups=12), n_boot=200, seed=5,
                               f1_subsets={"all": [0, 1, 2]})
    slow = bootstrap_ci(lambda a, b: np.mean(a == b), g, t, p, n_boot=200, seed=5)
    assert fast["accuracy"].low == pytest.approx(slow.low)
    assert fast["accuracy"].high == pytest.approx(slow.high)
    np.testing.assert_allclose(fast["accuracy"].samples, slow.samples)
    assert fast["se"].low.shape == (3,) and fast["macro_f1:all"].n_defined == 200


def test_vector_statistic_and_bad_arguments(rng):
    g = rng.integers(0, 8, 400)
    x = rng.normal(size=(400, 2))
    res = bootstrap_ci(lambda a: a.mean(0), g, x, n_boot=100)
    assert res.low.shape == (2,) and np.all(res.contains_point())
    with pytest.raises(EvaluationError, match="n_boot"):
        bootstrap_ci(np.mean, g, x[:, 0], n_boot=-1)
    with pytest.raises(EvaluationError, match="ci="):
        bootstrap_ci(np.mean, g, x[:, 0], ci=95)
    with pytest.raises(EvaluationError, match="items"):
        bootstrap_ci(np.mean, g[:10], x[:, 0])
