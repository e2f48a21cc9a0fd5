"""Architecture-specific behaviour: shared blocks, TransNet tokens and attention, options."""

from __future__ import annotations

import pytest
import torch

from ecgscope.errors import ModelError
from ecgscope.models import create_model
from ecgscope.models.blocks import (
    CBAM1d, GlobalPool1d, LearnedPositionalEncoding, ResidualBlock1d, RRFusion, SinusoidalPositionalEncoding,
    SqueezeExcitation1d,
)


def test_rr_fusion_is_identity_without_rr_and_concatenates_with_rr():
    feats = torch.randn(3, 10)
    none = RRFusion(10, 0)
    assert none.out_features == 10 and none(feats) is feats
    fused = RRFusion(10, 4, hidden=8)
    out = fused(feats, torch.rand(3, 4))
    assert out.shape == (3, 18) and torch.equal(out[:, :10], feats)


def test_attention_gates_keep_shape_and_gate_between_zero_and_one():
    x = torch.rand(2, 16, 50) + 0.1
    for block in (SqueezeExcitation1d(16), CBAM1d(16)):
        y = block(x)
        assert y.shape == x.shape
        assert (y >= 0).all() and (y <= x + 1e-6).all()  # sigmoid gates only scale down positive inputs


def test_residual_block_downsamples_with_projection():
    block = ResidualBlock1d(8, 16, 5, stride=2, attention="cbam")
    assert block(torch.randn(2, 8, 45)).shape == (2, 16, 23)
    assert isinstance(ResidualBlock1d(8, 8, 5).shortcut, torch.nn.Identity)


def test_pooling_and_positional_encodings():
    x = torch.randn(2, 4, 9)
    assert torch.equal(GlobalPool1d("avgmax")(x), torch.cat([x.mean(-1), x.amax(-1)], 1))
    tokens = torch.zeros(2, 7, 6)
    sin = SinusoidalPositionalEncoding(6)(tokens)
    assert torch.allclose(sin[0, 0], torch.tensor([0.0, 1.0, 0.0, 1.0, 0.0, 1.0]))
    assert not torch.equal(sin[0, 1], sin[0, 2])
    learned = LearnedPositionalEncoding(6, n_tokens=7)
    assert learned(tokens).shape == (2, 7, 6) and learned(torch.zeros(1, 12, 6)).shape == (1, 12, 6)


@pytest.mark.parametrize("attention", ["se", "cbam"])
def test_resnet_attention_options(attention):
    model = create_model("resnet1d", in_leads=1, n_classes=3, window=128, variant="tiny", attention=attention)
    assert model(torch.randn(2, 1, 128)).shape == (2, 3)
    with pytest.raises(ModelError, match="attention='sparse' is not supported"):
        create_model("resnet1d", in_leads=1, n_classes=3, window=128, attention="sparse")


def test_inception_modules_use_kernels_9_19_39_and_dilation_in_the_deeper_block():
    model = create_model("inception_time", in_leads=1, n_classes=4, window=256, variant="base")
    first, last = model.blocks[0].layers[0], model.blocks[-1].layers[-1]
    assert [c.kernel_size[0] for c in first.branches] == [9, 19, 39]
    assert [c.dilation[0] for c in first.branches] == [1, 1, 1]
    assert [c.dilation[0] for c in last.branches] == [2, 2, 2]
    assert model.feature_dim == 2 * 4 * 16  # GAP + GMP of 4 branches x 16 filters
    with pytest.raises(ModelError, match="depth=5"):
        create_model("inception_time", in_leads=1, n_classes=4, window=256, depth=5)


@pytest.mark.parametrize(("window", "tokens"), [(128, 16), (256, 32), (360, 45)])
def test_transnet_tokens_and_attention_maps(window, tokens):
    model = create_model("transnet", in_leads=2, n_classes=4, window=window, variant="base", n_rr=4).eval()
    x = torch.randn(2, 2, window)
    assert model.n_tokens == tokens
    with torch.no_grad():
        toks = model.tokens(x)
    assert toks.shape == (2, tokens, 64)
    torch.testing.assert_close(model.features(x, torch.ones(2, 4))[:, :64], toks.mean(1))
    maps = model.attention_maps(x)
    assert len(maps) == 2 and maps[0].shape == (2, 4, tokens, tokens)
    torch.testing.assert_close(maps[0].sum(-1), torch.ones(2, 4, tokens))


def test_transnet_learned_positions_and_consistency_checks():
    model = create_model("transnet", in_leads=1, n_classes=4, window=256, variant="tiny",
                         positional="learned")
    assert model.position.table.shape == (32, 32)
    assert model(torch.randn(2, 1, 256)).shape == (2, 4)
    with pytest.raises(ModelError, match="inconsistent"):
        create_model("transnet", in_leads=1, n_classes=4, window=256, d_model=30, heads=4)


def test_feature_mlp_without_waveform_depends_on_the_features_alone():
    model = create_model("feature_mlp", in_leads=2, n_classes=4, window=128, n_rr=6, variant="base",
                         points=0, seed=0).eval()
    rr = torch.randn(5, 6)
    a = model(torch.randn(5, 2, 128), rr)
    b = model(torch.zeros(5, 2, 128), rr)
    torch.testing.assert_close(a, b)
    assert model.feature_dim == model.hparams["rr_hidden"]
    with_wave = create_model("feature_mlp", in_leads=2, n_classes=4, window=128, n_rr=6, variant="base", seed=0)
    assert with_wave.eval()(torch.randn(5, 2, 128), rr).shape == (5, 4)
    with pytest.raises(ModelError, match="no target layer"):
        model.target_layer
    with pytest.raises(ModelError, match="points"):
        create_model("feature_mlp", in_leads=1, n_classes=4, window=128, points=-1)


def test_feature_mlp_members_are_a_mixture_of_independent_heads(tmp_path):
    from ecgscope.models.checkpoint import load_checkpoint, save_checkpoint

    from .conftest import card_for

    model = create_model("feature_mlp", in_leads=1, n_classes=4, window=128, n_rr=4, variant="base",
                         points=0, members=3, seed=0).eval()
    assert len(model.other_heads) == 2
    x, rr = torch.randn(7, 1, 128), torch.randn(7, 4)
    logits = model(x, rr)
    torch.testing.assert_close(logits.exp().sum(dim=1), torch.ones(7))
    heads = [*model.other_heads, torch.nn.ModuleList([model.fusion, model.classifier])]
    embedding = model.embed(x)
    mean = torch.stack([torch.softmax(h[1](h[0](embedding, rr)), dim=1) for h in heads]).mean(dim=0)
    torch.testing.assert_close(logits.exp(), mean)
    one = create_model("feature_mlp", in_leads=1, n_classes=4, window=128, n_rr=4, variant="base",
                       points=0, seed=0).eval()
    assert len(one.other_heads) == 0 and one.n_parameters() * 3 == model.n_parameters()
    save_checkpoint(model, card_for(model), tmp_path / "m")
    again, _ = load_checkpoint(tmp_path / "m")
    torch.testing.assert_close(again.eval()(x, rr), logits)
    with pytest.raises(ModelError, match="members"):
        create_model("feature_mlp", in_leads=1, n_classes=4, window=128, members=0)


def test_mixture_is_the_weighted_mean_of_its_members_probabilities(tmp_path):
    from ecgscope.models.checkpoint import load_checkpoint, save_checkpoint

    from .conftest import card_for

    members = [{"name": "transnet", "variant": "tiny"},
               {"name": "feature_mlp", "variant": "base", "kwargs": {"points": 0, "members": 2}}]
    model = create_model("mixture", in_leads=2, n_classes=4, window=128, n_rr=4, members=members,
                         weights=[3, 1], seed=0).eval()
    assert [type(m).architecture for m in model.members] == ["transnet", "feature_mlp"]
    x, rr = torch.randn(6, 2, 128), torch.randn(6, 4)
    logits = model(x, rr)
    wave, feats = (torch.softmax(m(x, rr), dim=1) for m in model.members)
    torch.testing.assert_close(logits.exp(), 0.75 * wave + 0.25 * feats)
    assert model.features(x, rr).shape == (6, model.feature_dim)
    assert model.target_layer is model.members[0].target_layer  # the feature MLP has none
    save_checkpoint(model, card_for(model), tmp_path / "m")
    again, card = load_checkpoint(tmp_path / "m")
    assert card["model_kwargs"]["members"] == members
    torch.testing.assert_close(again.eval()(x, rr), logits)
    with pytest.raises(ModelError, match="no member looks at the waveform"):
        create_model("mixture", in_leads=1, n_classes=4, window=128, n_rr=2, members=members[1:]).target_layer
    for bad, match in (([], "non-empty"), ([{"variant": "tiny"}], "mapping"),
                       ([{"name": "mixture"}], "cannot itself be a mixture"), ([{"name": "nope"}], "unknown model")):
        with pytest.raises(ModelError, match=match):
            create_model("mixture", in_leads=1, n_classes=4, window=128, members=bad)
    with pytest.raises(ModelError, match="weights"):
        create_model("mixture", in_leads=1, n_classes=4, window=128, weights=[1, 0])


def test_an_independent_mixture_trains_each_member_on_its_own_loss():
    from ecgscope.training.trainer import _loss

    members = [{"name": "feature_mlp", "variant": "tiny", "kwargs": {"points": 0}},
               {"name": "feature_mlp", "variant": "tiny"}]
    model = create_model("mixture", in_leads=1, n_classes=3, window=64, n_rr=4, members=members,
                         independent=True, seed=0)
    x, rr, y = torch.randn(8, 1, 64), torch.randn(8, 4), torch.randint(0, 3, (8,))
    stacked = model.train()(x, rr)
    assert stacked.shape == (2, 8, 3)
    ce = torch.nn.functional.cross_entropy
    own = [ce(net(x, rr), y) for net in model.members]  # BatchNorm in train mode: same batch, same output
    torch.testing.assert_close(_loss(ce, stacked, y), (own[0] + own[1]) / 2)
    _loss(ce, stacked, y).backward()  # the first member's gradient is its own loss's alone
    first = [p.grad.clone() for p in model.members[0].parameters()]
    model.zero_grad()
    ce(model.members[0](x, rr), y).backward()
    for a, b in zip(first, model.members[0].parameters()):
        torch.testing.assert_close(a, b.grad / 2)
    assert model.eval()(x, rr).shape == (8, 3)  # evaluated, it is the mixture
