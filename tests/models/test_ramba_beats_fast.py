"""ramba_beats' fast record path (``record_logits``) equals the plain forward on the context layout."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from ecgscope.datasets.beats import BeatDatasetConfig, _with_context, extract_beats
from ecgscope.models import create_model
from ecgscope.training.normalisation import apply_normalisation, fit_normalisation


def _model(k: int, beat_leads: int, own: int, m: int, window: int, mr: bool = True):
    in_leads, n_rr = own + 2 * k * beat_leads, m + 2 * k * (m + 1)
    model = create_model("ramba_beats", in_leads=in_leads, n_classes=4, window=window, n_rr=n_rr, variant="tiny",
                         context_beats=k, beat_leads=beat_leads, seed=0,
                         minirocket_features=84 if mr else 0, mr_fit_beats=64)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():  # a trained-looking beat-tokenizer norm, so its folding into the fast path is exercised
        bn = model.beat_tokenizer.tokenizer.mix[0]
        bn.running_mean.normal_(0.0, 0.5, generator=gen)
        bn.running_var.uniform_(0.5, 2.0, generator=gen)
        bn.weight.uniform_(0.5, 1.5, generator=gen)
        bn.bias.normal_(0.0, 0.2, generator=gen)
        model.beat_tokenizer.gate.logit.normal_(0.0, 1.0, generator=gen)
    return model


def _stats(x_full: np.ndarray, rr_full: np.ndarray, rng) -> dict:
    """Per-channel statistics that differ between the neighbour blocks (as real training statistics do)."""
    stats = fit_normalisation(x_full, rr_full)
    stats["x_mean"] = (np.asarray(stats["x_mean"]) + rng.normal(0, 0.05, len(stats["x_mean"]))).tolist()
    stats["x_std"] = (np.asarray(stats["x_std"]) * rng.uniform(0.8, 1.25, len(stats["x_std"]))).tolist()
    stats["rr_mean"] = (np.asarray(stats["rr_mean"]) + rng.normal(0, 0.05, len(stats["rr_mean"]))).tolist()
    return stats


@pytest.mark.parametrize("k,beat_leads,n", [(2, 1, 9), (1, 2, 5), (0, 1, 4), (3, 1, 2)])
def test_record_logits_equal_forward_on_the_context_layout(k, beat_leads, n):
    """Every beat (edges included: n <= 2k leaves beats with neighbours past both ends) and several chunks."""
    rng = np.random.default_rng(k * 10 + beat_leads)
    window, m = 64, 3
    own_channels = 2 * beat_leads  # main window(s) + template per lead
    config = BeatDatasetConfig(leads=tuple(["II", "V1"][:beat_leads]), context_beats=k, window=(0.25, 0.39),
                               fs=100.0, rr_features=("pre_local", "post_local", "local_record"))
    x = rng.normal(0.1, 0.4, (n, own_channels, window)).astype(np.float32)
    rr = rng.normal(1.0, 0.2, (n, m)).astype(np.float32)
    x_full, rr_full = _with_context(x, rr, config) if k else (x, rr)
    assert x_full.shape[1] == own_channels + 2 * k * beat_leads and rr_full.shape[1] == len(config.rr_names)
    stats = _stats(x_full, rr_full, rng)
    model = _model(k, beat_leads, own_channels, m, window).eval()
    model.prepare(rng.normal(0, 1, (32, x_full.shape[1], window)).astype(np.float32))
    assert model.prepared
    xs, rs = apply_normalisation(x_full, rr_full, stats)
    with torch.no_grad():
        plain = model(torch.from_numpy(xs), torch.from_numpy(rs))
    for batch_size in (1, 3, 256):
        fast = model.record_logits(x, rr, stats, batch_size=batch_size)
        assert fast.shape == plain.shape
        torch.testing.assert_close(fast, plain, rtol=0, atol=2e-5)
        p_fast, p_plain = torch.softmax(fast, 1), torch.softmax(plain, 1)
        assert float((p_fast - p_plain).abs().max()) < 1e-5


def test_record_logits_handle_an_empty_record_and_reject_a_context_layout():
    model = _model(2, 1, 2, 3, 64, mr=False)
    stats = {"x_mean": [0.0] * 6, "x_std": [1.0] * 6, "rr_mean": [0.0] * 19, "rr_std": [1.0] * 19}
    assert model.record_logits(np.zeros((0, 2, 64), np.float32), np.zeros((0, 3), np.float32), stats).shape == (0, 4)
    from ecgscope.errors import ModelError

    with pytest.raises(ModelError):
        model.record_logits(np.zeros((3, 6, 64), np.float32), np.zeros((3, 19), np.float32), stats)


def test_context_free_beats_are_the_first_channels_of_the_context_beats(small_record):
    """What classify_beats' fast path relies on: the beat set with context_beats=0 is the context set's own part."""
    config = BeatDatasetConfig(leads=("II",), fs=125.0, context_beats=2, template=True, extra_windows=((0.6, 0.6),),
                               drop_invalid=False, normalize="median")
    pos = small_record.annotations["atr"].sample
    full = extract_beats(small_record, config, positions=pos)
    own = extract_beats(small_record, dataclasses.replace(config, context_beats=0), positions=pos)
    assert len(own) == len(full) == pos.size
    np.testing.assert_array_equal(own.x, full.x[:, :config.beat_channels])
    np.testing.assert_array_equal(own.rr, full.rr[:, :len(config.rr_features)])
    np.testing.assert_array_equal(_with_context(own.x, own.rr, config)[0], full.x)


def test_classify_beats_gives_the_same_frame_through_both_paths(monkeypatch):
    from ecgscope.analysis import classify as cl
    from ecgscope.synthesis import simulate

    record = simulate(duration=40.0, fs=250.0, leads=("II",), pvc_rate=0.1, apc_rate=0.05, seed=3)
    config = BeatDatasetConfig(leads=("II",), fs=125.0, window=(0.25, 0.45), extra_windows=((1.0, 1.0),),
                               template=True, normalize="median", context_beats=3, drop_invalid=False,
                               exclude_paced=False, rr_features=("pre_local", "post_local", "pre_record"))
    beats = extract_beats(record, config)
    stats = fit_normalisation(beats.x, beats.rr)
    model = _model(3, 1, config.beat_channels, len(config.rr_features), config.samples).eval()
    model.prepare(apply_normalisation(beats.x, beats.rr, stats)[0])
    clf = cl.BeatClassifier(Path("ramba-test"), model, {"classes": list(config.classes), "normalisation": stats},
                            config, "test")
    fast = cl.classify_beats(record, clf)
    monkeypatch.setattr(cl, "_USE_RECORD_LOGITS", False)
    plain = cl.classify_beats(record, clf)
    assert len(fast) > 2 * 3 + 10
    assert fast["label"].tolist() == plain["label"].tolist()
    probs = [f"p_{c}" for c in config.classes]
    np.testing.assert_allclose(fast[probs].to_numpy(), plain[probs].to_numpy(), rtol=0, atol=1e-5)
    np.testing.assert_array_equal(fast["sample"].to_numpy(), plain["sample"].to_numpy())


def test_trained_model_on_mitdb_record_both_paths(shared, monkeypatch):
    """On a real record with a trained checkpoint, when both are available (skips otherwise)."""
    import ecgscope
    from ecgscope.analysis import classify as cl

    folder = Path(__file__).resolve().parents[2] / "runs" / "ramba-beats-ds1"
    if not (folder / "model.safetensors").is_file():
        pytest.skip("no trained ramba_beats checkpoint in runs/ramba-beats-ds1")
    record = ecgscope.read(shared("mitdb", "101"))
    fast = cl.classify_beats(record, folder)
    monkeypatch.setattr(cl, "_USE_RECORD_LOGITS", False)
    plain = cl.classify_beats(record, folder)
    probs = [c for c in fast.columns if c.startswith("p_")]
    assert fast["label"].tolist() == plain["label"].tolist()
    np.testing.assert_allclose(fast[probs].to_numpy(), plain[probs].to_numpy(), rtol=0, atol=1e-5)
