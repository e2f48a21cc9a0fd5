"""Rhythm estimators end to end on tiny simulated records: fit, predict_proba, predict_windows, save/load."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ecgscope.models.rhythm import create_rhythm_estimator
from ecgscope.models.rhythm.checkpoint import load_rhythm_estimator, read_rhythm_card
from ecgscope.training.rhythm import RhythmTrainConfig, split_validation, window_loss

FAST = {"fs": 100.0, "window_s": 4.0, "hop_s": 2.0, "epochs": 3, "batch_size": 8, "val_fraction": 0.25, "lr": 3e-3}


@pytest.fixture(scope="module")
def sim_set():
    """12 single-lead 300 Hz records, 6-9 s: sinus (N) or atrial fibrillation (A), one patient each."""
    from ecgscope.datasets.rhythm import RhythmSet
    from ecgscope.synthesis.simulator import simulate

    signals, labels = [], []
    for i in range(12):
        af = i % 2 == 1
        dur = 6.0 + (i % 4)
        rec = simulate(duration=dur, fs=300.0, heart_rate=65 + 3 * i, leads=("II",), noise=30.0,
                       af_episodes=[(0.0, dur, 120.0)] if af else (), seed=i)
        signals.append(rec.signal)
        labels.append("A" if af else "N")
    ids = [f"sim{i:02d}" for i in range(12)]
    return RhythmSet(signals, 300.0, labels, ids, ids, source="simulated", leads=("II",))


@pytest.fixture(scope="module")
def fitted_ramba(sim_set):
    torch.set_num_threads(1)
    est = create_rhythm_estimator("ramba", d_model=16, n_layers=1, heads=2, headdim=8, minirocket_features=84,
                                  mr_fit_windows=50, **FAST)
    return est.fit(sim_set)


def test_fit_predict_contract(fitted_ramba, sim_set):
    proba = fitted_ramba.predict_proba(sim_set)
    assert proba.shape == (12, 4) and np.isfinite(proba).all()
    assert np.allclose(proba.sum(1), 1.0, atol=1e-5)  # softmax head: renormalised after pooling
    info = fitted_ramba.fit_info_
    assert info["train_records"] + info["val_records"] == 12 and info["val_records"] >= 2
    assert 1 <= info["best_epoch"] <= 3


def test_learns_af_from_sinus(fitted_ramba, sim_set):
    pred = fitted_ramba.predict(sim_set)
    assert np.mean(pred == sim_set.labels) >= 0.75


def test_predict_windows_cover_each_record(fitted_ramba, sim_set):
    out = fitted_ramba.predict_windows(sim_set)
    assert len(out) == 12
    for (starts, p), dur in zip(out, sim_set.durations_s):
        assert starts[0] == 0 and starts[-1] == pytest.approx(max(dur - 4.0, 0.0), abs=0.011)
        assert p.shape == (starts.size, 4)


def test_save_load_round_trip(fitted_ramba, sim_set, tmp_path):
    folder = fitted_ramba.save(tmp_path / "ramba", metrics={"note": "test"})
    card = read_rhythm_card(folder)
    assert card["estimator"] == "ramba" and card["classes"] == ["N", "A", "O", "~"]
    assert card["fs"] == 100.0 and card["pooling"] == "power" and card["q"] == 3.0
    assert card["minirocket"]["n_features_out"] == 84 and card["hrv"]["features"]
    assert card["temperature"] == fitted_ramba.temperature_ == fitted_ramba.fit_info_["temperature"]
    again = load_rhythm_estimator(folder)
    assert again.temperature_ == fitted_ramba.temperature_
    assert np.array_equal(again.predict_proba(sim_set), fitted_ramba.predict_proba(sim_set))


def test_temperature_is_fitted_on_validation_records_and_divides_the_logits(fitted_ramba, sim_set):
    from ecgscope.training.calibration import temperature_nll

    t = fitted_ramba.temperature_
    assert 0.05 <= t <= 20 and t != 1.0
    net, table = fitted_ramba.net_, fitted_ramba._table(sim_set)
    logits = fitted_ramba._window_logits(net, fitted_ramba._inputs(net, table)).numpy()
    windows = [p for _, p in fitted_ramba.predict_windows(sim_set)]
    assert np.allclose(np.concatenate(windows), torch.softmax(torch.as_tensor(logits) / t, 1).numpy(), atol=1e-6)
    # the fitted T is the best on the validation records it saw, so no worse there than T = 1
    _, val_idx = split_validation(sim_set.labels, sim_set.patients, FAST["val_fraction"], 0)
    sub = sim_set.subset(val_idx)
    val_table = fitted_ramba._table(sub)
    val_logits = fitted_ramba._window_logits(net, fitted_ramba._inputs(net, val_table)).numpy()
    y = fitted_ramba._encode(sub.labels)
    pool = lambda p: fitted_ramba._pool(p, val_table)  # noqa: E731
    assert temperature_nll(val_logits, y, t, pool=pool) <= temperature_nll(val_logits, y, 1.0, pool=pool) + 1e-9


def test_uncalibrated_estimator_keeps_unit_temperature(sim_set):
    torch.set_num_threads(1)
    opts = dict(d_model=8, n_layers=1, heads=2, headdim=8, minirocket_features=0, hrv=False, ssm=False,
                **{**FAST, "epochs": 1})
    est = create_rhythm_estimator("ramba", calibration=None, **opts).fit(sim_set)
    assert est.temperature_ == 1.0
    with pytest.raises(Exception, match="calibration"):
        create_rhythm_estimator("ramba", calibration="isotonic")


def test_resnet_baseline_and_pooling_modes(sim_set, tmp_path):
    torch.set_num_threads(1)
    est = create_rhythm_estimator("resnet1d-rhythm", pooling="max", head="sigmoid", **{**FAST, "epochs": 1})
    est.fit(sim_set)
    proba = est.predict_proba(sim_set)
    assert proba.shape == (12, 4) and ((proba >= 0) & (proba <= 1)).all()
    windows = est.predict_windows(sim_set)
    assert np.allclose(proba, np.stack([p.max(0) for _, p in windows]), atol=1e-6)  # max pooling, no renormalising
    again = load_rhythm_estimator(est.save(tmp_path / "rn"))
    assert np.array_equal(again.predict_proba(sim_set), proba)


def test_same_seed_same_predictions(sim_set):
    torch.set_num_threads(1)
    opts = dict(d_model=8, n_layers=1, heads=2, headdim=8, minirocket_features=0, hrv=False, ssm=False,
                **{**FAST, "epochs": 1})
    a = create_rhythm_estimator("ramba", **opts).fit(sim_set).predict_proba(sim_set)
    b = create_rhythm_estimator("ramba", **opts).fit(sim_set).predict_proba(sim_set)
    assert np.array_equal(a, b)


def test_split_validation_is_patient_wise_and_stratified():
    labels = np.array(["N"] * 20 + ["A"] * 10 + ["~"])
    patients = np.array([f"p{i // 2}" for i in range(31)])  # two records per patient
    tr, va = split_validation(labels, patients, 0.2, seed=1)
    assert set(patients[tr]).isdisjoint(patients[va])
    assert {"N", "A"} <= set(labels[va]) and "~" in set(labels[tr])
    assert split_validation(labels, patients, 0.0)[1].size == 0


def test_window_losses():
    logits = torch.randn(5, 4)
    y = torch.tensor([0, 1, 2, 3, 0])
    ce = window_loss("softmax", np.ones(4, np.float32))(logits, y)
    assert torch.isclose(ce, torch.nn.functional.cross_entropy(logits, y))
    assert window_loss("sigmoid", np.ones(4, np.float32))(logits, y) > 0
    assert RhythmTrainConfig.from_options({"epochs": 2, "unrelated": 1}).epochs == 2


@pytest.mark.parametrize("extra", [{"hrv_af": True}, {"hrv_context_s": 6.0},
                                   {"hrv_ectopy": True, "hrv_context_s": 6.0}])
def test_hrv_options_widen_the_hrv_token_and_reach_the_card(sim_set, tmp_path, extra):
    from ecgscope.features.ectopy import ECTOPY_FEATURES
    from ecgscope.features.hrv_stream import AF_FEATURES, HRV_FEATURE_NAMES

    torch.set_num_threads(1)
    opts = dict(d_model=8, n_layers=1, heads=2, headdim=8, minirocket_features=0, ssm=False, **{**FAST, "epochs": 1})
    est = create_rhythm_estimator("ramba", **extra, **opts).fit(sim_set)
    span = HRV_FEATURE_NAMES + (ECTOPY_FEATURES if "hrv_ectopy" in extra else ())
    tail = AF_FEATURES if "hrv_af" in extra else tuple(f"{n}@6s" for n in span)
    assert est.net_.n_hrv == len(span) + len(tail) == len(est.spec.hrv_names)
    card = read_rhythm_card(est.save(tmp_path / "opt"))
    assert card["hrv"]["features"][-len(tail):] == list(tail)
    again = load_rhythm_estimator(tmp_path / "opt")
    assert again.spec == est.spec
    assert np.array_equal(again.predict_proba(sim_set), est.predict_proba(sim_set))
    plain = create_rhythm_estimator("ramba", **opts)
    assert plain.spec.hrv_names == HRV_FEATURE_NAMES
    off = create_rhythm_estimator("ramba", hrv=False, **extra, **opts).spec
    assert not off.hrv_af and not off.hrv_ectopy and off.hrv_context_s == 0.0


def test_device_option_trains_where_asked(sim_set):
    from ecgscope.errors import ConfigError

    est = create_rhythm_estimator("resnet1d-rhythm", **dict(FAST, epochs=1), device="cpu")
    est.fit(sim_set)
    assert {p.device.type for p in est.net_.parameters()} == {"cpu"}
    assert est.predict_proba(sim_set).shape == (12, 4)
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            create_rhythm_estimator("resnet1d-rhythm", **dict(FAST, epochs=1), device="cuda").fit(sim_set)
