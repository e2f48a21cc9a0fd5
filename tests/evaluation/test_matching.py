"""Beat-by-beat matching and detection scores (EC57 / bxb style), on hand-built cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ecgscope.evaluation import (
    BEAT_SYMBOLS,
    excluded_intervals,
    match_beats,
    reference_beats,
    score_detection,
    score_records,
)
from ecgscope.record import Annotations

FS = 1000.0  # 1 sample = 1 ms, so the cases read in milliseconds


def test_perfect_match():
    ref = np.arange(500, 10_000, 800)
    s = score_detection(ref, ref, FS)
    assert (s.tp, s.fp, s.fn) == (ref.size, 0, 0)
    assert s.se == s.ppv == s.f1 == 100.0
    assert s.median_abs_error_ms == 0.0


def test_double_detection_is_one_false_positive():
    ref = np.array([1000, 2000, 3000])
    det = np.array([1000, 1040, 2000, 3000])  # 1040 doubles the first beat
    m = match_beats(ref, det, FS)
    assert m.extra.tolist() == [1]
    s = score_detection(ref, det, FS)
    assert (s.tp, s.fp, s.fn) == (3, 1, 0)
    assert s.ppv == pytest.approx(75.0)


def test_missed_beat_is_one_false_negative():
    s = score_detection([1000, 2000, 3000], [1000, 3010], FS)
    assert (s.tp, s.fp, s.fn) == (2, 0, 1)
    assert s.se == pytest.approx(200 / 3)
    assert s.mean_abs_error_ms == pytest.approx(5.0)
    assert s.mean_error_ms == pytest.approx(5.0)


def test_tolerance_boundary_is_inclusive():
    ref = [1000, 5000]
    assert score_detection(ref, [1150, 4850], FS).tp == 2
    s = score_detection(ref, [1151, 4849], FS)
    assert (s.tp, s.fp, s.fn) == (0, 2, 2)
    assert score_detection(ref, [1151, 4849], FS, tolerance=0.2).tp == 2


def test_matching_is_one_to_one_and_prefers_the_closest():
    # Two detections near one beat: the closer one matches, the other is extra.
    m = match_beats([1000], [930, 1010], FS)
    assert m.test_index.tolist() == [1] and m.extra.tolist() == [0]
    # One detection between two beats counts once.
    s = score_detection([1000, 1200], [1100], FS)
    assert (s.tp, s.fp, s.fn) == (1, 0, 1)


def test_chained_ambiguity_still_matches_everything_possible():
    # Each detection is 100 ms late: nearest-neighbour pairs alone would leave a gap.
    ref = np.array([1000, 1250, 1500])
    det = ref + 100
    s = score_detection(ref, det, FS)
    assert (s.tp, s.fp, s.fn) == (3, 0, 0)
    assert s.median_abs_error_ms == pytest.approx(100.0)


def test_indices_refer_to_unsorted_inputs():
    ref = np.array([3000, 1000, 2000])
    det = np.array([2005, 2990, 1000])
    m = match_beats(ref, det, FS)
    pairs = {(int(ref[r]), int(det[t])) for r, t in zip(m.ref_index, m.test_index)}
    assert pairs == {(1000, 1000), (2000, 2005), (3000, 2990)}
    assert sorted(m.error.tolist()) == [-10, 0, 5]


def test_empty_inputs():
    s = score_detection([], [], FS)
    assert (s.tp, s.fp, s.fn) == (0, 0, 0) and math.isnan(s.se)
    s = score_detection([100, 900], [], FS)
    assert (s.tp, s.fn, s.se) == (0, 2, 0.0) and math.isnan(s.ppv)
    s = score_detection([], [100], FS)
    assert s.fp == 1 and math.isnan(s.se)


def test_start_stop_and_excluded_intervals():
    ref = np.arange(0, 20_000, 1000)
    det = np.concatenate([ref, [10_500, 10_700]])  # two extras inside the excluded stretch
    s = score_detection(ref, det, FS, exclude=[[10_200, 11_800]])
    assert (s.tp, s.fp, s.fn) == (ref.size - 1, 0, 0)
    s = score_detection(ref, ref[:-5], FS, start=5.0, stop=15.0)  # misses after 15 s are ignored
    assert (s.tp, s.fn) == (10, 0)


def test_reference_beats_keep_only_beat_symbols():
    ann = Annotations(sample=[10, 20, 30, 40, 50, 60, 70], symbol=["N", "+", "V", "~", "|", "/", "x"])
    assert reference_beats(ann).tolist() == [10, 30, 60]
    assert reference_beats((ann.sample, ann.symbol), symbols={"V"}).tolist() == [30]
    assert {"N", "V", "/", "f", "Q", "?"} <= BEAT_SYMBOLS and not {"+", "~", "|", "x", "!"} & BEAT_SYMBOLS


def test_excluded_intervals_from_flutter_marks():
    ann = Annotations(sample=[100, 200, 300, 400, 500, 600], symbol=["N", "[", "!", "]", "[", "!"])
    np.testing.assert_array_equal(excluded_intervals(ann), [[200, 400], [500, 601]])
    assert excluded_intervals(Annotations(sample=[1], symbol=["N"])).shape == (0, 2)


def test_score_records_gross_and_average():
    results = {
        "a": (np.array([1000, 2000, 3000, 4000]), np.array([1000, 2000, 3000, 4000]), FS),
        "b": (np.array([1000, 2000]), np.array([1000, 1500, 2000]), FS),
    }
    table, gross, average = score_records(results)
    assert list(table.index) == ["a", "b"]
    assert table.loc["b", "fp"] == 1
    assert (gross.tp, gross.fp, gross.fn) == (6, 1, 0)
    assert gross.ppv == pytest.approx(600 / 7)
    assert average["ppv"] == pytest.approx((100 + 200 / 3) / 2)
    # Iterable of tuples with an exclusion interval works the same way.
    table2, gross2, _ = score_records([("b", np.array([1000, 2000]), np.array([1000, 1500, 2000]), FS, [[1400, 1600]])])
    assert gross2.fp == 0 and table2.loc["b", "ppv"] == 100.0
