"""Windows of variable-length records, their regrouping, and the rhythm estimator registry."""

from __future__ import annotations

import numpy as np
import pytest

from ecgscope.errors import ConfigError, ModelError
from ecgscope.models.rhythm import create_rhythm_estimator, list_rhythm_estimators
from ecgscope.models.rhythm.windows import cut_windows, group_by_record, standardise_windows, window_starts


def test_window_starts_cover_the_tail():
    assert window_starts(3300, 1000, 500).tolist() == [0, 500, 1000, 1500, 2000, 2300]
    assert window_starts(3000, 1000, 500).tolist() == [0, 500, 1000, 1500, 2000]
    assert window_starts(900, 1000, 500).tolist() == [0]
    with pytest.raises(ConfigError):
        window_starts(100, 0, 1)


def test_cut_windows_pads_short_records():
    x = np.arange(2 * 7, dtype=np.float32).reshape(2, 7)
    w, starts = cut_windows(x, 10, 5)
    assert w.shape == (1, 2, 10) and starts.tolist() == [0]
    assert np.array_equal(w[0, :, :7], x) and not w[0, :, 7:].any()
    w, starts = cut_windows(np.arange(12, dtype=np.float32)[None], 5, 4)
    assert starts.tolist() == [0, 4, 7] and w[2, 0].tolist() == [7, 8, 9, 10, 11]


def test_standardise_windows_keeps_flat_leads_zero():
    w = np.stack([np.zeros((2, 50)), np.random.default_rng(0).normal(3, 2, (2, 50))]).astype(np.float32)
    z = standardise_windows(w)
    assert not z[0].any()
    assert np.allclose(z[1].mean(-1), 0, atol=1e-5) and np.allclose(z[1].std(-1), 1, atol=1e-4)


def test_group_by_record_pads_and_keeps_order():
    values = np.arange(6, dtype=np.float32)[:, None]
    record = np.array([1, 0, 1, 2, 1, 0])
    grouped, mask = group_by_record(values, record, 4)
    assert grouped.shape == (4, 3, 1)
    assert grouped[1, :, 0].tolist() == [0, 2, 4] and grouped[0, :2, 0].tolist() == [1, 5]
    assert mask.sum(1).tolist() == [2, 3, 1, 0]


def test_registry_names_and_unknown_options():
    names = list_rhythm_estimators()
    assert {"ramba", "resnet1d-rhythm"} <= set(names)
    with pytest.raises(ModelError, match="unknown option"):
        create_rhythm_estimator("ramba", no_such_option=1)
    with pytest.raises(ConfigError):
        create_rhythm_estimator("ramba", pooling="median")
    est = create_rhythm_estimator("resnet1d-rhythm", variant="tiny")
    assert est.classes_ == ("N", "A", "O", "~")
    with pytest.raises(ModelError, match="not fitted"):
        est.predict_proba([])
