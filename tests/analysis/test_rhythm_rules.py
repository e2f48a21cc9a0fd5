"""The RR-irregularity rule's pieces: the change point that places AF edges."""

from __future__ import annotations

import numpy as np
import pytest

from ecgscope.analysis.rhythm_rules import RuleParams, change_point, irregularity_score


def _flags(pattern: str) -> tuple[np.ndarray, np.ndarray]:
    """``'x'`` irregular, ``'.'`` regular, ``'-'`` unmeasured."""
    irregular = np.array([c == "x" for c in pattern], float)
    measured = np.array([c != "-" for c in pattern])
    return irregular, measured


@pytest.mark.parametrize("pattern, onset, offset", [
    ("........xxxxxxxxxx........", 8, 18),
    (".x.....x.xxx.xxxxx..x....x", 7, 18),   # a stray flag on either side does not move the edge
    ("......--xxxxxxxxxxxx--....", 6, 22),   # unmeasured intervals go with the earliest onset / latest offset
])
def test_change_point_splits_regular_from_irregular(pattern, onset, offset):
    irr, meas = _flags(pattern)
    assert change_point(irr, meas, 0, irr.size, 0.45, onset=True) == onset
    assert change_point(irr, meas, 0, irr.size, 0.45, onset=False) == offset


def test_change_point_stays_inside_its_range():
    irr, meas = _flags("xxxx........xxxxxxxx")
    assert change_point(irr, meas, 6, 20, 0.45, onset=True) == 12
    assert change_point(irr, meas, -5, 50, 0.45, onset=False) == 20
    assert change_point(irr, meas, 8, 8, 0.45, onset=True) == 8


def test_irregularity_leaves_out_ventricular_and_isolated_s_beats():
    rr = np.full(40, 0.8)
    rr[20] = 0.5  # a premature beat and its compensatory pause
    rr[21] = 1.1
    peaks = np.concatenate([[0], np.cumsum(rr)]) * 250
    labels = np.full(peaks.size, "N")
    ok = np.ones(rr.size, bool)
    _, irregular, _ = irregularity_score(peaks.astype(np.int64), 250.0, labels, ok, RuleParams())
    assert irregular.sum() == 3
    labels[21] = "V"
    _, irregular, measured = irregularity_score(peaks.astype(np.int64), 250.0, labels, ok, RuleParams())
    assert irregular.sum() == 0 and not measured[20:23].any()
    labels[21] = "S"
    _, irregular, _ = irregularity_score(peaks.astype(np.int64), 250.0, labels, ok, RuleParams())
    assert irregular.sum() == 0
