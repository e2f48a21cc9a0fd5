"""R-peak detection on real recordings in ../shared/data (skipped when absent)."""

from __future__ import annotations

import numpy as np
import pytest

from ecgscope.evaluation import excluded_intervals, reference_beats, score_detection
from ecgscope.record import resample_signal
from ecgscope.signal import find_rpeaks

wfdb = pytest.importorskip("wfdb")

pytestmark = pytest.mark.data


def _mitdb(shared, name):
    base = shared("mitdb", name)
    rec = wfdb.rdrecord(str(base))
    ann = wfdb.rdann(str(base), "atr")
    pair = (ann.sample, ann.symbol)
    return rec.p_signal.T.astype(np.float32), float(rec.fs), reference_beats(pair), excluded_intervals(pair)


@pytest.mark.parametrize("name", ["101", "106", "119"])
def test_mitdb_records_both_leads_and_first_lead(shared, name):
    x, fs, ref, ex = _mitdb(shared, name)
    for leads in (None, [0]):
        s = score_detection(ref, find_rpeaks(x, fs, leads=leads), fs, exclude=ex)
        assert s.se >= 99.5 and s.ppv >= 99.5, (name, leads, s)
        assert s.median_abs_error_ms <= 10.0


def test_mitdb_resampled_record(shared):
    x, fs, ref, ex = _mitdb(shared, "119")
    for fs_out in (128.0, 1000.0):
        y = resample_signal(x[:, : int(600 * fs)], fs, fs_out)
        r = np.rint(ref[ref < 600 * fs] * fs_out / fs).astype(np.int64)
        s = score_detection(r, find_rpeaks(y, fs_out), fs_out)
        assert s.se >= 99.5 and s.ppv >= 99.5, (fs_out, s)


def test_ludb_twelve_leads(shared):
    root = shared("ludb", "data")
    refs, dets = [], []
    for i in (1, 7, 8, 13, 21, 34, 55, 89):
        base = root / str(i)
        if not base.with_suffix(".hea").exists():
            continue
        rec = wfdb.rdrecord(str(base))
        ann = wfdb.rdann(str(base), "ii")
        ref = np.asarray([s for s, y in zip(ann.sample, ann.symbol) if y == "N"])
        det = find_rpeaks(rec.p_signal.T, rec.fs)
        # LUDB annotates the beats between the first and last complete ones.
        det = det[(det >= ref.min() - 0.3 * rec.fs) & (det <= ref.max() + 0.3 * rec.fs)]
        s = score_detection(ref, det, rec.fs)
        refs.append(s.tp + s.fn)
        dets.append(s)
    if not dets:
        pytest.skip("no LUDB records found")
    tp = sum(s.tp for s in dets)
    assert tp / sum(refs) >= 0.995
    assert tp / (tp + sum(s.fp for s in dets)) >= 0.995


def test_cinc2017_sanity(shared):
    root = shared("cinc2017")
    names = sorted(p.stem for p in root.glob("A0*.hea"))[:15]
    if not names:
        pytest.skip("no CinC 2017 records found")
    for name in names:
        rec = wfdb.rdrecord(str(root / name))
        x = rec.p_signal[:, 0]
        pos = find_rpeaks(x, rec.fs)
        assert pos.size >= 0.3 * x.size / rec.fs  # at least 18 bpm on average
        hr = 60.0 * rec.fs / np.median(np.diff(pos))
        assert 30 <= hr <= 220, (name, hr)
