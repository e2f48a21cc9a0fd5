"""The shared contract every registered beat model passes (parametrised over ``list_models()``)."""

from __future__ import annotations

import pytest
import torch

from ecgscope.errors import ModelError
from ecgscope.models import create_model, list_models, load_checkpoint, model_class, save_checkpoint

from .conftest import card_for, separable_batch

MODELS = list_models()
# "tiny" and "base" everywhere (a model without them contributes its first two variants).
FEW = [(name, v) for name in MODELS
       for v in ([x for x in ("tiny", "base") if x in model_class(name).variants]
                 or list(model_class(name).variants)[:2])]
ALL = [(name, v) for name in MODELS for v in model_class(name).variants]
ids = [f"{n}-{v}" for n, v in FEW]


def build(name, variant="tiny", in_leads=1, n_classes=4, window=128, n_rr=0, seed=0, **kw):
    return create_model(name, in_leads=in_leads, n_classes=n_classes, window=window, n_rr=n_rr,
                        variant=variant, seed=seed, **kw)


def inputs(model, batch=3, seed=0, scale=1.0):
    gen = torch.Generator().manual_seed(seed)
    x = scale * torch.randn(batch, model.in_leads, model.window, generator=gen)
    rr = 0.5 + torch.rand(batch, model.n_rr, generator=gen) if model.n_rr else None
    return x, rr


def test_the_three_architectures_are_registered():
    assert {"resnet1d", "inception_time", "transnet"} <= set(MODELS)
    assert {"tiny", "base", "large"} <= set(model_class("inception_time").variants)


@pytest.mark.parametrize(("name", "variant"), FEW, ids=ids)
def test_output_and_feature_shapes(name, variant):
    for window in (128, 256, 360):
        for in_leads in (1, 2):
            for n_rr in (0, 4):
                model = build(name, variant, in_leads=in_leads, n_classes=5, window=window, n_rr=n_rr).eval()
                x, rr = inputs(model)
                with torch.no_grad():
                    logits = model(x, rr)
                    feats = model.features(x, rr)
                assert logits.shape == (3, 5) and logits.dtype == torch.float32
                assert feats.shape == (3, model.feature_dim)
                assert torch.isfinite(logits).all()


@pytest.mark.parametrize(("name", "variant"), ALL, ids=[f"{n}-{v}" for n, v in ALL])
def test_every_variant_builds_and_runs(name, variant):
    model = build(name, variant, window=256, n_rr=4).train()
    x, rr = inputs(model, batch=2)
    logits = model(x, rr)
    assert logits.shape == (2, 4)
    logits.sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


@pytest.mark.parametrize("name", MODELS)
def test_variants_grow_with_size(name):
    variants = model_class(name).variants
    sizes = [build(name, v, window=256).n_parameters() for v in ("tiny", "base", "large") if v in variants]
    assert sizes == sorted(sizes) and len(set(sizes)) == len(sizes)


@pytest.mark.parametrize(("name", "variant"), FEW, ids=ids)
def test_a_few_training_steps_lower_the_loss(name, variant):
    model = build(name, variant, in_leads=2, n_classes=2, window=128, n_rr=4, seed=3).train()
    x, rr, y = separable_batch(16, 2, 128, 4, seed=3)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    torch.manual_seed(0)  # dropout masks
    for _ in range(8):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x, rr), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0], losses


@pytest.mark.parametrize(("name", "variant"), FEW, ids=ids)
def test_save_load_round_trip_gives_identical_logits(name, variant, tmp_path):
    model = build(name, variant, in_leads=2, n_classes=4, window=256, n_rr=4, dropout=0.0).train()
    x, rr = inputs(model, batch=4)
    model(x, rr)  # moves BatchNorm running statistics away from their initial values
    model.eval()
    with torch.no_grad():
        expected = model(x, rr)
    save_checkpoint(model, card_for(model), tmp_path / "ckpt")
    loaded, card = load_checkpoint(tmp_path / "ckpt")
    assert type(loaded) is type(model) and not loaded.training
    assert card["architecture"] == name and card["model_kwargs"]["variant"] == variant
    assert card["model_kwargs"]["dropout"] == 0.0 and card["window"]["samples"] == 256
    with torch.no_grad():
        assert torch.equal(loaded(x, rr), expected)


@pytest.mark.parametrize("name", MODELS)
def test_same_seed_same_model_and_output(name):
    before = torch.random.get_rng_state()
    a, b, c = (build(name, "tiny", n_rr=4, seed=s).eval() for s in (7, 7, 8))
    assert torch.equal(torch.random.get_rng_state(), before)  # seeding does not disturb the global stream
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)
    x, rr = inputs(a)
    with torch.no_grad():
        assert torch.equal(a(x, rr), b(x, rr))
        assert not torch.equal(a(x, rr), c(x, rr))


@pytest.mark.parametrize(("name", "variant"), FEW, ids=ids)
def test_batch_of_one_in_eval_mode_matches_the_batched_rows(name, variant):
    model = build(name, variant, window=256, n_rr=4).eval()
    x, rr = inputs(model, batch=4)
    with torch.no_grad():
        batched = model(x, rr)
        single = torch.cat([model(x[i:i + 1], rr[i:i + 1]) for i in range(4)])
    assert single.shape == (4, 4)
    torch.testing.assert_close(single, batched, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("name", "variant"), FEW, ids=ids)
def test_target_layer_gives_a_feature_map_with_gradients(name, variant):
    model = build(name, variant, window=256, n_rr=4).eval()
    seen = {}

    def hook(module, args, output):
        output.retain_grad()
        seen["map"] = output

    handle = model.target_layer.register_forward_hook(hook)
    try:
        x, rr = inputs(model, batch=2)
        model(x, rr)[:, 1].sum().backward()
    finally:
        handle.remove()
    fmap = seen["map"]
    assert fmap.dim() == 3 and fmap.shape[0] == 2 and 1 < fmap.shape[2] <= 256
    assert fmap.grad is not None and fmap.grad.abs().sum() > 0


@pytest.mark.parametrize("mode", ["eval", "train"])
@pytest.mark.parametrize("name", MODELS)
def test_no_nan_with_extreme_or_flat_input(name, mode):
    model = build(name, "tiny", window=256, n_rr=4)
    model.train(mode == "train")
    x, rr = inputs(model, batch=2, scale=1e4)
    cases = [(x, rr), (x + 5e3, rr), (torch.zeros_like(x), rr), (x, rr * 100)]
    with torch.no_grad():
        for xi, ri in cases:
            assert torch.isfinite(model(xi, ri)).all()
            assert torch.isfinite(model.features(xi, ri)).all()


@pytest.mark.parametrize("name", MODELS)
def test_bad_inputs_raise_model_error(name):
    model = build(name, "tiny", in_leads=2, window=128, n_rr=4).eval()
    x, rr = inputs(model, batch=2)
    for bad_x in (x[:, :1], x[:, :, :100], x[0]):
        with pytest.raises(ModelError, match="expected"):
            model(bad_x, rr)
    with pytest.raises(ModelError, match="rr=None"):
        model(x)
    with pytest.raises(ModelError, match="rr has shape"):
        model(x, rr[:, :3])
    no_rr = build(name, "tiny", in_leads=2, window=128, n_rr=0).eval()
    with pytest.raises(ModelError, match="n_rr=0"):
        no_rr(x, rr)
    assert no_rr(x, rr[:, :0]).shape == (2, 4)


@pytest.mark.parametrize("name", MODELS)
def test_bad_constructor_arguments_raise_model_error(name):
    with pytest.raises(ModelError, match="unknown variant"):
        build(name, "huge")
    with pytest.raises(ModelError, match="unknown architecture keyword"):
        build(name, "tiny", not_a_knob=3)
    with pytest.raises(ModelError, match="shorter than"):
        build(name, "tiny", window=8)
    with pytest.raises(ModelError, match="n_classes"):
        build(name, "tiny", n_classes=0)
    with pytest.raises(ModelError, match="n_rr"):
        build(name, "tiny", n_rr=-1)
