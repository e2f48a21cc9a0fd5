"""Temperature scaling: recovers a known temperature, never worsens the fitted likelihood, keeps the argmax."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ecgscope.errors import ConfigError
from ecgscope.training.calibration import activate, fit_temperature, temperature_nll


def _sampled(rng, n=4000, k=4, true_t=0.5):
    """Logits and labels drawn from softmax(logits / true_t): the calibrating temperature is true_t."""
    logits = rng.normal(0.0, 1.5, size=(n, k))
    p = torch.softmax(torch.as_tensor(logits / true_t), 1).numpy()
    y = np.array([rng.choice(k, p=row) for row in p])
    return logits, y


@pytest.mark.parametrize("true_t", [0.4, 1.0, 2.5])
def test_recovers_the_sampling_temperature(rng, true_t):
    logits, y = _sampled(rng, true_t=true_t)
    t = fit_temperature(logits, y)
    assert t == pytest.approx(true_t, rel=0.12)
    assert temperature_nll(logits, y, t) <= temperature_nll(logits, y, 1.0) + 1e-12


def test_underconfident_logits_get_sharpened_and_keep_their_argmax(rng):
    logits, y = _sampled(rng, true_t=0.5)
    t = fit_temperature(logits, y)
    assert t < 1.0
    before, after = activate(torch.as_tensor(logits), "softmax", 1.0), activate(torch.as_tensor(logits), "softmax", t)
    assert torch.equal(before.argmax(1), after.argmax(1))
    assert after.max(1).values.mean() > before.max(1).values.mean()


def test_pooled_records_and_sigmoid_head(rng):
    logits, y = _sampled(rng, n=3000, true_t=0.5)
    # three windows per record, labels per record: the pool maps window rows to record rows
    rec_y = y[::3]
    window_logits = np.repeat(logits[::3], 3, axis=0)
    pool = lambda p: p.reshape(-1, 3, p.shape[1]).mean(1)  # noqa: E731
    t = fit_temperature(window_logits, rec_y, pool=pool)
    assert t == pytest.approx(fit_temperature(logits[::3], rec_y), rel=1e-3)
    ts = fit_temperature(logits, y, head="sigmoid")
    assert 0.05 <= ts <= 20 and temperature_nll(logits, y, ts, head="sigmoid") <= \
        temperature_nll(logits, y, 1.0, head="sigmoid") + 1e-12


def test_edges_and_errors(rng):
    assert fit_temperature(np.zeros((0, 4)), np.zeros(0, int)) == 1.0
    logits, y = _sampled(rng, n=50)
    with pytest.raises(ConfigError):
        fit_temperature(logits, y, bounds=(2.0, 1.0))
    with pytest.raises(ConfigError):
        temperature_nll(logits, y[:10], 1.0)
    with pytest.raises(ConfigError):
        activate(torch.zeros(2, 3), "tanh")
