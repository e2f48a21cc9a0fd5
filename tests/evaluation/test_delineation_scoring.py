"""Scoring delineation against LUDB-style references."""

from __future__ import annotations

import numpy as np
import pytest

from ecgscope.evaluation import score_delineation
from ecgscope.evaluation.delineation import annotated_span, ludb_reference, summarize_delineation
from ecgscope.record import Annotations

FS = 500.0


def _reference():
    # two beats: P, QRS, T triplets; the second P lacks its onset mark
    samples = [100, 120, 140, 180, 200, 220, 300, 350, 400,
               580, 600, 620, 680, 700, 720, 800, 850, 900]
    symbols = ["(", "p", ")", "(", "N", ")", "(", "t", ")",
               "x", "p", ")", "(", "N", ")", "(", "t", ")"]
    return Annotations(sample=samples, symbol=symbols, annotator="ii")


def test_ludb_reference_parsing():
    ref = ludb_reference(_reference())
    assert ref["p_peak"].tolist() == [120, 600]
    assert ref["p_onset"].tolist() == [100]  # the second P has no "(" right before it
    assert ref["qrs_onset"].tolist() == [180, 680] and ref["qrs_peak"].tolist() == [200, 700]
    assert ref["t_offset"].tolist() == [400, 900]
    same = ludb_reference((np.array(_reference().sample), list(_reference().symbol)))
    assert all(np.array_equal(same[k], ref[k]) for k in ref)
    assert annotated_span(ref) == (100, 900) and annotated_span(ref, 5) == (95, 905)


def test_perfect_and_shifted_detections():
    ref = ludb_reference(_reference())
    perfect = score_delineation(ref, ref, FS).set_index("point")
    assert (perfect["se"] == 1).all() and (perfect["ppv"] == 1).all()
    assert all(np.all(e == 0) for e in perfect["errors_ms"])
    shifted = {k: v + 10 for k, v in ref.items()}
    s = score_delineation(shifted, ref, FS).set_index("point")
    assert np.allclose(np.concatenate(s["errors_ms"].to_list()), 20.0)  # 10 samples at 500 Hz


def test_misses_false_positives_and_span():
    ref = ludb_reference(_reference())
    det = {
        "qrs_onset": np.array([180, 680 - 80]),     # second one 160 ms early: a miss and a false positive
        "t_peak": np.array([-1, 350, 850, 5000]),   # -1 = absent; 5000 lies outside the annotated span
        "p_peak": np.array([120, 600, 2]),          # 2 lies outside the P span: ignored
    }
    s = score_delineation(det, ref, FS).set_index("point")
    assert s.loc["qrs_onset", ["tp", "fn", "fp"]].tolist() == [1, 1, 1]
    assert s.loc["qrs_onset", "se"] == 0.5 and s.loc["qrs_onset", "ppv"] == 0.5
    assert s.loc["t_peak", ["tp", "fn", "fp", "n_det"]].tolist() == [2, 0, 0, 2]
    assert s.loc["p_peak", "fp"] == 0
    assert set(s.index) == {"qrs_onset", "t_peak", "p_peak"}
    wider = score_delineation(det, ref, FS, tolerance=0.25).set_index("point")
    assert wider.loc["qrs_onset", "tp"] == 2


def test_detections_without_reference_wave_are_false_positives():
    ref = ludb_reference(_reference())
    ref = {**ref, "p_peak": np.zeros(0, np.int64)}  # e.g. atrial fibrillation: no P annotated
    s = score_delineation({"p_peak": np.array([120, 600, 2000])}, ref, FS).set_index("point")
    assert s.loc["p_peak", "fp"] == 2 and s.loc["p_peak", "tp"] == 0  # 2000 is outside the record's span
    assert np.isnan(s.loc["p_peak", "se"])


def test_summary_pools_counts_and_errors():
    ref = ludb_reference(_reference())
    a = score_delineation({k: v + 5 for k, v in ref.items()}, ref, FS)
    b = score_delineation({k: v - 5 for k, v in ref.items()}, ref, FS)
    summary = summarize_delineation([a, b]).set_index("point")
    assert summary.loc["qrs_onset", "tp"] == 4 and summary.loc["qrs_onset", "se"] == 100.0
    assert summary.loc["t_peak", "mean_ms"] == pytest.approx(0.0)
    assert summary.loc["t_peak", "sd_ms"] == pytest.approx(np.std([10, 10, -10, -10], ddof=1))
    assert summarize_delineation([]).empty
