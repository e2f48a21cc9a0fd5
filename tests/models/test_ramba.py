"""RAMBA network: shapes for every ablation, power-mean pooling, training step, determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ecgscope.errors import ModelError
from ecgscope.models.blocks.pooling import pool_windows, power_mean
from ecgscope.models.rhythm.ramba import RambaNet

WINDOW = 200
N_HRV = 6


def _minirocket(leads: int):
    from ecgscope.features.minirocket import MiniRocket

    x = np.random.default_rng(0).standard_normal((16, leads, WINDOW)).astype(np.float32)
    return MiniRocket(num_features=84, random_state=0).fit(x)


def _net(leads=1, *, ssm=True, mr=True, hrv=True, seed=0, **kw):
    torch.manual_seed(seed)
    rocket = _minirocket(leads) if mr else None
    net = RambaNet(leads, 4, WINDOW, d_model=12, n_layers=1, heads=2, headdim=8, ssm=ssm,
                   minirocket_features=rocket.n_features_out if mr else 0, hrv_features=N_HRV if hrv else 0, **kw)
    if mr:
        net.set_features(minirocket=rocket)
    return net


def _batch(b=3, leads=1, seed=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, leads, WINDOW, generator=g)
    hrv = torch.randn(b, N_HRV, generator=g)
    mask = torch.rand(b, N_HRV, generator=g) > 0.3
    return x, hrv, mask


@pytest.mark.parametrize("ssm", [True, False])
@pytest.mark.parametrize("mr,hrv", [(True, True), (False, True), (True, False), (False, False)])
def test_every_ablation_gives_logits(one_torch_thread, ssm, mr, hrv):
    net = _net(ssm=ssm, mr=mr, hrv=hrv).eval()
    x, h, m = _batch()
    out = net(x, h if hrv else None, m if hrv else None)
    assert out.shape == (3, 4) and torch.isfinite(out).all()
    assert net.n_context == (4 if mr else 0) + (1 if hrv else 0)
    assert (net.minirocket is not None) == mr
    assert net.n_tokens == WINDOW // 5


@pytest.mark.parametrize("leads", [1, 3])
def test_batch_of_one_and_multi_lead(one_torch_thread, leads):
    net = _net(leads).eval()
    x, h, m = _batch(1, leads)
    assert net(x, h, m).shape == (1, 4)
    assert net.gate.logit.shape == (leads,)


def test_precomputed_minirocket_features_match_inline(one_torch_thread):
    net = _net().eval()
    x, h, m = _batch()
    with torch.no_grad():
        assert torch.allclose(net(x, h, m), net(x, h, m, mr=net.minirocket(x)))


def test_wrong_window_and_missing_hrv_raise(one_torch_thread):
    net = _net().eval()
    x, h, m = _batch()
    with pytest.raises(ModelError, match="expected"):
        net(x[..., :-1], h, m)
    with pytest.raises(ModelError, match="HRV"):
        net(x)


def test_hrv_mask_hides_values(one_torch_thread):
    net = _net(mr=False).eval()
    x, h, _ = _batch()
    mask = torch.zeros_like(h, dtype=torch.bool)
    with torch.no_grad():
        assert torch.allclose(net(x, h, mask), net(x, h * 100 + 5, mask))


def test_training_step_lowers_loss(one_torch_thread):
    net = _net()
    x, h, m = _batch(8)
    y = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(15):
        loss = torch.nn.functional.cross_entropy(net(x, h, m), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.7 * losses[0]


def test_same_seed_same_model(one_torch_thread):
    x, h, m = _batch()
    a, b, c = _net(seed=3).eval(), _net(seed=3).eval(), _net(seed=4).eval()
    with torch.no_grad():
        assert torch.equal(a(x, h, m), b(x, h, m))
        assert not torch.equal(a(x, h, m), c(x, h, m))


def test_state_dict_round_trip_into_fresh_net(one_torch_thread):
    net = _net().eval()
    fresh = RambaNet(**net.model_kwargs).eval()  # unfitted MiniRocket: buffers take their shapes from the state
    fresh.load_state_dict(net.state_dict())
    x, h, m = _batch()
    with torch.no_grad():
        assert torch.equal(net(x, h, m), fresh(x, h, m))


# -- power-mean pooling -----------------------------------------------------------------------
def test_power_mean_is_mean_at_q1_and_max_for_large_q():
    p = torch.rand(4, 7, 3)
    assert torch.allclose(power_mean(p, 1.0), p.mean(1), atol=1e-6)
    assert torch.allclose(power_mean(p, 1e4), p.amax(1), atol=1e-3)
    assert torch.allclose(power_mean(p, math.inf), p.amax(1))
    q3 = power_mean(p, 3.0)
    assert torch.allclose(q3, (p ** 3).mean(1) ** (1 / 3), atol=1e-6)
    assert (q3 >= p.mean(1) - 1e-6).all() and (q3 <= p.amax(1) + 1e-6).all()


def test_pooling_ignores_padded_windows():
    p = torch.rand(2, 5, 4)
    mask = torch.tensor([[True, True, True, False, False], [True] * 5])
    garbage = p.clone()
    garbage[0, 3:] = 1.0  # padded slots hold anything
    for mode in ("power", "mean", "max"):
        a = pool_windows(p, mode, 3.0, mask)
        b = pool_windows(garbage, mode, 3.0, mask)
        assert torch.allclose(a, b)
        alone = pool_windows(p[:1, :3], mode, 3.0)
        assert torch.allclose(a[:1], alone, atol=1e-6)


def test_softmax_renormalisation_sums_to_one():
    p = torch.softmax(torch.randn(3, 6, 4), -1)
    out = pool_windows(p, "power", 3.0, renormalise=True)
    assert torch.allclose(out.sum(-1), torch.ones(3), atol=1e-6)
    with pytest.raises(ValueError):
        pool_windows(p, "median")
    with pytest.raises(ValueError):
        power_mean(p, 0.0)
