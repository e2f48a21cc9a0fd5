"""MiniRocket (ecgscope.features.minirocket): equality with aeon, determinism, shapes, state round trip, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ecgscope.errors import LeadCountError, ModelError, NonFiniteSignalError, SignalError
from ecgscope.features import MiniRocket
from ecgscope.features.minirocket import KERNEL_POSITIONS, fit_dilations, golden_quantiles

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _series(rng, n, channels, length):
    # Random walks: ECG-like autocorrelation, so many PPV values sit strictly inside (0, 1).
    return np.cumsum(rng.standard_normal((n, channels, length)), axis=-1).astype(np.float32)


def test_kernel_bank_is_the_84_choices_of_3_positions():
    assert KERNEL_POSITIONS.shape == (84, 3)
    assert len({tuple(p) for p in KERNEL_POSITIONS}) == 84
    w = MiniRocket().weights[:, 0]
    assert torch.equal((w == 2).sum(1), torch.full((84,), 3)) and torch.equal((w == -1).sum(1), torch.full((84,), 6))
    assert torch.all(w.sum(1) == 0)  # 3*2 - 6: the kernels ignore an offset


def test_dilations_and_quantiles_follow_the_paper():
    dil, per = fit_dilations(1000, 10_000, 32)
    assert dil[0] == 1 and dil[-1] <= (1000 - 1) / 8 and np.all(np.diff(dil) > 0)
    assert per.sum() == 10_000 // 84
    q = golden_quantiles(5)
    assert np.allclose(q, (np.arange(1, 6) * (1 + 5 ** 0.5) / 2) % 1)


@pytest.mark.parametrize("channels,length", [(1, 64), (4, 50)])
def test_features_equal_aeon_with_aeon_parameters(rng, channels, length):
    aeon = pytest.importorskip("aeon.transformations.collection.convolution_based")
    X = _series(rng, 16, channels, length)
    ref = aeon.MiniRocket(n_kernels=1000, random_state=3).fit(X)
    want = ref.transform(X)
    ours = MiniRocket.from_aeon(ref)
    got = ours.transform(X)
    assert got.shape == want.shape == (16, ours.n_features_out)
    # PPV = count / L (or / (L - 2*padding)): equal features are exactly equal. The convolution
    # sums the same products in another order (conv1d vs aeon's shifted -x and 3x copies), so an
    # output within float rounding of a bias may fall on the other side: the count moves by one.
    diff = np.abs(got - want)
    assert np.mean(diff <= 1e-6) >= 0.999
    assert diff.max() <= 2 / length + 1e-6


def test_own_fit_is_deterministic_with_a_seed_and_varies_without(rng):
    X = _series(rng, 10, 3, 80)
    a = MiniRocket(num_features=500, random_state=7).fit(X).transform(X)
    b = MiniRocket(num_features=500, random_state=7).fit(X).transform(X)
    c = MiniRocket(num_features=500, random_state=8).fit(X).transform(X)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.all((a >= 0) & (a <= 1)) and 0.3 < a.mean() < 0.7  # quantile biases: PPV spread around 1/2


def test_own_fit_biases_are_quantiles_of_training_outputs(rng):
    X = _series(rng, 1, 1, 100)  # one example: every bias comes from it
    m = MiniRocket(num_features=84, random_state=0).fit(X)
    assert m.dilations.tolist() == [1] and m.features_per_dilation.tolist() == [1]
    conv = torch.nn.functional.conv1d(torch.as_tensor(X), m.weights, padding=4)[0]
    q = golden_quantiles(84)
    want = np.array([np.quantile(conv[k].numpy(), q[k]) for k in range(84)], np.float32)
    np.testing.assert_allclose(m.biases.numpy(), want, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("num_features,expected", [(10, 84), (84, 84), (500, 420), (1000, 924), (10_000, 9996)])
def test_shapes_and_n_features_out(rng, num_features, expected):
    X = _series(rng, 5, 2, 120)
    m = MiniRocket(num_features=num_features, random_state=0)
    assert m.n_features_out == expected
    m.fit(X)
    assert m.n_features_out == expected and m.transform(X).shape == (5, expected)
    assert m(torch.as_tensor(X)).dtype == torch.float32


def test_univariate_2d_input_batch_1_and_batching_agree(rng):
    X = _series(rng, 7, 1, 90)
    m = MiniRocket(num_features=300, random_state=0).fit(X[:, 0])
    full = m.transform(X)
    assert np.array_equal(m.transform(X[:, 0], batch_size=3), full)
    assert np.array_equal(m(torch.as_tensor(X[:1]))[0].numpy(), full[0])


def test_state_dict_round_trips_through_safetensors(rng, tmp_path):
    from safetensors.torch import load_file, save_file

    X = _series(rng, 6, 3, 70)
    m = MiniRocket(num_features=600, random_state=2).fit(X)
    save_file({k: v.contiguous() for k, v in m.state_dict().items()}, tmp_path / "mr.safetensors")
    state = load_file(tmp_path / "mr.safetensors")
    assert "weights" not in state  # the fixed kernel bank is not fitted state
    fresh = MiniRocket()
    fresh.load_state_dict(state)  # buffers resize on load: a sub-module of a bigger model loads the same way
    assert np.array_equal(fresh.transform(X), m.transform(X))
    assert np.array_equal(MiniRocket.from_state_dict(state).transform(X), m.transform(X))
    parent = torch.nn.Sequential(MiniRocket())
    parent.load_state_dict({f"0.{k}": v for k, v in state.items()})
    assert np.array_equal(parent[0].transform(X), m.transform(X))


def test_input_validation(rng):
    X = _series(rng, 4, 2, 40)
    m = MiniRocket(num_features=84, random_state=0)
    with pytest.raises(ModelError, match="not fitted"):
        m.transform(X)
    with pytest.raises(SignalError, match="at least 9"):
        m.fit(X[:, :, :8])
    with pytest.raises(SignalError, match="shape"):
        m.fit(X[0, 0])
    with pytest.raises(SignalError, match="no series"):
        m.fit(X[:0])
    bad = X.copy()
    bad[1, 0, 5] = np.nan
    with pytest.raises(NonFiniteSignalError):
        m.fit(bad)
    m.fit(X)
    with pytest.raises(NonFiniteSignalError):
        m.transform(bad)
    with pytest.raises(LeadCountError, match="fitted on 2"):
        m.transform(X[:, :1])
    with pytest.raises(SignalError, match="fitted on 40"):
        m.transform(X[:, :, :30])
    with pytest.raises(ModelError, match="aeon"):
        MiniRocket.from_aeon(object())
