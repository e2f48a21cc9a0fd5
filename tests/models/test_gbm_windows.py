"""Trees as arrays (equal to scikit-learn's predictions) and the ``gbm-windows`` window rhythm estimator."""

from __future__ import annotations

import numpy as np
import pytest

from ecgscope.errors import ModelError
from ecgscope.models.rhythm.trees import TREE_ARRAYS, export_trees, predict_trees


@pytest.mark.parametrize("n_classes", [2, 4])
def test_exported_trees_predict_what_sklearn_predicts(n_classes):
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(n_classes)
    x = rng.normal(size=(1500, 8))
    x[rng.random(x.shape) < 0.25] = np.nan  # missing values take the side the fitted split chose
    score = np.nan_to_num(x[:, 0]) + np.where(np.isnan(x[:, 1]), 1.0, 0.0) - np.nan_to_num(x[:, 2]) ** 2
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]))
    model = HistGradientBoostingClassifier(max_iter=60, random_state=0).fit(x, y)
    trees = export_trees(model)
    assert set(trees) == set(TREE_ARRAYS) and trees["roots"].shape == (60, 1 if n_classes == 2 else n_classes)
    test = rng.normal(size=(700, 8))
    test[rng.random(test.shape) < 0.3] = np.nan
    np.testing.assert_allclose(predict_trees(trees, test), model.predict_proba(test), rtol=0, atol=1e-12)


def test_export_needs_a_fitted_model():
    from sklearn.ensemble import HistGradientBoostingClassifier

    with pytest.raises(ModelError, match="not a fitted"):
        export_trees(HistGradientBoostingClassifier())


def _simulated(n_records: int, seed: int):
    from ecgscope.datasets.rhythm import RhythmSet
    from ecgscope.synthesis import simulate

    signals, labels = [], []
    for i in range(n_records):
        af = i % 2 == 1
        rec = simulate(duration=30, fs=100, leads=["II"], af_episodes=[(0, 30)] if af else (), seed=seed + i)
        signals.append(rec.signal)
        labels.append("A" if af else "N")
    ids = [f"s{seed}-{i}" for i in range(n_records)]
    return RhythmSet(signals, 100.0, labels, ids, ids, "simulated", ("II",))


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    from ecgscope.models.rhythm import create_rhythm_estimator

    est = create_rhythm_estimator("gbm-windows", fs=100.0, window_s=5.0, hop_s=5.0, hrv_context_s=20.0,
                                  max_iter=30, min_samples_leaf=5, val_fraction=0.25)
    est.fit(_simulated(16, 100))
    return est, est.save(tmp_path_factory.mktemp("gbm") / "gbm-windows")


def test_fit_predict_save_load(fitted):
    from ecgscope.models.rhythm import create_rhythm_estimator
    from ecgscope.models.rhythm.checkpoint import load_rhythm_estimator, read_rhythm_card

    est, folder = fitted
    test = _simulated(6, 500)
    p = est.predict_proba(test)
    assert p.shape == (6, 4) and np.allclose(p.sum(1), 1.0)
    assert (np.asarray(est.classes_)[p.argmax(1)] == test.labels).all()
    assert est.fit_info_["trees"] == 30 and est.temperature_ > 0  # two classes seen: one tree per iteration
    assert p[:, 2:].max() < 1e-9  # O and ~ were never seen in training
    card = read_rhythm_card(folder)
    assert card["estimator"] == "gbm-windows" and card["hrv"]["summary"] == "ecgscope.features.rhythm_summary"
    assert len(card["hrv"]["features"]) == est.net_.n_features
    np.testing.assert_array_equal(load_rhythm_estimator(folder).predict_proba(test), p)
    again = create_rhythm_estimator("gbm-windows", **est.options).fit(_simulated(16, 100))
    np.testing.assert_array_equal(again.predict_proba(test), p)


def test_columns_never_measured_in_training_are_left_out(fitted):
    est, _ = fitted
    features = est.net_.feature[est.net_.leaf == 0].numpy()
    table = est._table(_simulated(2, 700))
    unmeasured = np.flatnonzero(~table.hrv_mask.any(0))
    assert unmeasured.size and not np.isin(features, unmeasured).any()  # e.g. LF power of a 5-s window
    assert features.max() < table.hrv.shape[1]


def test_classify_rhythm_finds_the_af_windows(fitted):
    from ecgscope.analysis.rhythm import classify_rhythm
    from ecgscope.synthesis import simulate

    _, folder = fitted
    record = simulate(duration=90, fs=250.0, leads=["V1", "II"], af_episodes=[(30, 60)], seed=7)
    res = classify_rhythm(record, folder)
    frame = res.windows()
    assert res.lead == "II" and len(frame) == 18
    inside = (frame["start_s"] >= 30) & (frame["end_s"] <= 60)
    outside = (frame["end_s"] <= 25) | (frame["start_s"] >= 65)
    assert (frame.loc[inside, "p_A"] > 0.5).mean() >= 0.8
    assert (frame.loc[outside, "p_A"] < 0.5).mean() >= 0.8


def test_early_stopping_keeps_the_best_validated_iteration_count():
    from ecgscope.models.rhythm import create_rhythm_estimator

    est = create_rhythm_estimator("gbm-windows", fs=100.0, window_s=5.0, hop_s=5.0, hrv_context_s=0.0,
                                  max_iter=30, min_samples_leaf=5, val_fraction=0.25, early_stopping=True,
                                  stop_every=10)
    est.fit(_simulated(12, 200))
    scores = est.fit_info_["val_scores"]
    assert sorted(scores) == [10, 20, 30]
    best = est.fit_info_["iterations"]
    assert scores[best] == max(scores.values()) == est.fit_info_["val_challenge_f1"]
    assert all(k >= best for k, v in scores.items() if v == scores[best])  # ties keep fewer trees
    assert est.net_.roots.shape[0] == best


def test_workers_change_nothing_but_the_processes(fitted, monkeypatch, tmp_path):
    import ecgscope.models.rhythm.preprocess as pre
    from ecgscope.analysis.rhythm import classify_rhythm
    from ecgscope.cli import main
    from ecgscope.io import write
    from ecgscope.synthesis import simulate

    _, folder = fitted
    monkeypatch.setattr(pre, "PARALLEL_MIN_SPANS", 4)
    pre.clear_memo()
    record = simulate(duration=60, fs=250.0, leads=["II"], af_episodes=[(20, 40)], seed=11)
    one = classify_rhythm(record, folder)
    pre.clear_memo()
    two = classify_rhythm(record, folder, workers=2)
    np.testing.assert_array_equal(one.window_proba, two.window_proba)
    from ecgscope.analysis.rhythm import load_rhythm_model

    assert load_rhythm_model(folder).estimator.options["workers"] == 1  # restored after the call
    record.annotations = {}
    write(record, tmp_path / "r.hea")
    outs = []
    for extra in ([], ["--workers", "2"]):
        pre.clear_memo()
        out = tmp_path / f"r{len(extra)}.csv"
        assert main(["rhythm", str(tmp_path / "r"), "-m", str(folder), "-o", str(out), *extra]) == 0
        outs.append(out.read_text())
    assert outs[0] == outs[1]


def test_a_checkpoint_from_another_summary_is_refused(fitted, tmp_path):
    import json
    import shutil

    from ecgscope.models.rhythm.checkpoint import load_rhythm_estimator

    _, folder = fitted
    assert load_rhythm_estimator(folder).predict_proba(_simulated(2, 900)).shape == (2, 4)
    for change in ("renamed", "version 1"):
        copy = tmp_path / change
        shutil.copytree(folder, copy)
        card = json.loads((copy / "card.json").read_text())
        if change == "renamed":
            card["hrv"]["features"][0] = "some_older_feature"
        else:  # cards written before summary versions: each span summarised on its own
            del card["hrv"]["summary_version"]
        (copy / "card.json").write_text(json.dumps(card))
        with pytest.raises(ModelError, match="retrain"):
            load_rhythm_estimator(copy).predict_proba(_simulated(2, 900))


def test_short_copies_give_each_window_its_own_summary_as_context():
    from ecgscope.models.rhythm.gbm_windows import short_copies

    window = np.array([[1.0, np.nan], [2.0, 3.0], [4.0, np.nan]])
    context = np.array([[1.0, np.nan], [5.0, 3.0], [4.0, 6.0]])  # the first window is its own context
    rows, y = short_copies(np.c_[window, context], np.array([0, 1, 2]))
    np.testing.assert_array_equal(y, [0, 1, 2, 1, 2])
    np.testing.assert_array_equal(rows[3:], np.c_[window[1:], window[1:]])
    np.testing.assert_array_equal(rows[:3], np.c_[window, context])


def test_short_copies_fit_on_twice_the_windows_of_long_records():
    from ecgscope.models.rhythm import create_rhythm_estimator

    options = {"fs": 100.0, "window_s": 5.0, "hop_s": 5.0, "hrv_context_s": 20.0, "max_iter": 10,
               "min_samples_leaf": 5, "val_fraction": 0.25}
    data = _simulated(8, 300)
    plain = create_rhythm_estimator("gbm-windows", **options).fit(data)
    short = create_rhythm_estimator("gbm-windows", short_copies=True, **options).fit(data)
    rows = plain.fit_info_["training_rows"]
    assert rows > 0 and short.fit_info_["training_rows"] == 2 * rows  # every context is longer than its window
    strip = data.subset(np.arange(4))
    strip = type(strip)([x[:, :500] for x in strip.signals], strip.fs, strip.labels, strip.records,
                        strip.patients, strip.source, strip.leads)
    assert short.predict_proba(strip).shape == (4, 4)


def test_with_class_probability_sets_one_column_and_rescales_the_rest():
    from ecgscope.models.rhythm.gbm_windows import with_class_probability

    p = np.array([[0.5, 0.2, 0.2, 0.1], [0.0, 1.0, 0.0, 0.0]])
    out = with_class_probability(p, np.array([0.6, 0.3]), 1)
    np.testing.assert_allclose(out.sum(1), 1.0)
    np.testing.assert_allclose(out[:, 1], [0.6, 0.3])
    np.testing.assert_allclose(out[0, [0, 2, 3]], 0.4 * np.array([0.5, 0.2, 0.1]) / 0.8)
    np.testing.assert_allclose(out[1, [0, 2, 3]], 0.7 / 3)  # nothing left to share by: equal shares


@pytest.mark.parametrize("head", ["all", "rhythm"])
def test_af_head_trees_give_p_af_and_rhythm_ones_never_read_the_qrs_shape(head, tmp_path):
    import torch

    from ecgscope.features.rhythm_summary import QRS_SHAPE_FEATURES
    from ecgscope.models.rhythm import create_rhythm_estimator
    from ecgscope.models.rhythm.checkpoint import load_rhythm_estimator
    from ecgscope.models.rhythm.trees import predict_trees

    est = create_rhythm_estimator("gbm-windows", fs=100.0, window_s=5.0, hop_s=5.0, hrv_context_s=20.0,
                                  max_iter=20, min_samples_leaf=5, val_fraction=0.25, af_head=head)
    est.fit(_simulated(16, 100))
    net = est.net_
    assert net.af_class == 1 and est.fit_info_["af_nodes"] > 0
    read = net.af_feature[net.af_leaf == 0].numpy()
    names = [n.split("@")[0] for n in est.spec.hrv_names]
    shape_read = [names[i] in QRS_SHAPE_FEATURES for i in read]
    assert not any(shape_read) if head == "rhythm" else read.size > 0
    test = _simulated(6, 500)
    table = est._table(test)
    inputs = est._inputs(net, table)
    rows = np.where(inputs["hrv_mask"], inputs["hrv"], np.nan)
    q = predict_trees(net._trees("af_"), rows)[:, 1]
    p = np.exp(net(**{k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in inputs.items()}).numpy())
    np.testing.assert_allclose(p[:, 1], np.maximum(q, 1e-12), rtol=1e-5)
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-5)
    record_p = est.predict_proba(test)
    assert (np.asarray(est.classes_)[record_p.argmax(1)] == test.labels).all()
    folder = est.save(tmp_path / head)
    np.testing.assert_array_equal(load_rhythm_estimator(folder).predict_proba(test), record_p)


def test_af_head_refuses_unknown_values_and_one_class_training():
    from ecgscope.errors import ConfigError
    from ecgscope.models.rhythm import create_rhythm_estimator

    options = {"fs": 100.0, "window_s": 5.0, "hop_s": 5.0, "hrv_context_s": 0.0, "max_iter": 5,
               "min_samples_leaf": 5, "val_fraction": 0.0}
    with pytest.raises(ConfigError, match="af_head"):
        create_rhythm_estimator("gbm-windows", af_head="morphology", **options).fit(_simulated(4, 100))
    data = _simulated(8, 100)
    sinus = data.subset(np.flatnonzero(np.asarray(data.labels) == "N"))
    with pytest.raises(ConfigError, match="both of AF and of other"):
        create_rhythm_estimator("gbm-windows", af_head="rhythm", **options).fit(sinus)
