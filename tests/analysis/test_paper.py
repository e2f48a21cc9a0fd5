"""ECG paper: calibration geometry (in data units and in rendered pixels), layouts, windows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.colors import to_rgb

from ecgscope.analysis.paper import (
    MAX_ROWS,
    MM_PER_INCH,
    PaperStyle,
    _minmax_decimate,
    calibration_width_mm,
    draw_calibration_pulse,
    draw_paper,
    format_time,
    layout_12lead,
    layout_rows,
    new_paper_figure,
    plot_ecg,
    select_window,
)
from ecgscope.errors import ECGScopeError
from ecgscope.record import STANDARD_LEADS, Annotations, Metadata, Record


def spikes_record(fs=250.0, seconds=10.0, period=1.0, leads=("II", "V1"), height=2.0):
    """Flat leads with a one-sample spike of ``height`` mV every ``period`` s from 0.5 s."""
    n = int(round(seconds * fs))
    sig = np.zeros((len(leads), n), np.float32)
    beats = np.rint(np.arange(0.5, seconds, period) * fs).astype(np.int64)
    sig[:, beats] = height
    ann = Annotations(beats, ["N"] * (beats.size - 1) + ["V"], annotator="atr")
    return Record(sig, fs, original_leads=list(leads), annotations={"atr": ann},
                  metadata=Metadata(record_id="spikes", age=40, sex="M"))


def twelve_lead_record(fs=500.0, seconds=10.0):
    t = np.arange(int(seconds * fs)) / fs
    sig = np.stack([np.sin(2 * np.pi * (k + 1) * t / seconds) * 0.5 for k in range(12)]).astype(np.float32)
    ann = {name.lower(): Annotations(np.arange(100, t.size, 400), None, annotator=name.lower())
           for name in STANDARD_LEADS}
    for a in ann.values():
        a.symbol[:] = "N"
    return Record(sig, fs, original_leads=list(STANDARD_LEADS), annotations=ann)


def trace_lines(fig):
    """Lines of the paper axes drawn with more than the 6 points of a calibration pulse."""
    return [ln for ln in fig.axes[0].lines if len(ln.get_xdata()) > 6]


# ------------------------------------------------------------------ helpers
@pytest.mark.parametrize("seconds, decimals, text", [(0, 0, "0:00:00"), (3725.4, 0, "1:02:05"),
                                                     (1805.5556, 3, "0:30:05.556"), (59.999, 2, "0:01:00.00")])
def test_format_time(seconds, decimals, text):
    assert format_time(seconds, decimals) == text


def test_select_window_cuts_and_validates(small_record):
    win = select_window(small_record, 2.0, 3.0, ["V1", "MLII"])
    assert win.leads == ["V1", "II"] and win.n_samples == 750
    np.testing.assert_array_equal(win.signal[1], small_record.signal[0, 500:1250])
    assert select_window(small_record, 8.0, 100.0).n_samples == 500  # cut at the end
    for kwargs, words in [({"start": 10.0}, "past the end"), ({"start": -1.0}, "negative"),
                          ({"duration": 0.0}, "not positive"), ({"leads": ["V9"]}, "V9")]:
        with pytest.raises(ECGScopeError, match=words):
            select_window(small_record, **kwargs)


# --------------------------------------------------------------- calibration
def test_paper_figure_axes_is_exactly_its_size_in_mm():
    fig, ax = new_paper_figure(123.0, 45.0)
    fig_w, fig_h = fig.get_size_inches() * MM_PER_INCH
    box = ax.get_position()
    assert box.width * fig_w == pytest.approx(123.0)
    assert box.height * fig_h == pytest.approx(45.0)
    assert ax.get_xlim() == (0.0, 123.0) and ax.get_ylim() == (0.0, 45.0)


def test_grid_has_1mm_minor_and_5mm_major_lines():
    fig, ax = new_paper_figure(20.0, 10.0)
    minor, major = draw_paper(ax, 20.0, 10.0)
    vert_major = sorted({seg[0][0] for seg in major.get_segments() if seg[0][0] == seg[1][0]})
    vert_minor = sorted({seg[0][0] for seg in minor.get_segments() if seg[0][0] == seg[1][0]})
    assert vert_major == [0.0, 5.0, 10.0, 15.0, 20.0]
    assert np.allclose(np.diff(sorted(vert_major + vert_minor)), 1.0)


@pytest.mark.parametrize("speed, gain", [(25.0, 10.0), (50.0, 20.0), (12.5, 5.0)])
def test_trace_and_pulse_follow_speed_and_gain(speed, gain):
    rec = spikes_record()
    fig = plot_ecg(rec, speed=speed, gain=gain)
    line = trace_lines(fig)[0]
    x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    peaks = x[y > y.min() + 0.5 * np.ptp(y)]
    assert np.allclose(np.diff(peaks), speed, atol=1e-6)  # 1 s of signal is `speed` mm of paper
    assert np.ptp(y) == pytest.approx(2.0 * gain)  # a 2 mV spike is 2 * gain mm high
    pulses = [ln for ln in fig.axes[0].lines if len(ln.get_xdata()) == 6]
    assert len(pulses) == len(fig.ecg_layout.panels)  # one per row (rows wrap at 250 mm)
    px, py = np.asarray(pulses[0].get_xdata()), np.asarray(pulses[0].get_ydata())
    assert np.ptp(py) == pytest.approx(gain)  # 1 mV
    assert px[3] - px[2] == pytest.approx(0.2 * speed)  # 200 ms
    assert np.ptp(px) == pytest.approx(calibration_width_mm(speed))


def _peaks(profile, threshold):
    """Centres of runs where ``profile`` exceeds ``threshold``."""
    above = np.flatnonzero(profile > threshold)
    runs = np.split(above, np.flatnonzero(np.diff(above) > 1) + 1)
    return np.array([r.mean() for r in runs if r.size])


def test_png_is_calibrated_in_pixels(tmp_path):
    """At 254 dpi 1 mm is 10 px: major grid every 50 px, 1 s = 250 px, 1 mV pulse = 100 px."""
    from matplotlib.image import imread

    dpi = 254
    rec = spikes_record(leads=("II",))
    fig = plot_ecg(rec)
    fig.savefig(tmp_path / "p.png", dpi=dpi)
    img = imread(tmp_path / "p.png")[..., :3]
    px_per_mm = dpi / MM_PER_INCH
    w_mm, h_mm = fig.get_size_inches() * MM_PER_INCH
    assert img.shape[1] == pytest.approx(w_mm * px_per_mm, abs=1)

    style = PaperStyle()
    major = np.all(np.abs(img - np.array(to_rgb(style.major_color))) < 0.12, axis=2)
    grid_cols = _peaks(major.mean(axis=0), 0.5)
    assert np.median(np.diff(grid_cols)) == pytest.approx(5 * px_per_mm, abs=0.6)

    black = img.max(axis=2) < 0.3
    paper_x0 = style.margin_mm * px_per_mm
    cal_px = calibration_width_mm() * px_per_mm
    cols = black.sum(axis=0)
    spikes = _peaks(np.where(np.arange(cols.size) > paper_x0 + cal_px + 2, cols, 0), 8 * px_per_mm)
    assert len(spikes) == 10
    assert np.diff(spikes) == pytest.approx(np.full(9, 25 * px_per_mm), abs=1.0)

    edge = int(round(paper_x0 + 2 * px_per_mm))  # rising edge of the pulse (2 mm lead-in)
    paper_top = int((style.margin_mm + style.header_mm) * px_per_mm) + 2  # below the header text
    rows = paper_top + np.flatnonzero(black[paper_top:, edge - 1:edge + 2].any(axis=1))
    height_px = rows.max() - rows.min()
    line_px = style.trace_width / 72 * dpi
    assert height_px == pytest.approx(10 * px_per_mm + line_px, abs=2.5)


def test_pdf_page_is_the_figure_size_in_mm(tmp_path):
    import re

    fig = plot_ecg(spikes_record())
    fig.savefig(tmp_path / "p.pdf")
    data = (tmp_path / "p.pdf").read_bytes()
    assert data.startswith(b"%PDF")
    box = [float(v) for v in re.search(rb"/MediaBox \[ ([\d. ]+) \]", data).group(1).split()]
    w_mm, h_mm = fig.get_size_inches() * MM_PER_INCH
    assert box[2] / 72 * MM_PER_INCH == pytest.approx(w_mm, rel=1e-6)
    assert box[3] / 72 * MM_PER_INCH == pytest.approx(h_mm, rel=1e-6)


# ------------------------------------------------------------------- layouts
def test_12lead_layout_columns_and_rhythm_strip():
    geo = layout_12lead(list(STANDARD_LEADS), 5000, 500.0)
    assert len(geo.panels) == 13
    rows = {}
    for p in geo.panels[:12]:
        rows.setdefault(p.baseline_mm, []).append(p.lead)
    assert [rows[k] for k in sorted(rows, reverse=True)] == [
        ["I", "aVR", "V1", "V4"], ["II", "aVL", "V2", "V5"], ["III", "aVF", "V3", "V6"]]
    cal = calibration_width_mm()
    firsts = [p for p in geo.panels[:12] if p.lead in ("I", "aVR", "V1", "V4")]
    assert [p.x_mm - cal for p in firsts] == pytest.approx([0, 62.5, 125, 187.5])  # 2.5 s columns
    assert all(p.stop - p.start == 1250 for p in geo.panels[:12])
    rhythm = geo.panels[12]
    assert rhythm.lead == "II" and rhythm.primary and rhythm.stop - rhythm.start == 5000
    assert geo.width_mm % 5 == 0 and geo.width_mm >= cal + 250
    assert sum(p.calibration_x_mm is not None for p in geo.panels) == 4
    with pytest.raises(ECGScopeError, match="missing"):
        layout_12lead(["I", "II"], 5000, 500.0)


def test_rows_layout_wraps_long_windows():
    geo = layout_rows(["II", "V1"], 25 * 250, 250.0)  # 25 s, 10 s rows -> 3 blocks x 2 leads
    assert len(geo.panels) == 6
    assert [p.lead for p in geo.panels] == ["II", "V1"] * 3
    assert [p.start for p in geo.panels[::2]] == [0, 2500, 5000]
    assert geo.panels[-1].stop == 25 * 250
    assert [p.primary for p in geo.panels] == [True, False] * 3
    assert geo.panels[2].time_label == "0:00:10.0"
    assert np.all(np.diff([p.baseline_mm for p in geo.panels]) < 0)  # top to bottom
    with pytest.raises(ECGScopeError, match="rows"):
        layout_rows(["II"], (MAX_ROWS + 1) * 2500, 250.0)


def test_auto_layout_picks_12lead_only_with_all_standard_leads():
    rec = twelve_lead_record()
    assert plot_ecg(rec).ecg_layout.name == "12lead"
    assert plot_ecg(rec, leads=["II", "V5"]).ecg_layout.name == "rows"
    assert plot_ecg(spikes_record()).ecg_layout.name == "rows"
    with pytest.raises(ECGScopeError, match="12 standard"):
        plot_ecg(spikes_record(), layout="12lead")


# --------------------------------------------------------------- annotations
def test_annotations_drawn_once_per_beat_in_window():
    rec = spikes_record(seconds=20.0)
    fig = plot_ecg(rec, start=5.0, duration=10.0, annotations=True)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts.count("N") == 10 and "V" not in texts  # beats 5.5 ... 14.5 s, above the first lead only
    fig = plot_ecg(rec, start=10.0, duration=10.0, annotations="atr")
    assert [t.get_text() for t in fig.axes[0].texts].count("V") == 1
    with pytest.raises(ECGScopeError, match="annotator"):
        plot_ecg(rec, annotations="qrs")


def test_lead_annotators_go_on_their_lead():
    rec = twelve_lead_record()
    fig = plot_ecg(rec, annotations=["v1"])
    geo = fig.ecg_layout
    v1 = next(p for p in geo.panels if p.lead == "V1")
    xs = [t.get_position()[0] for t in fig.axes[0].texts if t.get_text() == "N"]
    assert xs and all(v1.x_mm <= x <= v1.x_mm + 62.5 for x in xs)


# ----------------------------------------------------------------- long data
def test_only_the_window_reaches_matplotlib():
    fs = 1000.0
    rec = Record(np.random.default_rng(0).normal(size=(1, int(3600 * fs))).astype(np.float32) * 0.1, fs)
    fig = plot_ecg(rec, start=1800.0, duration=10.0)
    points = sum(len(ln.get_xdata()) for ln in fig.axes[0].lines)
    assert points <= 10 * fs + 100
    assert "0:30:00.00" in fig.texts[0].get_text()


def test_dense_segments_are_decimated_keeping_peaks():
    fs = 5000.0
    rec = spikes_record(fs=fs, leads=("II",))
    line = trace_lines(plot_ecg(rec))[0]
    y = np.asarray(line.get_ydata())
    assert len(y) < rec.n_samples / 2
    assert np.ptp(y) == pytest.approx(20.0)  # every 2 mV spike survives


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-5, 5, allow_nan=False, width=32), min_size=2, max_size=400),
       st.integers(1, 60))
def test_minmax_decimation_keeps_extremes_in_order(values, n_bins):
    y = np.asarray(values, np.float32)
    idx, out = _minmax_decimate(y, n_bins)
    assert np.all(np.diff(idx) >= 0)
    assert out.max() == y.max() and out.min() == y.min()
    np.testing.assert_array_equal(out, y[idx])


def test_bad_speed_or_layout_is_an_error():
    with pytest.raises(ECGScopeError):
        plot_ecg(spikes_record(), speed=0)
    with pytest.raises(ECGScopeError):
        plot_ecg(spikes_record(), layout="spiral")


def test_calibration_pulse_shape():
    fig, ax = new_paper_figure(20.0, 20.0, header=False)
    line = draw_calibration_pulse(ax, 1.0, 5.0, speed=25.0, gain=10.0)
    assert list(line.get_xdata()) == pytest.approx([1, 3, 3, 8, 8, 10])
    assert list(line.get_ydata()) == pytest.approx([5, 5, 15, 15, 5, 5])
