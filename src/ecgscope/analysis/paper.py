"""ECG paper: calibrated printouts of a :class:`~ecgscope.record.Record`.

Everything is drawn in **millimetres of paper**: the axes' data units are mm
and the axes occupy exactly their size in mm on a figure whose size is also
computed in mm, so a PDF printed at 100 % is calibrated (25 mm/s, 10 mm/mV by
default) and a PNG is calibrated at its stated dpi (``1 mm = dpi / 25.4 px``).

Building blocks, reusable by the clinical reports:

- :func:`new_paper_figure` — a figure + axes of a given paper size in mm;
- :func:`draw_paper` — the pink 1 mm / red 5 mm grid;
- :func:`draw_trace` — one signal segment at a given speed and gain;
- :func:`draw_calibration_pulse` — the 1 mV x 200 ms standardisation pulse;
- :func:`draw_annotations` — beat symbols above a trace;
- :func:`layout_12lead` / :func:`layout_rows` — where each lead goes;
- :func:`plot_ecg` — all of the above for a record.

The layout follows the conventional 12-lead printout (AHA/ACC/HRS
recommendations for the standardization of the ECG, Kligfield et al.,
Circulation 2007): four 2.5-s columns (I, II, III / aVR, aVL, aVF /
V1-V3 / V4-V6) over a 10-s lead-II rhythm strip, at 25 mm/s and 10 mm/mV.

Matplotlib is imported only when something is drawn, so importing this module
is cheap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from ..errors import ECGScopeError
from ..record import STANDARD_LEADS, Annotations, Record, canonical_lead_name

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "MM_PER_INCH",
    "PaperStyle",
    "Panel",
    "Layout",
    "format_time",
    "select_window",
    "new_paper_figure",
    "draw_paper",
    "draw_trace",
    "draw_calibration_pulse",
    "draw_annotations",
    "calibration_width_mm",
    "layout_12lead",
    "layout_rows",
    "plot_ecg",
]

MM_PER_INCH = 25.4
#: Default duration shown when none is given (s).
DEFAULT_DURATION = 10.0
#: Default length of one printed row (mm): 10 s at 25 mm/s.
DEFAULT_ROW_MM = 250.0
#: Refuse printouts with more rows than this (a 24-h record is ~8,600 rows).
MAX_ROWS = 120
#: Leads of the 3 x 4 layout, by column (top to bottom).
COLUMNS_12LEAD: tuple[tuple[str, ...], ...] = (
    ("I", "II", "III"), ("aVR", "aVL", "aVF"), ("V1", "V2", "V3"), ("V4", "V5", "V6"),
)
#: Boundary markers that are not drawn as beat symbols (LUDB wave on/offsets).
HIDDEN_SYMBOLS = frozenset({"(", ")", ""})


@dataclass(frozen=True)
class PaperStyle:
    """Colours (matplotlib specs), line widths (points) and fonts of the paper."""

    background: str = "#fff7f7"
    minor_color: str = "#f6c4c4"
    major_color: str = "#e06666"
    minor_width: float = 0.3
    major_width: float = 0.7
    trace_color: str = "#000000"
    trace_width: float = 0.7
    label_size: float = 8.0
    header_size: float = 8.5
    annotation_size: float = 6.5
    normal_beat_color: str = "#1f3a93"
    abnormal_beat_color: str = "#c0392b"
    margin_mm: float = 5.0
    header_mm: float = 10.0


@dataclass(frozen=True)
class Panel:
    """One trace segment on the paper.

    Attributes:
        lead: label printed on the paper.
        index: row of the record's signal.
        start, stop: sample range (of the record being plotted).
        x_mm: x of the segment's first sample.
        baseline_mm: y of 0 mV (after the segment's median is removed).
        top_mm: top of the row (labels and beat symbols hang below it).
        calibration_x_mm: where the calibration pulse starts, or ``None``.
        primary: whether annotations that belong to no lead are drawn here.
        time_label: optional time printed next to the lead label.
    """

    lead: str
    index: int
    start: int
    stop: int
    x_mm: float
    baseline_mm: float
    top_mm: float
    calibration_x_mm: float | None = None
    primary: bool = False
    time_label: str = ""


@dataclass(frozen=True)
class Layout:
    """Panels plus the paper size (mm) and the speed/gain they were laid out for."""

    name: str
    panels: tuple[Panel, ...]
    width_mm: float
    height_mm: float
    speed: float
    gain: float
    separators: tuple[tuple[float, float, float], ...] = field(default=())  # (x, y0, y1)


# --------------------------------------------------------------------- helpers
def format_time(seconds: float, decimals: int = 0) -> str:
    """``h:mm:ss`` (with ``decimals`` fractional digits), e.g. ``0:30:05.56``."""
    seconds = max(float(seconds), 0.0)
    scale = 10 ** decimals
    total = round(seconds * scale)
    whole, frac = divmod(total, scale)
    h, rem = divmod(int(whole), 3600)
    m, s = divmod(rem, 60)
    text = f"{h}:{m:02d}:{s:02d}"
    return f"{text}.{int(frac):0{decimals}d}" if decimals > 0 else text


def _round_up(value: float, step: float = 5.0) -> float:
    return step * math.ceil(value / step - 1e-9)


def _source(record: Record) -> str | None:
    return record.metadata.source or record.metadata.record_id


def select_window(
    record: Record,
    start: float = 0.0,
    duration: float | None = None,
    leads: Sequence[str | int] | None = None,
) -> Record:
    """The part of ``record`` from ``start`` s for ``duration`` s, with ``leads``.

    Unlike :meth:`Record.slice` this validates its input: a start past the
    end, a non-positive duration or an unknown lead raise
    :class:`~ecgscope.errors.ECGScopeError` naming the record and the fix. A
    window running past the end is cut at the end.
    """
    start = float(start)
    where = _source(record)
    if not math.isfinite(start) or start < 0:
        raise ECGScopeError(f"start {start:g} s is negative", path=where, fix="use a start of 0 s or more")
    if start >= record.duration:
        raise ECGScopeError(
            f"start {start:g} s is past the end of the record ({record.duration:.3f} s long)",
            path=where, fix=f"use a start below {record.duration:g} s",
        )
    if duration is not None and (not math.isfinite(float(duration)) or float(duration) <= 0):
        raise ECGScopeError(f"duration {duration!r} s is not positive", path=where, fix="give a duration above 0 s")
    out = record.slice(start, duration=None if duration is None else float(duration))
    if out.n_samples == 0:
        raise ECGScopeError(f"the window at {start:g} s holds no samples", path=where, fix="use a longer duration")
    if leads:
        try:
            idx = [record.lead_index(x) for x in leads]
        except KeyError:
            bad = [x for x in leads if not _has_lead(record, x)]
            raise ECGScopeError(
                f"no lead {', '.join(map(repr, bad))} in this record",
                path=where, fix=f"choose from {', '.join(record.leads)}",
            ) from None
        out = out.select_leads(idx)
    return out


def _has_lead(record: Record, lead) -> bool:
    try:
        record.lead_index(lead)
    except KeyError:
        return False
    return True


# ------------------------------------------------------------- drawing blocks
def new_paper_figure(
    width_mm: float, height_mm: float, style: PaperStyle = PaperStyle(), header: bool = True,
) -> tuple["Figure", "Axes"]:
    """A figure holding one axes of exactly ``width_mm`` x ``height_mm`` paper.

    The axes' data coordinates are millimetres (x right, y up) and its
    aspect is 1, so one data unit is one millimetre when the figure is saved
    without ``bbox_inches="tight"``. Margins of ``style.margin_mm`` surround
    the paper, plus ``style.header_mm`` above it when ``header`` is set.
    """
    from matplotlib.figure import Figure

    m = style.margin_mm
    top = m + (style.header_mm if header else 0.0)
    fig_w, fig_h = width_mm + 2 * m, height_mm + m + top
    fig = Figure(figsize=(fig_w / MM_PER_INCH, fig_h / MM_PER_INCH), facecolor="white")
    ax = fig.add_axes((m / fig_w, m / fig_h, width_mm / fig_w, height_mm / fig_h))
    ax.set_xlim(0, width_mm)
    ax.set_ylim(0, height_mm)
    ax.set_aspect("equal", adjustable="box", anchor="SW")
    ax.set_axis_off()
    return fig, ax


def draw_paper(
    ax: "Axes", width_mm: float, height_mm: float, *, x0: float = 0.0, y0: float = 0.0,
    minor_mm: float = 1.0, major_mm: float = 5.0, style: PaperStyle = PaperStyle(),
):
    """Draw ECG paper: a ``minor_mm`` pink grid with a ``major_mm`` red grid on top.

    Returns ``(minor, major)`` line collections (2 vectorised artists, however
    large the paper).
    """
    from matplotlib.collections import LineCollection
    from matplotlib.patches import Rectangle

    ax.add_patch(Rectangle((x0, y0), width_mm, height_mm, facecolor=style.background,
                           edgecolor="none", zorder=0))
    xs = x0 + np.arange(0.0, width_mm + 1e-6, minor_mm)
    ys = y0 + np.arange(0.0, height_mm + 1e-6, minor_mm)
    ratio = max(int(round(major_mm / minor_mm)), 1)
    x_major = np.zeros(xs.size, bool)
    x_major[::ratio] = True
    y_major = np.zeros(ys.size, bool)
    y_major[::ratio] = True

    def segments(vx, vy):
        vert = np.stack([np.stack([vx, np.full_like(vx, y0)], 1),
                         np.stack([vx, np.full_like(vx, y0 + height_mm)], 1)], 1)
        horiz = np.stack([np.stack([np.full_like(vy, x0), vy], 1),
                          np.stack([np.full_like(vy, x0 + width_mm), vy], 1)], 1)
        return np.concatenate([vert, horiz])

    minor = LineCollection(segments(xs[~x_major], ys[~y_major]), colors=style.minor_color,
                           linewidths=style.minor_width, zorder=1)
    major = LineCollection(segments(xs[x_major], ys[y_major]), colors=style.major_color,
                           linewidths=style.major_width, zorder=2)
    ax.add_collection(minor)
    ax.add_collection(major)
    return minor, major


def _minmax_decimate(y: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values keeping each bin's min and max in time order (peaks survive)."""
    n = y.size
    size = math.ceil(n / n_bins)
    n_bins = math.ceil(n / size)
    padded = np.concatenate([y, np.full(n_bins * size - n, y[-1], y.dtype)]).reshape(n_bins, size)
    base = np.arange(n_bins)[:, None] * size
    pair = np.sort(np.stack([padded.argmin(1), padded.argmax(1)], 1), axis=1) + base
    idx = np.minimum(pair.reshape(-1), n - 1)
    return idx, y[idx]


def draw_trace(
    ax: "Axes", signal: np.ndarray, fs: float, *, x_mm: float, baseline_mm: float,
    speed: float = 25.0, gain: float = 10.0, offset: float | None = None,
    max_points_per_mm: float = 40.0, style: PaperStyle = PaperStyle(), **line_kwargs,
):
    """Draw one lead segment starting at ``x_mm`` with 0 mV at ``baseline_mm``.

    ``signal`` is in mV at ``fs`` Hz; ``offset`` (mV, default: the segment's
    median, a robust isoelectric estimate) is subtracted first. Segments
    denser than ``max_points_per_mm`` are reduced to per-bin min/max pairs,
    so long or high-rate windows stay light while every peak is kept.
    Returns the :class:`~matplotlib.lines.Line2D`.
    """
    y = np.asarray(signal, dtype=np.float64).reshape(-1)
    if y.size == 0:
        raise ValueError("draw_trace needs at least one sample")
    if offset is None:
        finite = y[np.isfinite(y)]
        offset = float(np.median(finite)) if finite.size else 0.0
    width = y.size / fs * speed
    n_bins = int(width * max_points_per_mm / 2)
    if n_bins >= 1 and y.size > 2 * n_bins and np.isfinite(y).all():
        idx, y = _minmax_decimate(y, n_bins)
    else:
        idx = np.arange(y.size)
    x = x_mm + idx / fs * speed
    kwargs = {"color": style.trace_color, "linewidth": style.trace_width, "zorder": 4,
              "solid_joinstyle": "round", "solid_capstyle": "round"}
    kwargs.update(line_kwargs)
    (line,) = ax.plot(x, baseline_mm + (y - offset) * gain, **kwargs)
    return line


def calibration_width_mm(speed: float = 25.0, pulse_s: float = 0.2, pad_mm: float = 2.0) -> float:
    """Paper width taken by a calibration pulse including its lead-in and lead-out."""
    return 2 * pad_mm + pulse_s * speed


def draw_calibration_pulse(
    ax: "Axes", x_mm: float, baseline_mm: float, *, speed: float = 25.0, gain: float = 10.0,
    amplitude_mv: float = 1.0, pulse_s: float = 0.2, pad_mm: float = 2.0,
    style: PaperStyle = PaperStyle(),
):
    """Draw the standardisation pulse: ``amplitude_mv`` high, ``pulse_s`` wide.

    At 10 mm/mV and 25 mm/s the default pulse is 10 mm x 5 mm; its width is
    :func:`calibration_width_mm`. Returns the Line2D.
    """
    w, h = pulse_s * speed, amplitude_mv * gain
    a, b = x_mm + pad_mm, x_mm + pad_mm + w
    xs = [x_mm, a, a, b, b, b + pad_mm]
    ys = [baseline_mm, baseline_mm, baseline_mm + h, baseline_mm + h, baseline_mm, baseline_mm]
    (line,) = ax.plot(xs, ys, color=style.trace_color, linewidth=style.trace_width, zorder=4,
                      solid_joinstyle="miter")
    return line


def _beat_label(symbol: str, aux: str) -> str | None:
    if symbol in HIDDEN_SYMBOLS:
        return None
    if symbol == "+":  # rhythm change: its label is in aux, e.g. "(AFIB"
        text = aux.replace("\x00", "").strip()
        return text or None
    return symbol


def draw_annotations(
    ax: "Axes", annotations: Annotations, fs: float, *, x_mm: float, y_mm: float,
    start: int = 0, stop: int | None = None, speed: float = 25.0, style: PaperStyle = PaperStyle(),
) -> list:
    """Write annotation symbols at ``y_mm`` above samples ``start:stop``.

    Sample positions are those of the plotted record; ``x_mm`` is where
    ``start`` is drawn. Normal beats (``N``) are dark blue, everything else
    red; wave on/offset markers (``(``, ``)``) are skipped and rhythm changes
    (``+``) show their aux label. Returns the Text artists.
    """
    stop = np.iinfo(np.int64).max if stop is None else stop
    lo, hi = np.searchsorted(annotations.sample, [start, stop], side="left")
    texts = []
    for s, sym, aux in zip(annotations.sample[lo:hi], annotations.symbol[lo:hi], annotations.aux[lo:hi]):
        label = _beat_label(str(sym), str(aux))
        if label is None:
            continue
        color = style.normal_beat_color if label in ("N", "p", "t") else style.abnormal_beat_color
        size = style.annotation_size * (0.8 if len(label) > 2 else 1.0)
        texts.append(ax.text(x_mm + (int(s) - start) / fs * speed, y_mm, label, ha="center", va="top",
                             fontsize=size, color=color, zorder=5))
    return texts


# ---------------------------------------------------------------------- layouts
def layout_12lead(
    leads: Sequence[str], n_samples: int, fs: float, *, speed: float = 25.0, gain: float = 10.0,
    row_height_mm: float = 37.5, baseline_mm: float = 15.0, rhythm_lead: str = "II",
    right_pad_mm: float = 3.0,
) -> Layout:
    """The standard 3 x 4 printout plus a full-length rhythm strip.

    ``leads`` are the canonical names of the record's rows (all twelve
    standard leads must be there). The ``n_samples`` window is split into
    four equal columns (2.5 s each for the usual 10 s): I/II/III, aVR/aVL/aVF,
    V1-V3, V4-V6; the bottom row is ``rhythm_lead`` over the whole window.
    Every row starts with a calibration pulse; short separators mark the
    column boundaries. ``baseline_mm`` is 0 mV's height above each row's
    bottom.
    """
    missing = [x for x in STANDARD_LEADS if x not in leads]
    if missing:
        raise ECGScopeError(f"a 12-lead layout needs all 12 standard leads; missing {', '.join(missing)}",
                            fix="use layout='rows' or pick leads explicitly")
    rhythm = canonical_lead_name(rhythm_lead)
    if rhythm not in leads:
        raise ECGScopeError(f"rhythm lead {rhythm_lead!r} is not in the record", fix=f"choose from {', '.join(leads)}")
    col = n_samples // 4
    if col < 1:
        raise ECGScopeError(f"a 12-lead layout needs at least 4 samples, the window has {n_samples}",
                            fix="use a longer duration")
    cal = calibration_width_mm(speed)
    col_mm = col / fs * speed
    height = 4 * row_height_mm
    panels = []
    separators = []
    for r in range(3):
        top = height - r * row_height_mm
        base = top - row_height_mm + baseline_mm
        for c, names in enumerate(COLUMNS_12LEAD):
            x = cal + c * col_mm
            panels.append(Panel(lead=names[r], index=list(leads).index(names[r]), start=c * col,
                                stop=(c + 1) * col, x_mm=x, baseline_mm=base, top_mm=top,
                                calibration_x_mm=0.0 if c == 0 else None))
            if c > 0:
                separators.append((x, base - 2.5, base + 2.5))
    panels.append(Panel(lead=rhythm, index=list(leads).index(rhythm), start=0, stop=4 * col, x_mm=cal,
                        baseline_mm=baseline_mm, top_mm=row_height_mm, calibration_x_mm=0.0, primary=True))
    width = _round_up(cal + 4 * col_mm + right_pad_mm)
    return Layout("12lead", tuple(panels), width, height, speed, gain, tuple(separators))


def layout_rows(
    leads: Sequence[str], n_samples: int, fs: float, *, indices: Sequence[int] | None = None,
    speed: float = 25.0, gain: float = 10.0, row_seconds: float | None = None,
    row_height_mm: float | Sequence[float] = 30.0, baseline_mm: float | Sequence[float] = 12.0,
    right_pad_mm: float = 3.0, time_offset: float = 0.0,
) -> Layout:
    """One row per lead; windows longer than a row wrap into blocks of rows.

    A row holds ``row_seconds`` (default: 250 mm of paper, 10 s at 25 mm/s).
    Block ``k`` shows every lead for seconds ``[k, k + 1) * row_seconds``;
    each row starts with a calibration pulse and, when there is more than one
    block, its start time (``time_offset`` + block start). ``row_height_mm``
    and ``baseline_mm`` (0 mV above the row's bottom) are one value or one
    per drawn lead.
    """
    if n_samples < 1:
        raise ECGScopeError("the window holds no samples", fix="use a longer duration")
    indices = list(range(len(leads))) if indices is None else list(indices)
    row_seconds = DEFAULT_ROW_MM / speed if row_seconds is None else float(row_seconds)
    per_row = max(int(round(row_seconds * fs)), 1)
    n_blocks = math.ceil(n_samples / per_row)
    n_rows = n_blocks * len(indices)
    if n_rows > MAX_ROWS:
        raise ECGScopeError(
            f"this window needs {n_rows} rows of paper ({n_samples / fs:g} s x {len(indices)} leads); "
            f"at most {MAX_ROWS} are drawn",
            fix="plot a shorter duration or fewer leads",
        )
    cal = calibration_width_mm(speed)
    heights = np.broadcast_to(np.asarray(row_height_mm, dtype=float), (len(indices),))
    bases = np.broadcast_to(np.asarray(baseline_mm, dtype=float), (len(indices),))
    height = n_blocks * float(heights.sum())
    panels = []
    top = height
    for b in range(n_blocks):
        start, stop = b * per_row, min((b + 1) * per_row, n_samples)
        for j, i in enumerate(indices):
            panels.append(Panel(
                lead=leads[i], index=i, start=start, stop=stop, x_mm=cal,
                baseline_mm=top - float(heights[j]) + float(bases[j]), top_mm=top, calibration_x_mm=0.0,
                primary=(j == 0), time_label=format_time(time_offset + start / fs, 1) if n_blocks > 1 else "",
            ))
            top -= float(heights[j])
    width = _round_up(cal + min(per_row, n_samples) / fs * speed + right_pad_mm)
    return Layout("rows", tuple(panels), width, height, speed, gain)


def _row_geometry(record: Record, spans: Iterable[tuple[int, int, int]], gain: float,
                  min_mm: float, max_mm: float, top_mm: float = 4.0) -> tuple[float, float]:
    """Row height and baseline height (mm) fitting the segments' extent around their medians.

    ``top_mm`` is kept free above the trace (labels, beat symbols), 3 mm below.
    """
    above, below = 0.5, 0.3  # mV: at least this much room
    for i, a, b in spans:
        seg = record.signal[i, a:b]
        seg = seg[np.isfinite(seg)]
        if seg.size:
            med = float(np.median(seg))
            above = max(above, float(seg.max()) - med)
            below = max(below, med - float(seg.min()))
    bottom = 3.0
    height = float(np.clip(_round_up((above + below) * gain + top_mm + bottom), min_mm, max_mm))
    return height, float(round(bottom + (height - top_mm - bottom) * below / (above + below)))


def _seconds(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _header(record: Record, start: float, stop: float, speed: float, gain: float) -> str:
    md = record.metadata
    parts = [md.record_id or "record"]
    who = ", ".join(x for x in (md.sex or "", f"{md.age:g} y" if md.age is not None else "") if x)
    if who:
        parts.append(who)
    parts += [f"fs {record.fs:g} Hz", f"{speed:g} mm/s", f"{gain:g} mm/mV",
              f"{format_time(start, 2)} \u2013 {format_time(stop, 2)} ({_seconds(stop - start)} s)"]
    return "   |   ".join(parts)


def _annotators_for(record: Record, annotations) -> list[str]:
    if annotations in (None, False):
        return []
    if annotations is True:
        return list(record.annotations)
    names = [annotations] if isinstance(annotations, str) else list(annotations)
    missing = [n for n in names if n not in record.annotations]
    if missing:
        have = ", ".join(record.annotations) or "none"
        raise ECGScopeError(f"no annotator {', '.join(map(repr, missing))} in this record (it has: {have})",
                            path=_source(record), fix="pick one of its annotators or leave annotations off")
    return names


def plot_ecg(
    record: Record,
    start: float = 0.0,
    duration: float | None = None,
    leads: Sequence[str | int] | None = None,
    layout: str = "auto",
    *,
    speed: float = 25.0,
    gain: float = 10.0,
    annotations: bool | str | Sequence[str] | None = None,
    row_seconds: float | None = None,
    title: str | None = None,
    time_offset: float = 0.0,
    style: PaperStyle = PaperStyle(),
) -> "Figure":
    """Print ``record`` on calibrated ECG paper; returns a matplotlib Figure.

    Args:
        record: the ECG.
        start, duration: the window in seconds (default 10 s from ``start``;
            only this window is ever handed to matplotlib).
        leads: leads to draw (names or indices); default all.
        layout: ``"12lead"`` (3 x 4 + rhythm strip), ``"rows"`` (one row per
            lead, wrapping long windows) or ``"auto"`` (12-lead when all
            twelve standard leads are drawn, else rows).
        speed, gain: paper speed in mm/s and amplitude in mm/mV.
        annotations: ``True`` for all annotators, a name or names, or
            ``None``/``False`` for none. An annotator named after a lead
            (LUDB ``"ii"``) is drawn on that lead; others above the first
            row of each block (the rhythm strip in the 12-lead layout).
        row_seconds: seconds per row in the rows layout (default 250 mm).
        title: header text (default: record id, patient, fs, speed, gain, window).
        time_offset: time (s) of the record's first sample in the original
            recording, when ``record`` is already a window of it (labels only).

    Save with ``fig.savefig(path, dpi=...)`` and *without* ``bbox_inches``
    so 1 mm of paper stays 1 mm (PDF/SVG) or ``dpi / 25.4`` px (PNG). The
    figure's ``ecg_layout`` attribute is the :class:`Layout` that was drawn
    (panel positions in mm), e.g. for overlays.
    """
    if speed <= 0 or gain <= 0 or not (math.isfinite(speed) and math.isfinite(gain)):
        raise ECGScopeError(f"speed {speed:g} mm/s and gain {gain:g} mm/mV must be positive",
                            fix="use e.g. speed=25, gain=10")
    if layout not in ("auto", "12lead", "rows"):
        raise ECGScopeError(f"unknown layout {layout!r}", fix="use 'auto', '12lead' or 'rows'")
    names = _annotators_for(record, annotations)
    window = select_window(record, start, DEFAULT_DURATION if duration is None else duration, leads)
    t0 = float(time_offset) + float(start)
    t1 = t0 + window.duration
    if layout == "auto":
        layout = "12lead" if set(STANDARD_LEADS) <= set(window.leads) else "rows"
    top = 9.5 if names else 5.0  # room for the lead label, and the beat symbols below it
    if layout == "12lead":
        spans = [(p.index, p.start, p.stop) for p in layout_12lead(window.leads, window.n_samples, window.fs).panels]
        height, base = _row_geometry(window, spans, gain, 30.0, 45.0, top)
        geo = layout_12lead(window.leads, window.n_samples, window.fs, speed=speed, gain=gain,
                            row_height_mm=height, baseline_mm=base)
    else:
        rows = [_row_geometry(window, [(i, 0, window.n_samples)], gain, 20.0, 100.0, top)
                for i in range(window.n_leads)]
        geo = layout_rows(window.leads, window.n_samples, window.fs, speed=speed, gain=gain,
                          row_seconds=row_seconds, time_offset=t0, row_height_mm=[h for h, _ in rows],
                          baseline_mm=[b for _, b in rows])

    fig, ax = new_paper_figure(geo.width_mm, geo.height_mm, style)
    draw_paper(ax, geo.width_mm, geo.height_mm, style=style)
    lead_of = {n: canonical_lead_name(n) for n in names}
    for p in geo.panels:
        if p.calibration_x_mm is not None:
            draw_calibration_pulse(ax, p.calibration_x_mm, p.baseline_mm, speed=speed, gain=gain, style=style)
        draw_trace(ax, window.signal[p.index, p.start:p.stop], window.fs, x_mm=p.x_mm,
                   baseline_mm=p.baseline_mm, speed=speed, gain=gain, style=style)
        label = p.lead + (f"   {p.time_label}" if p.time_label else "")
        ax.text(p.x_mm + 1.0, p.top_mm - 1.5, label, ha="left", va="top", fontsize=style.label_size,
                fontweight="bold", zorder=6)
        for n in names:
            on_lead = lead_of[n] in window.leads
            if (on_lead and lead_of[n] == p.lead) or (not on_lead and p.primary):
                draw_annotations(ax, window.annotations[n], window.fs, x_mm=p.x_mm, y_mm=p.top_mm - 5.5,
                                 start=p.start, stop=p.stop, speed=speed, style=style)
    for x, y0, y1 in geo.separators:
        ax.plot([x, x], [y0, y1], color=style.trace_color, linewidth=style.trace_width, zorder=4)
    fig.text(style.margin_mm / (geo.width_mm + 2 * style.margin_mm),
             1 - (style.margin_mm + 1) / (geo.height_mm + 2 * style.margin_mm + style.header_mm),
             title if title is not None else _header(window, t0, t1, speed, gain),
             ha="left", va="top", fontsize=style.header_size)
    fig.ecg_layout = geo  # for callers and tests: where every panel went
    return fig
