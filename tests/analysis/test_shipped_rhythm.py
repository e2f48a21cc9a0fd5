"""The shipped rhythm checkpoints: ``rhythm-default`` (gbm-windows) and ``rhythm-ramba`` load and tell AF from sinus."""

from __future__ import annotations

import pytest

from ecgscope.analysis.rhythm import classify_rhythm, load_rhythm_model
from ecgscope.models.pretrained import list_pretrained
from ecgscope.synthesis import simulate

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize(("name", "estimator"), [("rhythm", "gbm-windows"), ("rhythm-ramba", "ramba")])
def test_shipped_rhythm_models_load_with_their_cards(name, estimator):
    model = load_rhythm_model(name)
    card = model.estimator.card_
    assert card["estimator"] == estimator and model.classes == ("N", "A", "O", "~")
    assert card["training"]["data"]["records"] == 6397  # all shared CinC 2017, nothing else
    assert 0.7 < card["metrics"]["cinc2017_cv"]["challenge_f1"]["value"] < 0.9
    assert {"rhythm-default", "rhythm-ramba"} <= set(list_pretrained())


@pytest.mark.parametrize("name", ["rhythm", "rhythm-ramba"])
def test_shipped_rhythm_models_tell_af_from_sinus(name):
    sinus = simulate(duration=60, fs=360.0, leads=["MLII", "V1"], seed=21)
    af = simulate(duration=60, fs=250.0, leads=["II"], af_episodes=[(0, 60)], seed=22)
    assert classify_rhythm(sinus, name).af_probability < 0.5
    result = classify_rhythm(af, name)
    assert result.label == "A" and result.af_probability > 0.5


def test_shipped_rhythm_model_reads_10_s_strips():
    """A 10-s strip is a record of one window whose context is itself (the short copies in training)."""
    def strips(**kwargs):
        return [classify_rhythm(simulate(duration=10, fs=500.0, leads=["II"], seed=s, **kwargs), "rhythm")
                for s in range(100, 110)]

    sinus, af = strips(), strips(af_episodes=[(0, 10)])
    assert all(len(r.window_start_s) == 1 for r in sinus + af)
    assert all(r.af_probability < 0.5 for r in sinus)
    assert sum(r.label == "A" and r.af_probability > 0.5 for r in af) >= 9
