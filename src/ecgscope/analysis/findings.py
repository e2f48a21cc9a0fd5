"""Findings: the report's statements, each with a confidence, its evidence and an event strip.

``build_findings(report)`` reads the measured parts of a :class:`Report`
(quality, rhythm, ectopy, heart rate, intervals) and states what a reader
should know, most important first. Thresholds are the usual adult limits
(AHA/ACCF/HRS recommendations for the standardization and interpretation of
the ECG, Rautaharju et al. / Surawicz et al., Circulation 2009): bradycardia
< 60 bpm, tachycardia > 100 bpm, PR > 200 ms, QRS >= 120 ms, QTc > 470 ms
(> 500 ms marked), and pauses > 2.0 s.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from .report import EctopicRun, Finding, Report, RhythmEpisode, Strip

__all__ = ["build_findings", "STRIP_S", "PAUSE_S"]

#: Length of an event strip (s).
STRIP_S = 10.0
#: RR intervals longer than this (s) in readable signal are pauses.
PAUSE_S = 2.0
_SEVERITY_ORDER = {"critical": 0, "major": 1, "minor": 2, "info": 3}


def _t(seconds: float) -> str:
    return f"{seconds:.1f}"


def _strip(report: Report, start: float, title: str) -> Strip:
    """A strip of ``STRIP_S`` seconds starting near ``start``, kept inside the record."""
    dur = report.record.duration_s
    length = min(STRIP_S, dur)
    return Strip(start_s=float(np.clip(start, 0.0, max(dur - length, 0.0))), duration_s=length, title=title)


def _mean_prob(report: Report, label: str, a: float = -np.inf, b: float = np.inf) -> Optional[float]:
    lab = np.asarray(report.beats.label, dtype=object)
    t = np.asarray(report.beats.time_s)
    p = np.array([np.nan if x is None else x for x in report.beats.probability], dtype=float)
    sel = (lab == label) & (t >= a - 1e-3) & (t <= b + 1e-3) & np.isfinite(p)
    return float(p[sel].mean()) if sel.any() else None


def _quality_findings(report: Report) -> list[Finding]:
    bad = report.unreadable
    if not bad:
        return []
    total = sum(s.end_s - s.start_s for s in bad)
    pct = 100.0 * total / report.record.duration_s
    reasons = sorted({r for s in bad for r in s.reasons}) or ["low quality score"]
    where = ", ".join(f"{_t(s.start_s)}–{_t(s.end_s)} s" for s in bad[:4]) + (" …" if len(bad) > 4 else "")
    none_left = report.readable_fraction <= 0.0
    return [Finding(
        code="NO_READABLE_SIGNAL" if none_left else "UNREADABLE",
        title="No readable ECG" if none_left else "Unreadable signal",
        text=(f"No readable ECG in the whole record ({_t(total)} s): no beats were detected or guessed."
              if none_left else
              f"Unreadable signal in {len(bad)} stretch(es), {_t(total)} s ({pct:.0f} % of the record): {where}. "
              "No beats were guessed there."),
        severity="major" if pct >= 50 else "minor",
        confidence=float(np.clip(1.0 - np.mean([s.score for s in bad]), 0.5, 1.0)),
        start_s=bad[0].start_s, end_s=bad[-1].end_s,
        evidence=[f"failed quality metrics: {', '.join(reasons)}",
                  f"readable: {100 * report.readable_fraction:.0f} % of {_t(report.record.duration_s)} s"],
        strip=None if none_left else _strip(report, bad[0].start_s - 3.0, f"Unreadable signal from {_t(bad[0].start_s)} s"),
    )]


def _af_finding(report: Report, e: RhythmEpisode) -> Finding:
    dur = e.end_s - e.start_s
    pct = 100.0 * dur / report.record.duration_s
    irr = e.evidence.get("irregular_fraction")
    pw, p_model = e.evidence.get("p_wave_fraction"), e.evidence.get("p_af_model")
    evidence = [f"RR irregularity: {100 * irr:.0f} % of successive RR intervals differ by more than 10 %"
                if irr is not None else "RR intervals irregular",
                f"P waves absent in {100 * (1 - pw):.0f} % of delineated beats" if pw is not None
                else f"rhythm model: mean P(AF) {p_model:.2f} over {int(e.evidence.get('n_windows') or 0)} "
                     "windows" if p_model is not None else "P waves not assessed",
                f"mean ventricular rate {e.mean_hr_bpm:.0f} bpm" if e.mean_hr_bpm else "ventricular rate not measured",
                f"{int(e.evidence.get('n_beats') or 0)} beats"]
    text = (f"Atrial fibrillation {_t(e.start_s)}–{_t(e.end_s)} s ({dur:.0f} s, {pct:.0f} % of record): "
            + "; ".join(evidence[:3]) + ".")
    return Finding(code="AF", title="Atrial fibrillation", text=text, severity="major", confidence=e.confidence,
                   start_s=e.start_s, end_s=e.end_s, evidence=evidence,
                   strip=_strip(report, e.start_s - 4.0, f"Atrial fibrillation onset at {_t(e.start_s)} s"))


def _sinus_finding(report: Report, sinus: list[RhythmEpisode]) -> Optional[Finding]:
    if not sinus:
        return None
    hr = report.heart_rate
    total = sum(e.end_s - e.start_s for e in sinus)
    rates = [e.mean_hr_bpm for e in sinus if e.mean_hr_bpm]
    mean = float(np.average(rates, weights=[e.end_s - e.start_s for e in sinus if e.mean_hr_bpm])) if rates else None
    name, code, severity = "Sinus rhythm", "SINUS", "info"
    if mean is not None and mean < 60:
        name, code, severity = "Sinus bradycardia", "SINUS_BRADY", "minor"
    elif mean is not None and mean > 100:
        name, code, severity = "Sinus tachycardia", "SINUS_TACHY", "minor"
    pw = report.intervals.p_wave_fraction
    evidence = [f"{_t(total)} s in {len(sinus)} episode(s)",
                f"mean rate {mean:.0f} bpm" if mean else "rate not measured",
                f"heart-rate range {hr.min_bpm:.0f}–{hr.max_bpm:.0f} bpm (per {hr.bin_s:g} s)"
                if hr.min_bpm and hr.max_bpm else "heart-rate range not measured",
                f"P waves before {100 * pw:.0f} % of delineated normal beats" if pw is not None
                else "P waves not assessed"]
    conf = float(np.clip(0.5 + 0.5 * (pw if pw is not None else 0.5), 0, 1))
    return Finding(code=code, title=name, text=f"{name}" + (f", mean {mean:.0f} bpm" if mean else "")
                   + f" ({100 * total / report.record.duration_s:.0f} % of record).",
                   severity=severity, confidence=conf, start_s=sinus[0].start_s, end_s=sinus[-1].end_s,
                   evidence=evidence)


def _event_strip(report: Report, ev: EctopicRun, title: str) -> Strip:
    return _strip(report, (ev.start_s + ev.end_s) / 2 - STRIP_S / 2, title)


def _ectopy_findings(report: Report) -> list[Finding]:
    ect = report.ectopy
    if not ect.labelled:
        return []
    out = []
    names = {"V": ("PVC", "Ventricular ectopy", "PVCs", ect.pvc_count, ect.pvc_burden_pct, ect.pvc_per_hour),
             "S": ("APC", "Supraventricular ectopy", "APCs", ect.apc_count, ect.apc_burden_pct, ect.apc_per_hour)}
    lab = np.asarray(report.beats.label, dtype=object)
    t = np.asarray(report.beats.time_s)
    for kind, (code, title, plural, count, burden, per_h) in names.items():
        if count == 0:
            continue
        evs = [e for e in ect.events if e.kind == kind]
        couplets = [e for e in evs if e.pattern == "couplet"]
        runs = [e for e in evs if e.pattern == "run"]
        big = [e for e in evs if e.pattern in ("bigeminy", "trigeminy")]
        parts = [f"{count} {plural} ({burden:.1f} % of {ect.n_beats} beats"
                 + (f", {per_h:.0f}/h)" if per_h is not None else ")")]
        parts.append(f"{len(couplets)} couplet(s)")
        parts.append(f"{len(runs)} run(s) of 3 or more" + (f", longest {max(r.n_beats for r in runs)} beats"
                                                             if runs else ""))
        for e in big:
            parts.append(f"{e.pattern} {_t(e.start_s)}–{_t(e.end_s)} s ({e.n_beats} cycles)")
        prob = _mean_prob(report, kind)
        first = t[lab == kind][0]
        severity = "major" if burden >= 10 or runs else "minor"
        out.append(Finding(code=code, title=title, text="; ".join(parts) + ".", severity=severity,
                           confidence=prob if prob is not None else 0.5, evidence=parts[1:] + (
                               [f"mean classifier probability {prob:.2f}"] if prob is not None else []),
                           start_s=float(first), end_s=float(t[lab == kind][-1]),
                           strip=_strip(report, first - 3.0, f"First {plural[:-1]} at {_t(first)} s")))
        if couplets:
            c = couplets[0]
            out.append(Finding(code=f"{kind}_COUPLET", title=f"{plural[:-1]} couplet",
                               text=f"{len(couplets)} {plural[:-1]} couplet(s); first at {_t(c.start_s)} s.",
                               severity="minor", confidence=_mean_prob(report, kind, c.start_s, c.end_s) or 0.5,
                               start_s=c.start_s, end_s=c.end_s, evidence=[f"2 consecutive {kind} beats"],
                               strip=_event_strip(report, c, f"{plural[:-1]} couplet at {_t(c.start_s)} s")))
        if runs:
            r = max(runs, key=lambda e: e.n_beats)
            fast = (r.rate_bpm or 0) >= 100
            name = ("Non-sustained ventricular tachycardia" if kind == "V" else "Supraventricular tachycardia run") \
                if fast else f"{'Ventricular' if kind == 'V' else 'Supraventricular'} run"
            out.append(Finding(code=f"{kind}_RUN", title=name,
                               text=f"{len(runs)} run(s) of 3 or more {plural}; longest {r.n_beats} beats at "
                                    f"{_t(r.start_s)} s" + (f", {r.rate_bpm:.0f} bpm." if r.rate_bpm else "."),
                               severity="major", confidence=_mean_prob(report, kind, r.start_s, r.end_s) or 0.5,
                               start_s=r.start_s, end_s=r.end_s, evidence=[f"{r.n_beats} consecutive {kind} beats"],
                               strip=_event_strip(report, r, f"Longest run: {r.n_beats} {plural} at {_t(r.start_s)} s")))
        for e in big:
            out.append(Finding(code=f"{kind}_{e.pattern.upper()}",
                               title=f"{'Ventricular' if kind == 'V' else 'Atrial'} {e.pattern}",
                               text=f"{'Ventricular' if kind == 'V' else 'Atrial'} {e.pattern} "
                                    f"{_t(e.start_s)}–{_t(e.end_s)} s ({e.end_s - e.start_s:.0f} s, {e.n_beats} cycles).",
                               severity="minor", confidence=_mean_prob(report, kind, e.start_s, e.end_s) or 0.5,
                               start_s=e.start_s, end_s=e.end_s,
                               evidence=[f"{e.n_beats} consecutive cycles of normal + {kind}"],
                               strip=_strip(report, e.start_s - 2.0, f"{e.pattern.capitalize()} from {_t(e.start_s)} s")))
    return out


def _pause_finding(report: Report) -> Optional[Finding]:
    t = np.asarray(report.beats.time_s)
    if t.size < 2:
        return None
    rr = np.diff(t)
    long = np.flatnonzero(rr > PAUSE_S)
    bad = [(s.start_s, s.end_s) for s in report.unreadable]
    long = [i for i in long if not any(a < t[i + 1] and b > t[i] for a, b in bad)]
    if not long:
        return None
    i = max(long, key=lambda k: rr[k])
    return Finding(code="PAUSE", title="Pause", severity="major" if rr[i] >= 3.0 else "minor",
                   text=f"{len(long)} pause(s) longer than {PAUSE_S:g} s; longest {rr[i]:.2f} s at {_t(t[i])} s.",
                   confidence=0.8, start_s=float(t[i]), end_s=float(t[i + 1]),
                   evidence=[f"RR {rr[i]:.2f} s in readable signal"],
                   strip=_strip(report, (t[i] + t[i + 1]) / 2 - STRIP_S / 2, f"Longest pause at {_t(t[i])} s"))


def _interval_findings(report: Report) -> list[Finding]:
    iv = report.intervals
    if not iv.available:
        return []
    out = []
    ev = [f"median of {iv.n_beats} delineated normal beats (wavelet delineation, Martínez et al. 2004)"]
    if iv.QTc_Bazett is not None and iv.QTc_Bazett > 470:
        marked = iv.QTc_Bazett > 500
        out.append(Finding(code="LONG_QT", title="Prolonged QTc", severity="major" if marked else "minor",
                           text=f"QTc {iv.QTc_Bazett:.0f} ms (Bazett), {iv.QTc_Fridericia or float('nan'):.0f} ms "
                                f"(Fridericia); QT {iv.QT:.0f} ms at {iv.HR or float('nan'):.0f} bpm.",
                           confidence=0.6, evidence=ev))
    if iv.PR is not None and iv.PR > 200:
        out.append(Finding(code="LONG_PR", title="Prolonged PR (first-degree AV block)", severity="minor",
                           text=f"PR {iv.PR:.0f} ms (> 200 ms).", confidence=0.6, evidence=ev))
    if iv.QRS is not None and iv.QRS >= 120:
        out.append(Finding(code="WIDE_QRS", title="Wide QRS", severity="minor",
                           text=f"QRS {iv.QRS:.0f} ms (>= 120 ms) in normal beats.", confidence=0.6, evidence=ev))
    return out


def build_findings(report: Report) -> list[Finding]:
    """All findings of a report, most severe first (then in time order)."""
    out: list[Finding] = _quality_findings(report)
    out += [_af_finding(report, e) for e in report.rhythm if e.rhythm == "AF"]
    sinus = _sinus_finding(report, [e for e in report.rhythm if e.rhythm == "sinus"])
    out += [sinus] if sinus else []
    out += _ectopy_findings(report)
    pause = _pause_finding(report)
    out += [pause] if pause else []
    out += _interval_findings(report)
    if len(report.beats) == 0 and report.readable_fraction > 0:
        out.append(Finding(code="NO_BEATS", title="No beats detected", severity="major", confidence=0.7,
                           text="No heartbeats were detected in the readable signal (asystole, lead off or "
                                "a record too short to judge).",
                           evidence=[f"readable {100 * report.readable_fraction:.0f} % of the record"]))
    return sorted(out, key=lambda f: (_SEVERITY_ORDER[f.severity], f.start_s if f.start_s is not None else 1e18))
