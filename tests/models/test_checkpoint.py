"""Checkpoints (safetensors + card.json), card validation, provenance hash, ONNX export."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ecgscope.errors import ModelError
from ecgscope.models import (
    REQUIRED_CARD_KEYS, card_hash, create_model, export_onnx, list_models, load_checkpoint, save_checkpoint,
    validate_card,
)
from ecgscope.models.checkpoint import read_card

from .conftest import card_for


@pytest.fixture
def model():
    return create_model("resnet1d", in_leads=2, n_classes=4, window=128, n_rr=4, variant="tiny",
                        seed=1).eval()


@pytest.fixture
def saved(model, tmp_path):
    return save_checkpoint(model, card_for(model), tmp_path / "ckpt")


def test_saved_card_is_complete_and_json(saved, model):
    card = json.loads((saved / "card.json").read_text())
    assert set(REQUIRED_CARD_KEYS) <= set(card)
    assert card["architecture"] == "resnet1d"
    assert card["model_kwargs"] == {"in_leads": 2, "n_classes": 4, "window": 128, "n_rr": 4,
                                    "variant": "tiny"}
    assert card["window"] == {"before_s": 0.25, "after_s": 0.45, "samples": 128}
    assert card["metrics"]["macro_f1"] == 0.5  # numpy scalars become JSON numbers
    assert card["ecgscope_version"] and card["created"].startswith("20")
    assert (saved / "model.safetensors").stat().st_size > 4 * model.n_parameters()
    assert not list(saved.glob(".*tmp"))


def test_load_restores_on_cpu_in_eval_mode(saved, model):
    loaded, card = load_checkpoint(saved, map_location="cpu")
    assert not loaded.training and next(loaded.parameters()).device.type == "cpu"
    x = torch.randn(3, 2, 128)
    rr = torch.rand(3, 4)
    with torch.no_grad():
        assert torch.equal(loaded(x, rr), model(x, rr))
    assert card == read_card(saved)


def test_wrapped_models_are_unwrapped(model, tmp_path):
    save_checkpoint(torch.nn.DataParallel(model), card_for(model), tmp_path / "dp")
    loaded, _ = load_checkpoint(tmp_path / "dp")
    assert set(loaded.state_dict()) == set(model.state_dict())


def test_missing_card_key_is_named(model, tmp_path):
    card = card_for(model)
    del card["rr_features"]
    with pytest.raises(ModelError, match="lacks rr_features"):
        save_checkpoint(model, card, tmp_path / "c")
    assert not (tmp_path / "c").exists()  # nothing written for an invalid card


@pytest.mark.parametrize(("key", "value", "message"), [
    ("classes", ["N", "S", "V"], "n_classes=4 disagrees with classes"),
    ("classes", ["N", "N", "V", "F"], "distinct"),
    ("leads", ["MLII"], "in_leads=2 disagrees with leads"),
    ("rr_features", ["pre_rr"], "n_rr=4 disagrees with rr_features"),
    ("fs", -360, "positive sampling rate"),
    ("fs", "360", "positive sampling rate"),
    ("window", {"before_s": 0.25}, "window must be an object"),
    ("window", {"before_s": 0.25, "after_s": 0.45, "samples": 100}, "window=128 disagrees"),
    ("normalisation", "zscore", "normalisation must be an object"),
])
def test_card_values_are_validated(model, tmp_path, key, value, message):
    with pytest.raises(ModelError, match=message):
        save_checkpoint(model, card_for(model, **{key: value}), tmp_path / "c")


def test_card_that_contradicts_the_model(model, tmp_path):
    with pytest.raises(ModelError, match="disagrees with the model"):
        save_checkpoint(model, card_for(model, architecture="transnet"), tmp_path / "c")
    with pytest.raises(ModelError, match="not a registered ecgscope model"):
        save_checkpoint(torch.nn.Linear(2, 2), card_for(model), tmp_path / "c")


def test_validate_card_rejects_non_objects():
    with pytest.raises(ModelError, match="not a JSON object"):
        validate_card(["architecture"])


def test_corrupt_or_missing_files(saved, tmp_path):
    with pytest.raises(ModelError, match="folder not found"):
        load_checkpoint(tmp_path / "nowhere")
    weights = saved / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])  # truncated
    with pytest.raises(ModelError, match="damaged"):
        load_checkpoint(saved)
    weights.write_bytes(b"\x00" * 64)  # garbage
    with pytest.raises(ModelError, match="damaged"):
        load_checkpoint(saved)
    weights.unlink()
    with pytest.raises(ModelError, match="no model.safetensors"):
        load_checkpoint(saved)
    (saved / "card.json").write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        load_checkpoint(saved)
    (saved / "card.json").unlink()
    with pytest.raises(ModelError, match="no card.json"):
        load_checkpoint(saved)


def test_unknown_architecture_in_card(saved):
    card = json.loads((saved / "card.json").read_text())
    card["architecture"] = "mystery_net"
    (saved / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="unknown model 'mystery_net'") as err:
        load_checkpoint(saved)
    assert "card.json" in str(err.value)


def test_bad_model_kwargs_in_card(saved):
    card = json.loads((saved / "card.json").read_text())
    card["model_kwargs"]["variant"] = "colossal"
    (saved / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="cannot rebuild the model: .*unknown variant"):
        load_checkpoint(saved)


def test_weights_that_do_not_match_the_architecture(saved):
    card = json.loads((saved / "card.json").read_text())
    card["model_kwargs"]["variant"] = "base"  # same architecture, other widths
    (saved / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="weights do not match architecture 'resnet1d'.*shape"):
        load_checkpoint(saved)
    card["architecture"] = "transnet"
    card["model_kwargs"]["variant"] = "tiny"
    (saved / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="weights do not match architecture 'transnet'.*missing"):
        load_checkpoint(saved)


def test_card_hash_tracks_weights_and_card(saved, model):
    first = card_hash(saved)
    assert len(first) == 64 and first == card_hash(saved)
    card = json.loads((saved / "card.json").read_text())
    (saved / "card.json").write_text(json.dumps(card, indent=None, sort_keys=False))  # reformatted only
    assert card_hash(saved) == first
    card["metrics"]["macro_f1"] = 0.51
    (saved / "card.json").write_text(json.dumps(card))
    changed_card = card_hash(saved)
    assert changed_card != first
    with torch.no_grad():
        next(model.parameters()).add_(1e-3)
    save_checkpoint(model, card, saved)
    assert card_hash(saved) not in (first, changed_card)


def test_export_onnx_checks_its_arguments(model, tmp_path):
    with pytest.raises(ModelError, match="window=256 but the model was built with window=128"):
        export_onnx(model, tmp_path / "m.onnx", window=256)
    assert not (tmp_path / "m.onnx").exists()


def _onnx_round_trip(model, path):
    import onnxruntime as ort

    was_training = model.training
    export_onnx(model, path, model.window, model.in_leads, model.n_rr)  # parity to 1e-4 checked inside
    assert model.training == was_training  # export restores the caller's mode
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).normal(size=(5, model.in_leads, model.window)).astype(np.float32)
    feeds = {"x": x}
    if model.n_rr:
        feeds["rr"] = np.full((5, model.n_rr), 0.8, np.float32)
    got = session.run(["logits"], feeds)[0]
    was_training = model.training
    with torch.no_grad():
        rr = torch.from_numpy(feeds["rr"]) if model.n_rr else None
        expected = model.eval()(torch.from_numpy(x), rr).numpy()
    model.train(was_training)
    assert got.shape == (5, model.n_classes)  # dynamic batch: exported with 2, run with 5
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)


def test_onnx_parity_transnet(tmp_path):
    model = create_model("transnet", in_leads=2, n_classes=4, window=128, n_rr=4, variant="tiny", seed=0)
    _onnx_round_trip(model.train(), tmp_path / "transnet.onnx")


@pytest.mark.slow
@pytest.mark.parametrize("n_rr", [0, 4])
@pytest.mark.parametrize("name", list_models())
def test_onnx_parity_every_model(name, n_rr, tmp_path):
    model = create_model(name, in_leads=1, n_classes=5, window=256, n_rr=n_rr, variant="base", seed=0).eval()
    _onnx_round_trip(model, tmp_path / f"{name}.onnx")
