"""Beat-shape ectopy features: PVC-driven irregularity is told from AF without labels."""

from __future__ import annotations

import numpy as np
import pytest

from ecgscope.features.ectopy import ECTOPY_FEATURES, ectopy_vector


def _span(seed: int, **rhythm):
    from ecgscope.signal.filters import bandpass
    from ecgscope.signal.rpeaks import find_rpeaks
    from ecgscope.synthesis.simulator import simulate

    rec = simulate(duration=30.0, fs=100.0, leads=("II",), noise=24.0, seed=seed, **rhythm)
    x = bandpass(rec.signal.astype(np.float32), 100.0, 0.5, 40.0)
    values, mask = ectopy_vector(x, find_rpeaks(x, 100.0, nan_policy="mask"), 100.0)
    return dict(zip(ECTOPY_FEATURES, np.where(mask, values, np.nan)))


@pytest.mark.parametrize("seed", [0, 1])
def test_pvcs_are_deviant_and_af_is_irregular_among_alike_beats(seed):
    sinus = _span(seed)
    pvc = _span(seed, pvc_rate=0.2)
    af = _span(seed, af_episodes=[(0.0, 30.0, 110.0)])
    assert sinus["DeviantShare"] < 0.05 and sinus["AlikeIrregularShare"] < 0.15
    assert pvc["DeviantShare"] > 0.05 and pvc["PrematureDeviantShare"] > 0.05
    assert af["DeviantShare"] < 0.05 and af["AlikeIrregularShare"] > 0.5
    assert pvc["AlikeIrregularShare"] < af["AlikeIrregularShare"]
    assert af["AlikeMADSDnorm"] > 3 * sinus["AlikeMADSDnorm"]


def test_shape_follows_the_median_beat_on_any_lead_count():
    rng = np.random.default_rng(0)
    beat = np.exp(-0.5 * (np.arange(-10, 11) / 2.0) ** 2)
    x = rng.normal(0, 0.01, (2, 1000))
    r = np.arange(50, 1000, 80)
    for k in r:
        x[:, k - 10:k + 11] += beat
    x[:, r[3] - 10:r[3] + 11] -= 2 * beat  # one inverted beat
    v, m = ectopy_vector(x, r, 100.0)
    got = dict(zip(ECTOPY_FEATURES, v))
    assert m.all() and got["DeviantShare"] == pytest.approx(1 / r.size)
    assert got["AlikePairShare"] == pytest.approx((r.size - 3) / (r.size - 1))
    assert got["AlikeIrregularShare"] == 0.0 and got["PrematureDeviantShare"] == 0.0  # regular, not premature


def test_too_few_beats_are_masked_not_guessed():
    v, m = ectopy_vector(np.zeros(500), [100, 200, 300], 100.0)
    assert not m.any() and not v.any()
    v, m = ectopy_vector(np.zeros(500), [], 100.0)
    assert v.shape == m.shape == (len(ECTOPY_FEATURES),) and not m.any()
