"""``classify_beats`` with the shipped default model; the shipped checkpoint itself."""

from __future__ import annotations

import numpy as np
import pytest

import ecgscope
from ecgscope.analysis.classify import classify_beats, load_beat_classifier
from ecgscope.datasets.labels import DS1, DS2
from ecgscope.errors import ModelError, SignalError
from ecgscope.models.checkpoint import card_hash, read_card
from ecgscope.models.pretrained import default_beat_model_dir, list_pretrained, resolve_model
from ecgscope.synthesis import simulate

PROBS = ["p_N", "p_S", "p_V", "p_F"]
#: SHA-256 of the shipped beats-default ensemble (its card and members' hashes); a retrained model updates it here.
SHIPPED_HASH = "e1dca6e78aad8cd2751868223e2ff8d1eb9f8f702b58587d36a237bce8075719"


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def sim():
    return simulate(duration=60, pvc_rate=0.1, seed=1)


def _nearest(frame, samples):
    """Row of ``frame`` nearest to each of ``samples`` and the distance in samples."""
    pos = frame["sample"].to_numpy()
    idx = np.clip(np.searchsorted(pos, samples), 1, pos.size - 1)
    idx = np.where(np.abs(pos[idx - 1] - samples) < np.abs(pos[idx] - samples), idx - 1, idx)
    return idx, np.abs(pos[idx] - samples)


def test_one_row_per_detected_beat_with_probabilities(sim):
    from ecgscope.signal import find_rpeaks

    frame = classify_beats(sim)
    assert list(frame.columns) == ["sample", "time_s", "label", *PROBS, "valid"]
    assert len(frame) == np.unique(find_rpeaks(sim.signal, sim.fs)).size > 60
    assert frame["sample"].dtype == np.int64 and frame["sample"].is_monotonic_increasing
    np.testing.assert_allclose(frame["time_s"], frame["sample"] / sim.fs)
    np.testing.assert_allclose(frame[PROBS].sum(axis=1), 1.0, atol=1e-5)
    assert set(frame["label"]) <= {"N", "S", "V", "F"}
    assert frame.attrs["model"] == "beats-default" and frame.attrs["leads"] == ["II"]
    assert frame["valid"].iloc[1:-1].all()


def test_most_simulated_pvcs_are_labelled_v(sim):
    """A loose check of the whole pipeline: detection, card-driven preprocessing, the network."""
    frame = classify_beats(sim)
    atr = sim.annotations["atr"]
    symbols = atr.symbol.astype(str)
    for symbol, label, least in (("V", "V", 0.7), ("N", "N", 0.8)):
        idx, dist = _nearest(frame, atr.sample[symbols == symbol])
        assert np.all(dist <= 0.05 * sim.fs)  # every true beat was detected
        share = np.mean(frame["label"].to_numpy()[idx] == label)
        assert share >= least, f"{share:.2f} of simulated {symbol} beats labelled {label}"


def test_any_sampling_rate_gives_the_same_labels(sim):
    at250 = sim.resample(250.0)
    frame = classify_beats(at250)
    assert frame.attrs["fs"] == 250.0 and frame.attrs["model_fs"] == 360.0
    ref = classify_beats(sim)
    idx, dist = _nearest(ref, frame["sample"].to_numpy() * 360.0 / 250.0)
    ok = dist <= 3
    assert ok.mean() > 0.95
    assert np.mean(ref["label"].to_numpy()[idx[ok]] == frame["label"].to_numpy()[ok]) > 0.95


def test_given_rpeaks_are_sorted_and_deduplicated(sim):
    atr = sim.annotations["atr"]
    beats = atr.sample[np.isin(atr.symbol.astype(str), ["N", "V", "A"])]
    frame = classify_beats(sim, rpeaks=np.concatenate([beats[::-1], beats[:3]]))
    assert frame["sample"].tolist() == sorted(set(beats.tolist()))
    assert frame.attrs["detector"] is None
    with pytest.raises(SignalError, match="sample indices"):
        classify_beats(sim, rpeaks=[10, sim.n_samples + 5])


def test_no_beats_gives_an_empty_frame(sim):
    empty = classify_beats(sim, rpeaks=[])
    assert empty.empty and list(empty.columns) == ["sample", "time_s", "label", *PROBS, "valid"]
    flat = ecgscope.Record(signal=np.zeros((1, 3600), np.float32), fs=360.0, original_leads=["II"])
    assert classify_beats(flat).empty


def test_lead_choice(sim):
    precordial = simulate(duration=20, leads=("V1", "V5"), seed=3)
    with pytest.raises(ModelError, match="lead="):
        classify_beats(precordial)
    assert classify_beats(precordial, lead="V5").attrs["leads"] == ["V5"]
    assert classify_beats(precordial, lead=1).attrs["leads"] == ["V5"]
    single = precordial.select_leads(["V1"])  # one lead: it stands in for the model's
    assert len(classify_beats(single)) > 10
    with pytest.raises(ModelError, match="1 lead"):
        classify_beats(sim, lead=["II", "V1"])


def test_beats_in_a_gap_are_unclassifiable(sim):
    gapped = ecgscope.Record(signal=sim.signal.copy(), fs=sim.fs, original_leads=sim.original_leads)
    gapped.signal[:, int(30 * sim.fs):int(32 * sim.fs)] = np.nan
    atr = sim.annotations["atr"]
    frame = classify_beats(gapped, rpeaks=atr.sample[np.isin(atr.symbol.astype(str), ["N", "V", "A"])])
    config = load_beat_classifier().config  # a beat is unclassifiable when any of its windows meets the gap
    before = max(w[0] for w in (config.window, *config.extra_windows))
    after = max(w[1] for w in (config.window, *config.extra_windows))
    near = (frame["time_s"] + after > 30) & (frame["time_s"] - before < 32)
    assert near.any()
    assert (frame.loc[near, "label"] == "Q").all() and frame.loc[near, PROBS].isna().all().all()
    assert not frame.loc[near, "valid"].any()
    np.testing.assert_allclose(frame.loc[~near, PROBS].sum(axis=1), 1.0, atol=1e-5)


def test_file_path_input(sim, tmp_path):
    ecgscope.write(sim, tmp_path / "sim.hea")  # stored at 1 uV resolution
    a, b = classify_beats(tmp_path / "sim"), classify_beats(sim)
    assert len(a) == len(b) and np.abs(a["sample"] - b["sample"]).max() <= 1
    peaks = b["sample"].to_numpy()
    a, b = classify_beats(tmp_path / "sim", rpeaks=peaks), classify_beats(sim, rpeaks=peaks)
    np.testing.assert_allclose(a[PROBS], b[PROBS], atol=1e-3)


def test_models_are_cached_and_resolved():
    assert load_beat_classifier("default") is load_beat_classifier(default_beat_model_dir())
    assert resolve_model("default") == default_beat_model_dir() == resolve_model("beats-default")
    assert "beats-default" in list_pretrained()
    assert ecgscope.classify_beats is classify_beats
    with pytest.raises(ModelError, match="one of: default, beats-default"):
        resolve_model("no-such-model")


def test_a_folder_without_card_is_refused(tmp_path):
    with pytest.raises(ModelError, match="no card.json"):
        classify_beats(simulate(duration=5), model=tmp_path)


def test_shipped_card_describes_an_honest_model():
    """The default is an ensemble (transnet + feature MLP); every member trained on DS1 alone."""
    from ecgscope.models.ensemble import member_folders, read_ensemble_card

    directory = default_beat_model_dir()
    card = read_ensemble_card(directory)
    assert card["classes"] == ["N", "S", "V", "F"] and card["leads"] == ["II"]
    assert set(card["training"]["data"]["records"]) == set(DS1)
    assert card["premature_rule"]["prematurity"] > 0
    cv = card["metrics"]["cv"]
    assert cv["n_records"] == 22 and set(cv["gross"]) == {"N", "S", "V", "F"}
    models = []
    for folder, weight in member_folders(directory, card):
        member = read_card(folder)
        assert member["fs"] == 360.0 and member["training"]["beat_dataset"]["leads"] == ["II"] and weight == 1.0
        data = member["training"]["data"]
        assert set(data["records"]) == set(DS1) and not set(data["records"]) & set(DS2)
        assert set(member["training"]["split"]["val_patients"]) <= set(DS1)
        assert member["metrics"]["validation"]["macro_f1"] > 0
        models.append(member["training"]["config"]["model"]["name"])
        for name in ("config.yaml", "split.json", "version.json", "metrics.json", "log.csv"):
            assert (folder / name).is_file()
    assert models == ["transnet", "feature_mlp"]
    shape = card["shape_rule"]  # the dominant-shape rule, fitted on every DS1 PVC
    assert shape["quantile"] == 0.999 and shape["n_fitted"] > 3000 and 0.9 < shape["min_corr"] < 1.0
    size = sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
    assert size < 5_000_000
    for name in ("config.yaml", "split.json", "version.json"):
        assert (directory / name).is_file()


def test_shipped_hash_is_stable():
    directory = default_beat_model_dir()
    assert card_hash(directory) == card_hash(directory) == SHIPPED_HASH
    assert load_beat_classifier().hash == SHIPPED_HASH


def test_the_shipped_temperatures_divide_each_members_logits(sim, monkeypatch):
    import ecgscope.training.trainer as trainer
    from ecgscope.models.checkpoint import card_temperature

    members = load_beat_classifier().members
    temperatures = [card_temperature(m.card) for _, m in members]
    assert 0.05 < temperatures[0] < 1.0  # fitted on the validation patients: the class-weighted transnet is under-confident
    seen = []
    plain = trainer.predict_proba

    def spy(*args, **kwargs):
        seen.append(kwargs.get("temperature"))
        return plain(*args, **kwargs)

    monkeypatch.setattr(trainer, "predict_proba", spy)
    frame = classify_beats(sim)
    assert seen == temperatures
    p = frame[PROBS].to_numpy()
    assert np.allclose(p.sum(1), 1, atol=1e-5) and p.max(1).mean() > 0.8
    alone = [classify_beats(sim, model=m.directory, rpeaks=frame["sample"]) for _, m in members]
    assert np.allclose(p, np.mean([a[PROBS].to_numpy() for a in alone], axis=0), atol=1e-6)


def test_a_premature_rule_in_the_card_relabels_early_beats(tmp_path):
    """A card's premature-beat rule turns early beats in a regular rhythm into S; probabilities stay."""
    import json
    import shutil

    from ecgscope.training.premature import PrematureRule, premature_features

    assert load_beat_classifier().card["premature_rule"]["prematurity"] > 0  # the shipped model has one
    folders = {}
    for name, rule in (("plain", None), ("ruled", PrematureRule(0.85, 0.15).to_card())):
        folders[name] = tmp_path / name
        shutil.copytree(default_beat_model_dir() / "transnet", folders[name])  # it calls most APCs N alone
        card = json.loads((folders[name] / "card.json").read_text())
        card["premature_rule"] = rule
        (folders[name] / "card.json").write_text(json.dumps(card))
    rec = simulate(duration=60, apc_rate=0.1, seed=3)
    plain, ruled = (classify_beats(rec, model=str(folders[name])) for name in ("plain", "ruled"))
    np.testing.assert_array_equal(plain[PROBS].to_numpy(), ruled[PROBS].to_numpy())
    pm, irr = premature_features(plain["sample"])
    early = (pm < 0.85) & (irr < 0.15) & (plain["label"] == "N").to_numpy()
    assert early.sum() >= 3  # the simulated APCs
    expected = plain["label"].to_numpy().copy()
    expected[early] = "S"
    expected[(expected == "S") & (irr >= 0.15)] = "N"
    np.testing.assert_array_equal(ruled["label"].to_numpy(), expected)
    assert ruled.attrs["premature_rule"]["changed"] == int((ruled["label"] != plain["label"]).sum()) >= 3
    assert "premature_rule" not in plain.attrs
