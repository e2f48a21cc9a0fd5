"""Calibrated ECG strips of a report, drawn with the blocks of :mod:`ecgscope.analysis.paper`.

``draw_strip(ax, record, report, start_s, ...)`` draws a window of the record
on ECG paper inside an axes whose data units are millimetres, with the
analysis' beat labels (and rhythm changes) above the first row. The same
function feeds the PDF (drawn in place on an A4 page) and the HTML report
(one PNG per strip).
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from ...record import STANDARD_LEADS, Annotations, Record
from ..paper import (PaperStyle, _row_geometry, calibration_width_mm, draw_annotations, draw_calibration_pulse,
                     draw_paper, draw_trace, layout_12lead, layout_rows, new_paper_figure, select_window)
from ..report import Report

__all__ = ["draw_strip", "strip_figure", "strip_leads", "strip_size_mm", "analysis_annotations", "SPEED", "GAIN", "draw_trend"]

SPEED = 25.0  # mm/s
GAIN = 10.0  # mm/mV
STYLE = PaperStyle()
_RHYTHM_AUX = {"AF": "(AFIB", "sinus": "(N", "undetermined": "(?"}


def strip_leads(record: Record, n: int = 2) -> list[int]:
    """Rows to show on an event strip: II and V1 when present, else the first ``n`` leads."""
    preferred = [record.leads.index(x) for x in ("II", "V1") if x in record.leads]
    rest = [i for i in range(record.n_leads) if i not in preferred]
    return (preferred + rest)[:n]


def is_12lead(record: Record) -> bool:
    """Whether all twelve standard leads are present."""
    return set(STANDARD_LEADS) <= set(record.leads)


def analysis_annotations(report: Report) -> Annotations:
    """The report's beats (AAMI labels) plus rhythm changes (``+`` with aux) as one annotator.

    Unlabelled beats (no classifier) get no symbol rather than a misleading ``Q``.
    """
    fs = report.record.fs
    labelled = report.beats.classifier is not None
    n = len(report.beats) if labelled else 0
    samples = [np.asarray(report.beats.sample[:n], np.int64)]
    symbols = [np.asarray(report.beats.label[:n], dtype=object)]
    aux = [np.full(n, "", dtype=object)]
    if any(e.rhythm == "AF" for e in report.rhythm):
        samples.append(np.asarray([int(round(e.start_s * fs)) for e in report.rhythm], np.int64))
        symbols.append(np.full(len(report.rhythm), "+", dtype=object))
        aux.append(np.asarray([_RHYTHM_AUX.get(e.rhythm, "(" + e.rhythm) for e in report.rhythm], dtype=object))
    return Annotations(sample=np.concatenate(samples), symbol=np.concatenate(symbols),
                       aux=np.concatenate(aux), annotator="ecgscope")


def _window(record: Record, start_s: float, duration_s: float, leads: Optional[Sequence[int]]) -> Record:
    return select_window(record, max(0.0, start_s), duration_s, leads)


def strip_size_mm(record: Record, duration_s: float, n_rows: int, row_mm: float = 30.0) -> tuple[float, float]:
    """Paper size (width, height) in mm of a rows strip."""
    return calibration_width_mm(SPEED) + duration_s * SPEED + 3.0, n_rows * row_mm


def draw_strip(ax, record: Record, report: Optional[Report], start_s: float, duration_s: float = 10.0, *,
               leads: Optional[Sequence[int]] = None, twelve_lead: bool = False, x0: float = 0.0, y0: float = 0.0,
               row_mm: Optional[float] = None, highlight: Optional[tuple[float, float]] = None,
               annotations: Optional[Annotations] = None) -> tuple[float, float]:
    """Draw ``duration_s`` s from ``start_s`` on paper with its lower-left corner at ``(x0, y0)`` mm.

    ``twelve_lead`` draws the 3 x 4 layout plus a lead-II rhythm strip; else one
    row per lead in ``leads`` (default :func:`strip_leads`). Beat labels come
    from ``report`` (or ``annotations``); ``highlight`` shades an episode
    ``(start_s, end_s)``. Returns the paper's (width, height) in mm.
    """
    window = _window(record, start_s, duration_s, None if twelve_lead else list(leads or strip_leads(record)))
    t0 = max(0.0, start_s)
    top = 9.5
    if twelve_lead:
        spans = [(p.index, p.start, p.stop) for p in layout_12lead(window.leads, window.n_samples, window.fs).panels]
        height, base = _row_geometry(window, spans, GAIN, 25.0, row_mm or 27.0, top)
        geo = layout_12lead(window.leads, window.n_samples, window.fs, speed=SPEED, gain=GAIN,
                            row_height_mm=height, baseline_mm=base)
    else:
        rows = [_row_geometry(window, [(i, 0, window.n_samples)], GAIN, 22.0, row_mm or 32.0, top)
                for i in range(window.n_leads)]
        geo = layout_rows(window.leads, window.n_samples, window.fs, speed=SPEED, gain=GAIN,
                          row_seconds=duration_s, row_height_mm=[h for h, _ in rows], baseline_mm=[b for _, b in rows])
    ann = annotations if annotations is not None else (analysis_annotations(report) if report is not None else None)
    if ann is not None:
        ann = ann.window(int(round(t0 * record.fs)), int(round(t0 * record.fs)) + window.n_samples)
    draw_paper(ax, geo.width_mm, geo.height_mm, x0=x0, y0=y0, style=STYLE)
    if highlight is not None:
        a = x0 + calibration_width_mm(SPEED) + (max(highlight[0], t0) - t0) * SPEED
        b = x0 + calibration_width_mm(SPEED) + (min(highlight[1], t0 + window.duration) - t0) * SPEED
        if b > a:
            from matplotlib.patches import Rectangle

            ax.add_patch(Rectangle((a, y0), b - a, geo.height_mm, facecolor="#f7d774", alpha=0.22, lw=0, zorder=1.5))
    for p in geo.panels:
        if p.calibration_x_mm is not None:
            draw_calibration_pulse(ax, x0 + p.calibration_x_mm, y0 + p.baseline_mm, speed=SPEED, gain=GAIN, style=STYLE)
        seg = np.nan_to_num(window.signal[p.index, p.start:p.stop], nan=0.0)
        draw_trace(ax, seg, window.fs, x_mm=x0 + p.x_mm, baseline_mm=y0 + p.baseline_mm, speed=SPEED, gain=GAIN,
                   style=STYLE)
        ax.text(x0 + p.x_mm + 1.0, y0 + p.top_mm - 1.5, p.lead, ha="left", va="top", fontsize=STYLE.label_size,
                fontweight="bold", zorder=6)
        if ann is not None and (p.primary or (not twelve_lead and p.index == 0)):
            rhythm = ann.symbol == "+"
            draw_annotations(ax, ann.select(~rhythm), window.fs, x_mm=x0 + p.x_mm, y_mm=y0 + p.top_mm - 5.5,
                             start=p.start, stop=p.stop, speed=SPEED, style=STYLE)
            draw_annotations(ax, ann.select(rhythm), window.fs, x_mm=x0 + p.x_mm + 7.0, y_mm=y0 + p.top_mm - 1.2,
                             start=p.start, stop=p.stop, speed=SPEED, style=STYLE)
    for x, ya, yb in geo.separators:
        ax.plot([x0 + x, x0 + x], [y0 + ya, y0 + yb], color=STYLE.trace_color, linewidth=STYLE.trace_width, zorder=4)
    ax.text(x0 + geo.width_mm - 1.0, y0 + geo.height_mm - 1.5, f"{t0:.1f}–{t0 + window.duration:.1f} s",
            ha="right", va="top", fontsize=STYLE.label_size - 1, color="#444444", zorder=6)
    return geo.width_mm, geo.height_mm


def strip_figure(record: Record, report: Optional[Report], start_s: float, duration_s: float = 10.0, **kwargs):
    """A stand-alone figure holding one strip (for PNG/SVG export); 1 data unit = 1 mm."""
    from matplotlib.figure import Figure

    probe = Figure()
    ax = probe.add_subplot()
    w, h = draw_strip(ax, record, report, start_s, duration_s, **kwargs)
    fig, ax = new_paper_figure(w, h, STYLE, header=False)
    draw_strip(ax, record, report, start_s, duration_s, **kwargs)
    return fig


def draw_trend(ax, report: Report, fontsize: float = 8.0) -> None:
    """Heart-rate trend on ``ax`` with AF episodes shaded orange and unreadable stretches grey."""
    hr = report.heart_rate
    minutes = report.record.duration_s > 600
    scale = 60.0 if minutes else 1.0
    t = (np.asarray(hr.time_s) + hr.bin_s / 2) / scale
    v = np.array([np.nan if x is None else x for x in hr.hr_bpm], dtype=float)
    for e in report.rhythm:
        if e.rhythm == "AF":
            ax.axvspan(e.start_s / scale, e.end_s / scale, color="#f5b041", alpha=0.35, lw=0)
    for q in report.unreadable:
        ax.axvspan(q.start_s / scale, q.end_s / scale, color="#bbbbbb", alpha=0.6, lw=0)
    ax.plot(t, v, color="#1f3a93", lw=1.0, marker="o" if len(t) < 60 else None, ms=2)
    ax.set_xlim(0, report.record.duration_s / scale)
    finite = v[np.isfinite(v)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (50.0, 100.0)
    ax.set_ylim(max(lo - 15, 0), hi + 15)
    ax.set_ylabel("bpm", fontsize=fontsize)
    ax.set_xlabel("time (min)" if minutes else "time (s)", fontsize=fontsize, labelpad=1)
    ax.tick_params(labelsize=fontsize - 0.5, length=2, pad=1)
    ax.grid(alpha=0.3, lw=0.4)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
