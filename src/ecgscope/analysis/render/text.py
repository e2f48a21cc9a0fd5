"""Words and numbers shared by the HTML and PDF reports (one place for units and rounding)."""

from __future__ import annotations

from typing import Optional

from ..paper import format_time
from ..report import Report

__all__ = ["fmt", "record_lines", "key_measurements", "severity_color", "SEVERITY_COLORS"]

SEVERITY_COLORS = {"critical": "#8e0000", "major": "#c0392b", "minor": "#d68910", "info": "#1f6f43"}


def severity_color(severity: str) -> str:
    """Colour of a severity marker."""
    return SEVERITY_COLORS.get(severity, "#555555")


def fmt(value: Optional[float], unit: str = "", digits: int = 0) -> str:
    """``value`` rounded with its unit, or an en dash when not measured."""
    if value is None:
        return "–"
    return f"{value:.{digits}f}{(' ' + unit) if unit else ''}"


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def record_lines(report: Report) -> list[tuple[str, str]]:
    """(label, value) rows describing the record and patient."""
    r = report.record
    who = ", ".join(x for x in (r.sex or "", f"{r.age:g} y" if r.age is not None else "") if x) or "–"
    src = r.source or "–"
    if len(src) > 40:
        src = "…" + src[-39:]
    return [
        ("Record", r.record_id or "–"),
        ("Patient", r.patient_id or "–"),
        ("Sex, age", who),
        ("Recorded", r.start_time or "–"),
        ("Duration", f"{format_time(r.duration_s, 1)} ({r.duration_s:.1f} s)"),
        ("Leads", _clip(f"{r.n_leads}: {', '.join(r.leads[:12])}", 40)),
        ("Sampling", f"{r.fs:g} Hz"),
        ("Readable", f"{100 * report.readable_fraction:.0f} % of the record"),
        ("Source", src),
        ("Diagnoses", _clip("; ".join(r.diagnoses), 40) or "–"),
    ]


def key_measurements(report: Report) -> list[tuple[str, str]]:
    """(label, value) rows of the key measurements."""
    hr, iv, ect, hrv = report.heart_rate, report.intervals, report.ectopy, report.hrv
    rows = [
        ("Heart rate mean", fmt(hr.mean_bpm, "bpm")),
        (f"HR min / max ({hr.bin_s:g} s)", f"{fmt(hr.min_bpm)} / {fmt(hr.max_bpm, 'bpm')}"),
        ("Beats", f"{len(report.beats)}"),
        ("PR / QRS", f"{fmt(iv.PR)} / {fmt(iv.QRS, 'ms')}"),
        ("QT / QTc Bazett", f"{fmt(iv.QT)} / {fmt(iv.QTc_Bazett, 'ms')}"),
        ("QTc Fridericia", fmt(iv.QTc_Fridericia, "ms")),
    ]
    if ect.labelled:
        rows += [("PVCs (burden)", f"{ect.pvc_count} ({ect.pvc_burden_pct:.1f} %)"),
                 ("APCs (burden)", f"{ect.apc_count} ({ect.apc_burden_pct:.1f} %)"),
                 ("V couplets / runs", f"{ect.v_couplets} / {ect.v_runs}")]
    else:
        rows += [("Ectopy", "not assessed (no beat model)")]
    af = sum(e.end_s - e.start_s for e in report.rhythm if e.rhythm == "AF")
    rows.append(("AF burden", f"{100 * af / report.record.duration_s:.0f} %"))
    if hrv.available:
        v = hrv.values
        rows.append(("SDNN / RMSSD", f"{fmt(v.get('SDNN'))} / {fmt(v.get('RMSSD'), 'ms')}"))
    else:
        rows.append(("HRV", "not assessed"))
    return rows
