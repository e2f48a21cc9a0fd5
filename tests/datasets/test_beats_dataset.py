"""Beat datasets: shapes, AAMI labels, resampling, leads, paced records, RR features and the disk cache."""

from __future__ import annotations

import os

import numpy as np
import pytest

from ecgscope.datasets import aami_labels, beat_mask
from ecgscope.datasets.beats import DEFAULT_RR, BeatDatasetConfig, BeatSet, build_beat_dataset, extract_beats
from ecgscope.errors import ConfigError, DatasetError


def simulated(seed: int = 0, fs: float = 360.0, seconds: float = 30.0, name: str = "sim"):
    """An annotated record from the project's simulator (N, A, V beats; II + V1)."""
    from ecgscope.synthesis import simulate

    rec = simulate(duration=seconds, fs=fs, heart_rate=75.0, leads=("II", "V1"), pvc_rate=0.15, apc_rate=0.15,
                   seed=seed)
    rec.annotations = {"atr": rec.annotations["atr"]}
    rec.metadata.record_id = name
    rec.metadata.patient_id = f"patient-{name}"
    return rec


def write_db(folder, names, paced=()):
    from ecgscope import write

    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        rec = simulated(seed=i, name=name)
        if name in paced:
            atr = rec.annotations["atr"]
            atr.symbol[beat_mask(atr.symbol)] = "/"
        write(rec, folder / f"{name}.hea")
    return folder


# ------------------------------------------------------------------ config
def test_config_round_trip_and_digest():
    cfg = BeatDatasetConfig(classes=("N", "S", "V", "F", "Q"), fs=250, extra_windows=[[1, 1]], leads="II")
    again = BeatDatasetConfig.from_dict(cfg.to_dict())
    assert again == cfg and again.digest() == cfg.digest()
    assert cfg.leads == ("II",) and cfg.extra_windows == ((1.0, 1.0),)
    assert cfg.samples == 175 and cfg.n_channels == 2
    assert BeatDatasetConfig(fs=360).digest() != cfg.digest()


@pytest.mark.parametrize("kwargs", [
    {"classes": ("N", "X")}, {"classes": ()}, {"classes": ("N", "N")}, {"window": (-0.1, 0.3)},
    {"window": (0.0, 0.0)}, {"bandpass": (0.5, 200.0)}, {"normalize": "minmax"}, {"rr_features": ("pre_rr", "rr9")},
    {"fs": 0}, {"rr_local": 0}, {"leads": ()},
])
def test_config_rejects_bad_values(kwargs):
    with pytest.raises(ConfigError):
        BeatDatasetConfig(**kwargs)


def test_config_from_dict_rejects_unknown_keys():
    with pytest.raises(ConfigError, match="valid keys"):
        BeatDatasetConfig.from_dict({"windw": [0.2, 0.4]})


# -------------------------------------------------------------- extraction
def test_extract_shapes_labels_and_positions():
    rec = simulated()
    cfg = BeatDatasetConfig()
    beats = extract_beats(rec, cfg)
    atr = rec.annotations["atr"]
    is_beat = beat_mask(atr.symbol)
    labels = aami_labels(atr.symbol[is_beat])
    keep = np.isin(labels, cfg.classes)
    half = int(0.45 * rec.fs) + 1
    inside = (atr.sample[is_beat] >= int(0.25 * rec.fs) + 1) & (atr.sample[is_beat] < rec.n_samples - half)
    expected = atr.sample[is_beat][keep & inside]
    assert beats.x.shape == (expected.size, 1, 252) and beats.x.dtype == np.float32
    assert beats.rr.shape == (expected.size, len(DEFAULT_RR)) and np.isfinite(beats.rr).all()
    np.testing.assert_array_equal(beats.sample, expected)
    symbols = atr.symbol[is_beat][keep & inside].astype(str)
    want = {"N": 0, "A": 1, "V": 2}
    np.testing.assert_array_equal(beats.y, [want[s] for s in symbols])
    assert set(beats.record_id) == {"sim"} and set(beats.patient_id) == {"patient-sim"}
    # The R peak sits at sample 0.25 s * fs of the window (bandpass keeps its position).
    peak = np.argmax(np.abs(beats.x[beats.y == 0, 0]), axis=1)
    assert abs(np.median(peak) - 90) <= 3


def test_rr_features_follow_the_rhythm():
    rec = simulated()
    beats = extract_beats(rec, BeatDatasetConfig(rr_features=("pre_rr", "pre_local")))
    assert beats.rr_names == ("pre_rr", "pre_local")
    s, n = beats.rr[beats.y == 1, 1], beats.rr[beats.y == 0, 1]
    assert s.mean() < 0.9 < n.mean()  # premature atrial beats come early
    none = extract_beats(rec, BeatDatasetConfig(rr_features=()))
    assert none.rr.shape == (len(none), 0)


def test_resampled_windows_scale_and_keep_beats():
    rec = simulated()
    at360 = extract_beats(rec, BeatDatasetConfig(fs=360))
    at250 = extract_beats(rec, BeatDatasetConfig(fs=250))
    assert len(at250) == len(at360)
    assert at360.x.shape[-1] == 252 and at250.x.shape[-1] == 175
    np.testing.assert_array_equal(at250.sample, at360.sample)
    # A record stored at 250 Hz gives the same beats and, at fs=360, windows of 360 Hz length.
    rec250 = rec.resample(250)
    from_250 = extract_beats(rec250, BeatDatasetConfig(fs=360))
    assert len(from_250) == len(at360) and from_250.x.shape[-1] == 252
    np.testing.assert_array_equal(from_250.y, at360.y)
    corr = np.corrcoef(from_250.x[:, 0].ravel(), at360.x[:, 0].ravel())[0, 1]
    assert corr > 0.95


def test_unlabelled_q_beats_are_dropped_or_kept():
    rec = simulated()
    atr = rec.annotations["atr"]
    idx = np.flatnonzero(beat_mask(atr.symbol))[10]
    atr.symbol[idx] = "Q"
    dropped = extract_beats(rec, BeatDatasetConfig())
    kept = extract_beats(rec, BeatDatasetConfig(keep_unlabelled=True))
    assert len(kept) == len(dropped) + 1
    assert kept.y[kept.sample == atr.sample[idx]].tolist() == [-1]
    assert kept.class_counts()["?"] == 1
    with_q = extract_beats(rec, BeatDatasetConfig(classes=("N", "S", "V", "F", "Q")))
    assert with_q.y[with_q.sample == atr.sample[idx]].tolist() == [4]


def test_beats_at_given_positions_for_inference():
    rec = simulated()
    peaks = rec.annotations["atr"].sample[beat_mask(rec.annotations["atr"].symbol)][3:8] + 2
    beats = extract_beats(rec, BeatDatasetConfig(), positions=peaks)
    assert len(beats) == 5 and (beats.y == -1).all()
    np.testing.assert_array_equal(beats.sample, peaks)


def test_leads_and_extra_windows():
    rec = simulated()
    two = extract_beats(rec, BeatDatasetConfig(leads=("V1", "II")))
    one = extract_beats(rec, BeatDatasetConfig(leads=("II",)))
    assert two.x.shape[1] == 2
    np.testing.assert_allclose(two.x[:, 1], one.x[:, 0], atol=1e-6)
    wide = extract_beats(rec, BeatDatasetConfig(extra_windows=((0.9, 0.9),)))
    assert wide.x.shape[1:] == (2, 252)
    assert len(wide) <= len(one)
    with pytest.raises(DatasetError, match="V5"):
        extract_beats(rec, BeatDatasetConfig(leads=("V5",)))
    with pytest.raises(DatasetError, match="positions"):
        extract_beats(rec, BeatDatasetConfig(annotator="qrs"))


def test_template_channel_is_the_departure_from_the_record_median_beat():
    rec = simulated()
    plain = extract_beats(rec, BeatDatasetConfig())
    wide = BeatDatasetConfig(template=True, extra_windows=((0.9, 0.9),))
    assert extract_beats(rec, wide).x.shape[1] == wide.n_channels == 3
    cfg = BeatDatasetConfig(template=True)
    beats = extract_beats(rec, cfg)
    assert beats.x.shape[1] == cfg.n_channels == 2
    np.testing.assert_allclose(beats.x[:, 0], plain.x[:, 0], atol=1e-6)
    np.testing.assert_allclose(beats.x[:, 1], plain.x[:, 0] - np.median(plain.x[:, 0], axis=0), atol=1e-5)
    # ectopic beats depart from the dominant (normal) morphology more than normal beats do
    energy = np.abs(beats.x[:, 1]).mean(axis=1)
    assert energy[beats.y == 2].mean() > 2 * energy[beats.y == 0].mean()
    # digests and cache keys of configs without the option are unchanged by its existence
    assert "template" not in BeatDatasetConfig().identity() and "template" in cfg.identity()
    assert BeatDatasetConfig.from_dict(cfg.to_dict()) == cfg


def test_morphology_columns_follow_the_rr_features_and_mark_ectopic_beats():
    from ecgscope.signal import beat_morphology
    from ecgscope.signal.beats import MORPHOLOGY_COLUMNS

    rec = simulated()
    plain = extract_beats(rec, BeatDatasetConfig())
    cfg = BeatDatasetConfig(morphology=True)
    beats = extract_beats(rec, cfg)
    m = len(DEFAULT_RR)
    assert beats.rr_names == cfg.rr_names == DEFAULT_RR + MORPHOLOGY_COLUMNS
    np.testing.assert_array_equal(beats.rr[:, :m], plain.rr)
    np.testing.assert_array_equal(beats.x, plain.x)
    expected = beat_morphology(plain.x[:, 0], cfg.fs, cfg.window[0], np.median(plain.x[:, 0], axis=0))
    np.testing.assert_allclose(beats.rr[:, m:], expected.to_numpy(), rtol=1e-4, atol=1e-5)
    qrs_rms = beats.rr[:, m + MORPHOLOGY_COLUMNS.index("qrs_rms")]
    assert np.median(qrs_rms[beats.y == 2]) > 3 * np.median(qrs_rms[beats.y == 0])
    width = beats.rr[:, m + MORPHOLOGY_COLUMNS.index("qrs_width")]
    assert np.median(width[beats.y == 2]) > 1.5 > np.median(width[beats.y == 0])
    # two leads: one block per lead, named by lead; context neighbours carry them too
    two = BeatDatasetConfig(morphology=True, leads=("II", "V1"), context_beats=1, rr_features=())
    k = len(MORPHOLOGY_COLUMNS)
    assert two.rr_names[:k + 1] == tuple(f"{c}:II" for c in MORPHOLOGY_COLUMNS) + ("p_rms:V1",)
    assert extract_beats(rec, two).rr.shape[1] == len(two.rr_names) == 2 * k + 2 * (2 * k + 1)
    # configs without the option keep their digests and cache keys
    assert "morphology" not in BeatDatasetConfig().identity() and cfg.identity()["morphology"] is True
    assert BeatDatasetConfig.from_dict(cfg.to_dict()) == cfg


def test_local_morphology_follows_a_record_whose_beats_change_shape():
    from ecgscope.signal.beats import MORPHOLOGY_COLUMNS

    rec = simulated(seconds=120.0)
    half = rec.signal.shape[1] // 2
    rec.signal[:, half:] *= -0.6  # the axis flips halfway (an electrode moved): the same beats, inverted and smaller
    cfg = BeatDatasetConfig(morphology=True, rr_features=(), local_morphology=20)
    beats = extract_beats(rec, cfg)
    k = len(MORPHOLOGY_COLUMNS)
    assert beats.rr_names == MORPHOLOGY_COLUMNS + tuple(f"{c}_local" for c in MORPHOLOGY_COLUMNS)
    np.testing.assert_array_equal(beats.rr[:, :k], extract_beats(rec, BeatDatasetConfig(morphology=True,
                                                                                       rr_features=())).rr)
    corr, local = beats.rr[:, MORPHOLOGY_COLUMNS.index("qrs_corr")], beats.rr[:, k + MORPHOLOGY_COLUMNS.index("qrs_corr")]
    normal = (beats.y == 0) & (np.abs(beats.sample - half) > 40 * rec.fs)  # away from the change itself
    assert (corr[normal] < 0).mean() > 0.3  # one half's normal beats are unlike the record's median beat
    assert np.median(local[normal]) > 0.9 and np.median(local[beats.y == 2]) < 0.9  # not their local one; V still apart
    two = BeatDatasetConfig(morphology=True, leads=("II", "V1"), rr_features=(), local_morphology=20)
    assert two.rr_names[k:k + 2] == ("p_rms_local:II", "qrs_rms_local:II")
    assert extract_beats(rec, two).rr.shape[1] == 4 * k
    assert "local_morphology" not in BeatDatasetConfig().identity() and cfg.identity()["local_morphology"] == 20
    assert BeatDatasetConfig.from_dict(cfg.to_dict()) == cfg
    for bad in (-1, True, 2.5):
        with pytest.raises(ConfigError, match="local_morphology"):
            BeatDatasetConfig(morphology=True, local_morphology=bad)
    with pytest.raises(ConfigError, match="needs morphology"):
        BeatDatasetConfig(local_morphology=20)


def test_per_beat_normalisation():
    beats = extract_beats(simulated(), BeatDatasetConfig(normalize="zscore"))
    np.testing.assert_allclose(beats.x.mean(axis=2), 0, atol=1e-4)
    np.testing.assert_allclose(beats.x.std(axis=2), 1, atol=1e-3)


# ------------------------------------------------------------------ BeatSet
def test_beatset_subset_records_counts_concat():
    a = extract_beats(simulated(0, name="a"), BeatDatasetConfig())
    b = extract_beats(simulated(1, name="b"), BeatDatasetConfig())
    both = BeatSet.concat([a, b])
    assert len(both) == len(a) + len(b) and both.records == ["a", "b"]
    assert len(both.by_records(["b"])) == len(b)
    assert both.class_counts() == {c: a.class_counts()[c] + b.class_counts()[c] for c in a.classes}
    sub = both.subset(both.y == 2)
    assert set(sub.y.tolist()) == {2} and sub.classes == both.classes
    with pytest.raises(DatasetError, match="not in this beat set"):
        both.by_records(["zzz"])
    other = extract_beats(simulated(2, name="c"), BeatDatasetConfig(fs=250))
    with pytest.raises(DatasetError):
        BeatSet.concat([a, other])


# ----------------------------------------------------------------- datasets
def test_folder_dataset_excludes_paced_records(tmp_path):
    folder = write_db(tmp_path / "db", ["201", "202", "203"], paced=("203",))
    beats = build_beat_dataset(folder, cache=False)
    assert beats.records == ["201", "202"] and beats.meta["excluded"] == ["203"]
    kept = build_beat_dataset(folder, BeatDatasetConfig(exclude_paced=False, keep_unlabelled=True), cache=False)
    assert "203" in kept.records
    with pytest.raises(DatasetError, match="paced"):
        build_beat_dataset(folder, records=["203"], cache=False)


def test_registry_dataset_via_load(tmp_path, fakedb):
    write_db(tmp_path / "fakedb", ["100", "101"])
    beats = build_beat_dataset("fakedb", root=tmp_path, cache=False)
    assert beats.records == ["100", "101"] and len(beats) > 40
    only = build_beat_dataset("fakedb", root=tmp_path, records=["101"], cache=False,
                              patients={"101": "someone"})
    assert only.records == ["101"] and set(only.patient_id) == {"someone"}


def test_unknown_source_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="neither a registered database nor a folder"):
        build_beat_dataset(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no WFDB records"):
        build_beat_dataset(tmp_path / "empty")


# -------------------------------------------------------------------- cache
def test_cache_hit_miss_and_invalidation(tmp_path, monkeypatch):
    import ecgscope.io

    folder = write_db(tmp_path / "db", ["201", "202"])
    cache = tmp_path / "cache"
    reads = []
    real_read = ecgscope.io.read
    monkeypatch.setattr(ecgscope.io, "read", lambda *a, **k: reads.append(a[0]) or real_read(*a, **k))

    first = build_beat_dataset(folder, cache_dir=cache)
    assert len(reads) == 2 and len(list(cache.glob("beats-*.npz"))) == 1
    hit = build_beat_dataset(folder, cache_dir=cache)
    assert len(reads) == 2  # a hit reads no record
    for name in ("x", "rr", "y", "record_id", "patient_id", "sample", "symbol"):
        np.testing.assert_array_equal(getattr(hit, name), getattr(first, name))
    assert hit.classes == first.classes and hit.rr_names == first.rr_names and hit.meta["key"]

    build_beat_dataset(folder, BeatDatasetConfig(fs=250), cache_dir=cache)  # config changed: miss
    assert len(reads) == 4
    build_beat_dataset(folder, records=["201"], cache_dir=cache)  # record list changed: miss
    assert len(reads) == 5
    st = os.stat(folder / "202.dat")
    os.utime(folder / "202.dat", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # file touched: miss
    build_beat_dataset(folder, cache_dir=cache)
    assert len(reads) == 7
    build_beat_dataset(folder, cache_dir=cache)
    assert len(reads) == 7
    for f in cache.glob("beats-*.npz"):  # damaged files are misses, then rewritten
        f.write_bytes(b"not a zip")
    again = build_beat_dataset(folder, cache_dir=cache)
    assert len(reads) == 9 and len(again) == len(first)
    assert not list(cache.glob(".beats-*"))  # no temp files left behind


def test_cache_dir_from_environment(tmp_path, monkeypatch):
    from ecgscope.datasets import _beat_cache

    monkeypatch.setenv("ECGSCOPE_CACHE", str(tmp_path / "c"))
    assert _beat_cache.cache_dir_path() == tmp_path / "c" / "beats"
    assert _beat_cache.cache_dir_path(tmp_path / "x") == tmp_path / "x"


# ---------------------------------------------------------------- real data
@pytest.mark.data
def test_mitdb_records_labels_and_leads(shared, tmp_path):
    from ecgscope.datasets.splits import load_split

    root = shared("mitdb").parent
    beats = build_beat_dataset("mitdb", root=root, records=["106", "114"], cache_dir=tmp_path)
    counts = load_split("mitdb-ds1").info["inputs"]["aami_beat_counts"]
    for rid in ("106", "114"):
        got = beats.by_records([rid]).class_counts()
        for c in ("N", "S", "V", "F"):
            assert counts[rid][c] - 2 <= got[c] <= counts[rid][c]  # at most the edge beats are lost
    # 114 stores MLII as its second signal: the II channel must be that one.
    import ecgscope

    rec = ecgscope.read(root / "mitdb" / "114")
    assert rec.leads.index("II") == 1
    b114 = beats.by_records(["114"])
    mine = extract_beats(rec.select_leads(["II"]), BeatDatasetConfig(), record_id="114")
    np.testing.assert_allclose(b114.x[:50], mine.x[:50], atol=1e-5)
    paced = build_beat_dataset("mitdb", root=root, records=["101", "102"], cache=False)
    assert paced.records == ["101"] and paced.meta["excluded"] == ["102"]


# ----------------------------------------------------------- context beats
def test_context_beats_carry_neighbour_windows_rr_and_validity_flags():
    rec = simulated()
    base_cfg = BeatDatasetConfig(template=True, keep_unlabelled=True, drop_invalid=False)
    cfg = BeatDatasetConfig(template=True, keep_unlabelled=True, drop_invalid=False, context_beats=2)
    plain, beats = extract_beats(rec, base_cfg), extract_beats(rec, cfg)
    n, m, c = len(plain), len(DEFAULT_RR), base_cfg.n_channels
    assert cfg.context_offsets() == (-2, -1, 1, 2)
    assert beats.x.shape == (n, c + 4, plain.x.shape[2]) == (n, cfg.n_channels, cfg.samples)
    assert beats.rr.shape == (n, m + 4 * (m + 1)) and beats.rr_names == cfg.rr_names
    assert beats.rr_names[m:m + 2] == ("pre_rr@-2", "post_rr@-2") and beats.rr_names[-1] == "valid@+2"
    np.testing.assert_array_equal(beats.x[:, :c], plain.x)  # the beat's own channels are unchanged
    np.testing.assert_array_equal(beats.rr[:, :m], plain.rr)
    for j, offset in enumerate(cfg.context_offsets()):
        near_x, near_rr = beats.x[:, c + j], beats.rr[:, m + j * (m + 1): m + (j + 1) * (m + 1)]
        inside = np.arange(n) + offset
        ok = (inside >= 0) & (inside < n)
        np.testing.assert_array_equal(near_x[ok], plain.x[inside[ok], 0])  # main window of beat i + offset
        np.testing.assert_array_equal(near_rr[ok, :m], plain.rr[inside[ok]])
        assert (near_rr[ok, m] == 1).all() and (near_rr[~ok] == 0).all() and (near_x[~ok] == 0).all()
    assert (~ok).sum() == 2  # offset +2: the last two beats have no such neighbour


def test_context_neighbours_are_the_records_beats_even_when_dropped():
    rec = simulated()
    peaks = np.r_[5, rec.annotations["atr"].sample[beat_mask(rec.annotations["atr"].symbol)]]
    cfg = BeatDatasetConfig(context_beats=1)
    beats = extract_beats(rec, cfg, positions=peaks)  # the beat at sample 5 is cut at the edge: dropped
    every = extract_beats(rec, BeatDatasetConfig(context_beats=1, drop_invalid=False), positions=peaks)
    assert beats.sample[0] == peaks[1] and every.sample[0] == 5
    np.testing.assert_array_equal(beats.x[0], every.x[1])
    np.testing.assert_array_equal(beats.x[0, 1], every.x[0, 0])  # its left neighbour is the dropped beat
    assert beats.rr[0, 2 * len(DEFAULT_RR)] == 1 and every.rr[0, 2 * len(DEFAULT_RR)] == 0


def test_context_beats_off_keeps_digest_and_layout():
    cfg = BeatDatasetConfig(context_beats=3)
    assert BeatDatasetConfig(context_beats=0).digest() == BeatDatasetConfig().digest()
    assert "context_beats" not in BeatDatasetConfig().identity() and cfg.identity()["context_beats"] == 3
    assert cfg.digest() != BeatDatasetConfig().digest()
    assert BeatDatasetConfig().rr_names == DEFAULT_RR
    assert "context_beats" not in BeatDatasetConfig().window_card()
    assert cfg.window_card()["context_beats"] == 3 and BeatDatasetConfig.from_dict(cfg.to_dict()) == cfg
    none = BeatDatasetConfig(context_beats=1, rr_features=())
    assert none.rr_names == ("valid@-1", "valid@+1")
    assert extract_beats(simulated(), none).rr.shape[1] == 2
    for bad in (-1, 65, True, 1.5):
        with pytest.raises(ConfigError, match="context_beats"):
            BeatDatasetConfig(context_beats=bad)
