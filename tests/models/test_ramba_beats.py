"""ramba_beats beyond the shared contract: the beat-sequence layout, MiniRocket preparation, ablations, end to end."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ecgscope.errors import ModelError
from ecgscope.models import create_model, load_checkpoint, save_checkpoint

from .conftest import card_for

K, M = 2, 3  # neighbours per side, RR features per beat
N_RR = M + 2 * K * (M + 1)


def build(k=K, in_leads=2 + 2 * K, n_rr=N_RR, window=64, seed=0, **kw):
    """A tiny model for beats of 2 own channels (main + template) and 2k neighbour main windows."""
    return create_model("ramba_beats", in_leads=in_leads, n_classes=3, window=window, n_rr=n_rr, variant="tiny",
                        context_beats=k, seed=seed, **kw)


def inputs(batch=4, seed=0, in_leads=2 + 2 * K, n_rr=N_RR, window=64):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, in_leads, window, generator=gen), torch.randn(batch, n_rr, generator=gen)


def test_neighbour_windows_and_their_rr_change_the_centre_prediction():
    model = build().eval()
    x, rr = inputs()
    with torch.no_grad():
        base = model(x, rr)
        x2 = x.clone()
        x2[:, -1] += 3.0  # the main window of beat i+2
        rr2 = rr.clone()
        rr2[:, M:M + M + 1] = 0.0  # beat i-2's RR features and flag
        assert not torch.allclose(model(x2, rr), base)
        assert not torch.allclose(model(x, rr2), base)
        assert model.beat_tokens(x, rr).shape == (4, 2 * K + 1, 32)


def test_beat_tokens_are_in_time_order_with_shared_tokenizer():
    model = build(minirocket_features=0, rr_token=False, n_layers=1).eval()
    x, rr = inputs(batch=1)
    seen = {}
    handle = model.beat_tokenizer.register_forward_pre_hook(lambda m, args: seen.update(x=args[0]))
    with torch.no_grad():
        model(x, rr)
    handle.remove()
    beats = seen["x"][:, 0]  # (2k+1, window): -2, -1, centre, +1, +2
    for j, channel in enumerate([2, 3, 0, 4, 5]):
        torch.testing.assert_close(beats[j], x[0, channel])


def test_layout_mismatches_raise_model_error():
    with pytest.raises(ModelError, match="cannot hold"):
        build(in_leads=3)  # 2k = 4 neighbour windows do not fit in 3 channels
    with pytest.raises(ModelError, match="n_rr"):
        build(n_rr=N_RR + 1)


def test_prepare_fits_minirocket_on_given_beats_and_survives_a_checkpoint(tmp_path):
    model = build()
    assert not model.prepared
    x, rr = inputs(batch=64, seed=1)
    model.eval()
    with torch.no_grad():
        before = model(x[:4], rr[:4])
    model.prepare(x.numpy(), rr.numpy())
    assert model.prepared and model.minirocket.n_channels == 2  # the centre beat's own channels only
    assert float(model.mr_std.min()) >= 1e-3 and float(model.mr_mean.abs().sum()) > 0
    with torch.no_grad():
        after = model(x[:4], rr[:4])
    assert not torch.allclose(before, after)
    card = card_for(model, leads=[f"c{i}" for i in range(model.in_leads)],
                    rr_features=[f"r{i}" for i in range(model.n_rr)])
    save_checkpoint(model, card, tmp_path / "ckpt")
    loaded, _ = load_checkpoint(tmp_path / "ckpt")
    assert loaded.prepared
    with torch.no_grad():
        torch.testing.assert_close(loaded(x[:4], rr[:4]), after)


@pytest.mark.parametrize("ablation", [{"ssm": False}, {"minirocket_features": 0}, {"rr_token": False},
                                      {"minirocket_features": 0, "rr_token": False}])
def test_ablations_build_train_and_differ_from_the_full_model(ablation):
    full, model = build(), build(**ablation).train()
    assert model.n_parameters() < full.n_parameters()
    x, rr = inputs()
    model(x, rr).sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_trainer_prepares_the_model_on_training_patients_only():
    from ecgscope.datasets.beats import BeatSet
    from ecgscope.training.config import TrainConfig
    from ecgscope.training.trainer import fit

    rng = np.random.default_rng(0)
    n = 48
    beats = BeatSet(rng.normal(size=(n, 2 + 2 * K, 64)).astype(np.float32),
                    rng.normal(size=(n, N_RR)).astype(np.float32), np.arange(n) % 3,
                    np.repeat(["a", "b", "c"], n // 3), np.repeat(["a", "b", "c"], n // 3), np.arange(n),
                    ("N", "S", "V"), tuple(f"r{i}" for i in range(N_RR)))
    model = build()
    result = fit(model, beats.by_patients(["a", "b"]), beats.by_patients(["c"]),
                 TrainConfig(epochs=1, batch_size=16, progress=False, ema=True))
    assert result.model.prepared
    assert result.info["leak_check"]["checked_beats"]["model preparation"] == 32


@pytest.mark.slow
def test_train_checkpoint_and_classify_with_context_beats(tmp_path):
    """A context-beat model trained by the experiment runner is read back by classify_beats with the same inputs."""
    from ecgscope import write
    from ecgscope.analysis.classify import classify_beats, load_beat_classifier
    from ecgscope.synthesis import simulate
    from ecgscope.training.config import DataConfig, ExperimentConfig, ModelConfig, TrainConfig
    from ecgscope.training.experiment import train_experiment

    names = ["r1", "r2", "r3"]
    for i, name in enumerate(names):
        rec = simulate(duration=40.0, fs=360.0, heart_rate=75.0, leads=("II",), pvc_rate=0.15, apc_rate=0.1, seed=i)
        rec.annotations = {"atr": rec.annotations["atr"]}
        write(rec, tmp_path / "db" / f"{name}.hea")
    data = DataConfig(database=str(tmp_path / "db"), records=tuple(names), classes=("N", "S", "V"), fs=180.0,
                      template=True, context_beats=2, rr_features=("pre_local", "post_local"),
                      cache_dir=str(tmp_path / "cache"))
    cfg = ExperimentConfig(name="ctx", data=data,
                           model=ModelConfig("ramba_beats", "tiny", {"context_beats": 2, "beat_leads": 1}),
                           train=TrainConfig(epochs=1, batch_size=32, val_patients=1, max_steps_per_epoch=3,
                                             progress=False))
    outcome = train_experiment(cfg, tmp_path / "run")
    card = outcome.card
    assert card["leads"][:2] == ["II", "II-template"] and card["leads"][-1] == "II@beat+2"
    assert len(card["leads"]) == 2 + 4 and card["window"]["context_beats"] == 2
    assert card["rr_features"][-1] == "valid@+2" and len(card["rr_features"]) == 2 + 4 * 3
    clf = load_beat_classifier(tmp_path / "run")
    assert clf.config.context_beats == 2 and clf.model.prepared
    rec = simulate(duration=20.0, fs=250.0, heart_rate=70.0, leads=("II",), pvc_rate=0.2, seed=9)
    frame = classify_beats(rec, model=tmp_path / "run")
    assert len(frame) > 10 and np.allclose(frame[["p_N", "p_S", "p_V"]].sum(1), 1, atol=1e-5)
