"""``classify_rhythm`` and ``ModelRhythmDetector``: result, windows, leads, inputs, errors, the analyze hook.

A tiny ResNet1D rhythm estimator is fitted in seconds on simulated sinus and
AF records (the simulator's AF has irregular RR intervals and no P waves), so
these tests need no shipped rhythm model.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from ecgscope.analysis.pipeline import analyze
from ecgscope.analysis.rhythm import ModelRhythmDetector, classify_rhythm, load_rhythm_model
from ecgscope.errors import ModelError, SignalError
from ecgscope.io import write
from ecgscope.models.rhythm.preprocess import WindowSpec
from ecgscope.models.rhythm.windows import window_starts
from ecgscope.synthesis import simulate

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def fit_tiny_rhythm_model(folder, n_records: int = 16, epochs: int = 8):
    """A resnet1d-rhythm estimator (5-s windows, 100 Hz) fitted on simulated sinus / AF records, saved."""
    import torch

    from ecgscope.datasets.rhythm import RhythmSet
    from ecgscope.models.rhythm import create_rhythm_estimator

    torch.manual_seed(0)
    signals, labels = [], []
    for i in range(n_records):
        af = i % 2 == 1
        rec = simulate(duration=30, fs=100, leads=["II"], af_episodes=[(0, 30)] if af else (), seed=100 + i)
        signals.append(rec.signal)
        labels.append("A" if af else "N")
    ids = [f"r{i}" for i in range(n_records)]
    data = RhythmSet(signals, 100.0, labels, ids, ids, "simulated", ("II",))
    est = create_rhythm_estimator("resnet1d-rhythm", window_s=5.0, hop_s=5.0, epochs=epochs,
                                  max_steps_per_epoch=6, batch_size=16, lr=0.01, val_fraction=0.0, ema=False,
                                  label_smoothing=0.0)
    est.fit(data)
    return est.save(folder)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return fit_tiny_rhythm_model(tmp_path_factory.mktemp("rhythm") / "tiny")


@pytest.fixture(scope="module")
def af_record():
    """150 s, leads V1 and II, 250 Hz, AF from 50 to 110 s."""
    return simulate(duration=150, fs=250.0, leads=["V1", "II"], af_episodes=[(50, 110)], seed=7)


# ------------------------------------------------------------------ classify_rhythm
def test_result_schema_and_windows(model_dir, af_record):
    res = classify_rhythm(af_record, model_dir)
    assert res.classes == ("N", "A", "O", "~")
    assert sum(res.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert res.label == max(res.probabilities, key=res.probabilities.get)
    assert (res.pooling, res.q, res.model_fs, res.window_s) == ("power", 3.0, 100.0, 5.0)
    assert res.model == "tiny" and len(res.model_hash) == 64
    frame = res.windows()
    assert list(frame.columns) == ["start_s", "end_s", "p_N", "p_A", "p_O", "p_~", "label", "valid"]
    assert len(frame) == res.n_windows == 30
    np.testing.assert_allclose(frame["start_s"], np.arange(30) * 5.0)
    np.testing.assert_allclose(frame["end_s"] - frame["start_s"], 5.0)
    np.testing.assert_allclose(frame[["p_N", "p_A", "p_O", "p_~"]].sum(axis=1), 1.0, atol=1e-5)
    # the model sees the AF: windows inside 50-110 s say A, the others N
    inside = (frame["start_s"] >= 50) & (frame["end_s"] <= 110)
    assert (frame.loc[inside, "p_A"] > 0.5).mean() > 0.9
    outside = (frame["end_s"] <= 45) | (frame["start_s"] >= 115)
    assert (frame.loc[outside, "p_A"] < 0.5).mean() > 0.9
    doc = json.loads(res.to_json())
    assert doc["label"] == res.label and len(doc["windows"]) == 30 and doc["windows"][0]["start_s"] == 0.0
    assert "windows" not in res.to_dict(windows=False)


def test_record_labels_sinus_and_af(model_dir):
    sinus = simulate(duration=40, fs=360.0, leads=["MLII", "V1"], seed=3)
    af = simulate(duration=40, fs=360.0, leads=["MLII", "V1"], af_episodes=[(0, 40)], seed=4)
    assert classify_rhythm(sinus, model_dir).label == "N"
    res = classify_rhythm(af, model_dir)
    assert res.label == "A" and res.af_probability > 0.5


def test_resampled_record_gives_the_same_answer(model_dir, af_record):
    a = classify_rhythm(af_record, model_dir)
    b = classify_rhythm(af_record.resample(500.0), model_dir)
    assert b.fs == 500.0 and a.n_windows == b.n_windows
    np.testing.assert_allclose(a.window_proba, b.window_proba, atol=0.1)


def test_lead_choice(model_dir, af_record):
    assert classify_rhythm(af_record, model_dir).lead == "II"  # II before the first lead (V1)
    assert classify_rhythm(af_record, model_dir, lead="V1").lead == "V1"
    assert classify_rhythm(af_record, model_dir, lead=0).lead == "V1"
    no_ii = simulate(duration=20, fs=250.0, leads=["V1", "V5"], seed=1)
    assert classify_rhythm(no_ii, model_dir).lead == "V1"
    with pytest.raises(ModelError, match="no lead 'aVR'"):
        classify_rhythm(no_ii, model_dir, lead="aVR")


def test_path_input(model_dir, af_record, tmp_path):
    write(af_record, tmp_path / "rec.hea")
    from_file = classify_rhythm(tmp_path / "rec.hea", model_dir)
    direct = classify_rhythm(af_record, model_dir)
    assert from_file.label == direct.label
    np.testing.assert_allclose(from_file.window_proba, direct.window_proba, atol=0.02)


def test_nan_gap_invalidates_its_windows_only(model_dir, af_record):
    rec = af_record.crop(0, af_record.n_samples)
    rec.signal = rec.signal.copy()
    rec.signal[:, int(21 * rec.fs):int(23 * rec.fs)] = np.nan
    res = classify_rhythm(rec, model_dir)
    frame = res.windows()
    bad = ~frame["valid"]
    assert frame.loc[bad, "start_s"].tolist() == [20.0]
    assert frame.loc[bad, "p_N"].isna().all() and frame.loc[~bad, "p_N"].notna().all()
    assert all(np.isfinite(v) for v in res.probabilities.values())
    assert json.loads(res.to_json())["windows"][4]["p_N"] is None


def test_bad_inputs(model_dir):
    with pytest.raises(SignalError, match="needs at least 2.5 s"):
        classify_rhythm(simulate(duration=2, fs=250.0, seed=1), model_dir)
    flat = simulate(duration=20, fs=250.0, leads=["II"], seed=1)
    flat.signal = np.full_like(flat.signal, np.nan)
    with pytest.raises(SignalError, match="no finite sample"):
        classify_rhythm(flat, model_dir)
    with pytest.raises(SignalError, match="classify_rhythm needs a Record"):
        classify_rhythm(42, model_dir)


def test_missing_and_wrong_models(model_dir, monkeypatch, tmp_path):
    from ecgscope.models import pretrained

    monkeypatch.setattr(pretrained, "PRETRAINED_DIR", tmp_path)  # a copy of ecgscope without rhythm-default
    with pytest.raises(ModelError, match="rhythm-default.*not installed") as info:
        classify_rhythm(simulate(duration=20, fs=250.0, seed=1))
    assert "checkpoint folder" in info.value.fix
    monkeypatch.undo()
    with pytest.raises(ModelError, match="no model"):
        load_rhythm_model(tmp_path / "nowhere")
    with pytest.raises(ModelError, match="not a rhythm-estimator card"):
        load_rhythm_model(pretrained.default_beat_model_dir())
    from ecgscope.models.rhythm import create_rhythm_estimator

    with pytest.raises(ModelError, match="not fitted"):
        load_rhythm_model(create_rhythm_estimator("resnet1d-rhythm"))


def test_models_are_cached_and_objects_accepted(model_dir, af_record):
    loaded = load_rhythm_model(model_dir)
    assert load_rhythm_model(str(model_dir)) is loaded
    via_object = classify_rhythm(af_record, loaded.estimator)
    assert via_object.model == "resnet1d-rhythm"
    np.testing.assert_allclose(via_object.window_proba, classify_rhythm(af_record, loaded).window_proba)


# ------------------------------------------------------------------ the analyze() hook
def test_detector_finds_the_af_episode(model_dir, af_record):
    report = analyze(af_record, beat_model=None, rhythm_model=str(model_dir))
    af = report.episodes("AF")
    assert len(af) == 1
    assert abs(af[0].start_s - 50) < 3 and abs(af[0].end_s - 110) < 3
    assert af[0].confidence > 0.5 and af[0].evidence["p_af_model"] == pytest.approx(af[0].confidence)
    assert af[0].evidence["irregular_fraction"] > 0.5  # edges from the RR rule
    sinus = [e for e in report.rhythm if e.rhythm == "sinus"]
    assert sinus and sinus[0].start_s == 0.0 and sinus[-1].end_s == pytest.approx(150.0)
    assert report.provenance.models["rhythm"]["card_hash"] == load_rhythm_model(model_dir).hash
    assert "rhythm model tiny" in report.provenance.rhythm_method


class _StubEstimator:
    """Window estimator stand-in: P(AF) = 1 for 10-s windows whose middle falls in ``af``, else P(N) = 1."""

    classes_ = ("N", "A", "O", "~")
    estimator_name = "stub"
    leads_ = ("II",)
    options = {"pooling": "mean", "q": 1.0}
    spec = WindowSpec(fs=100.0, window_s=10.0, hop_s=10.0, bandpass=None, hrv=False)

    def __init__(self, af):
        self.af, self.net_ = af, object()

    def _check_fitted(self):
        return self.net_

    def predict_windows(self, data, workers=None):
        n = data.signals[0].shape[-1]
        starts = window_starts(n, int(10 * data.fs), int(10 * data.fs)) / data.fs
        mid = starts + 5.0
        p = np.zeros((starts.size, 4), np.float32)
        hit = np.zeros(starts.size, bool)
        for a, b in self.af:
            hit |= (mid > a) & (mid < b)
        p[hit, 1], p[~hit, 0] = 1.0, 1.0
        return [(starts, p)]

    def pool(self, windows):
        return np.stack([p.mean(axis=0) for _, p in windows])


def test_detector_adds_model_only_episodes_with_window_edges():
    sinus = simulate(duration=150, fs=250.0, leads=["II"], seed=5)  # regular RR: the rule finds nothing
    report = analyze(sinus, beat_model=None, rhythm_model=ModelRhythmDetector(_StubEstimator([(60, 120)])))
    af = report.episodes("AF")
    assert [(e.start_s, e.end_s) for e in af] == [(60.0, 120.0)]
    assert af[0].evidence["irregular_fraction"] < 0.2 and af[0].confidence == 1.0  # measured: regular RR
    short = analyze(sinus, beat_model=None, rhythm_model=ModelRhythmDetector(_StubEstimator([(60, 80)])))
    assert short.episodes("AF") == []  # 20 s of model AF is shorter than an AF episode (30 s)


def test_detector_drops_rule_episodes_the_model_rejects(af_record):
    report = analyze(af_record, beat_model=None, rhythm_model=ModelRhythmDetector(_StubEstimator([])))
    assert report.episodes("AF") == []
    assert all(e.rhythm == "sinus" and e.confidence == 1.0 for e in report.rhythm)


def test_detector_moves_window_edges_to_the_rr_change_point():
    # AF from 55 to 105 s; the model's AF windows end 5 s outside or inside it (a window half AF can go
    # either way); the RR change point brings the edges back.
    rec = simulate(duration=150, fs=250.0, leads=["II"], af_episodes=[(55, 105)], seed=11)
    for windows in ([(50, 110)], [(60, 100)]):
        report = analyze(rec, beat_model=None, rhythm_model=ModelRhythmDetector(_StubEstimator(windows)))
        (af,) = report.episodes("AF")
        assert abs(af.start_s - 55) < 3 and abs(af.end_s - 105) < 3, windows
        assert af.evidence["irregular_fraction"] > 0.5


def test_detector_cuts_rule_episodes_to_the_model_span():
    # RR-irregular from 20 s (multifocal-looking sinus arrhythmia is not simulated, so AF stands in) but the
    # model sees AF only from 80 s: the rule's early onset falls back to the model's, then to the RR change point.
    rec = simulate(duration=180, fs=250.0, leads=["II"], af_episodes=[(20, 150)], seed=3)
    report = analyze(rec, beat_model=None, rhythm_model=ModelRhythmDetector(_StubEstimator([(80, 150)])))
    (af,) = report.episodes("AF")
    assert 65 <= af.start_s <= 90 and abs(af.end_s - 150) < 3
    plain = analyze(rec, beat_model=None, rhythm_model=ModelRhythmDetector(_StubEstimator([(20, 150)])))
    assert abs(plain.episodes("AF")[0].start_s - 20) < 3


def test_refine_edge_needs_irregular_rr_on_the_af_side():
    from ecgscope.analysis.rhythm import _refine_edge

    t = np.arange(60) * 0.8
    irregular = np.zeros(59)
    irregular[25:] = 1.0
    measured = np.ones(59, bool)
    assert _refine_edge(t, irregular, measured, 24.0, 10.0, 0.45, onset=True) == pytest.approx(t[25])
    assert _refine_edge(t, np.zeros(59), measured, 24.0, 10.0, 0.45, onset=True) is None  # regular: no edge
    assert _refine_edge(t, 1.0 - irregular, measured, 24.0, 10.0, 0.45, onset=False) == pytest.approx(t[25])
