"""Wave rules of the wavelet delineator (after Martínez et al., IEEE TBME 51(4):570-581, 2004).

All rules work at 250 Hz on the dyadic wavelet transform: the QRS on scale
2^2, P and T on scale 2^4. A wave is a pair of modulus maxima of opposite
sign (its up- and down-slope) with the zero crossing between them at the wave
peak; onsets/offsets are found walking outwards from the first/last modulus
until ``|W|`` drops below a fraction of that modulus or reaches a local minimum.

The numbers in :data:`PARAMS` are the paper's where it gives them; the
windows and the presence thresholds were chosen on LUDB records 1-50 only
(see ``docs/delineation.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .search import BeatFrame

__all__ = ["PARAMS", "Params", "FS", "qrs_rules", "wave_rules", "ms"]

#: Rate the rules work at (Hz).
FS = 250.0


def ms(value) -> np.ndarray | int:
    """Milliseconds -> samples at :data:`FS`."""
    out = np.rint(np.asarray(value, dtype=float) * FS / 1000.0).astype(np.int64)
    return int(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class Params:
    """Delineation constants (ms and ratios)."""

    # QRS (scale 2^2)
    qrs_core_ms: float = 60.0          # the main modulus lies within ±this of R
    qrs_partner_ms: float = 80.0       # the main wave's other slope
    qrs_partner_ratio: float = 0.15
    qrs_extend_ms: float = 50.0        # Q / S moduli next to the main wave
    qrs_gamma_pre: float = 0.1         # Q modulus > this * max (Martínez: 0.06)
    qrs_gamma_post: float = 0.1        # S modulus > this * max (Martínez: 0.09)
    qrs_on_pos: float = 0.05           # Martínez xi_QRSon (first modulus > 0)
    qrs_on_neg: float = 0.07           # (first modulus < 0)
    qrs_off_pos: float = 0.125         # Martínez xi_QRSend (last modulus > 0)
    qrs_off_neg: float = 0.125         # (last modulus < 0; Martínez: 0.71)
    qrs_min_frac: float = 0.3          # a local minimum of |W| below this * modulus also ends a search
    qrs_on_limit_ms: float = 80.0
    qrs_off_limit_ms: float = 100.0
    # T (scale 2^4)
    t_start_ms: float = 100.0          # window starts this far after R ...
    t_after_qrs_ms: float = 40.0       # ... and after the QRS offset
    t_max_ms: float = 600.0            # window ends at R + min(t_max, t_rr * RR)
    t_rr: float = 0.7
    t_partner_ms: float = 200.0
    t_partner_ratio: float = 0.2
    t_min_ratio: float = 0.03          # T absent if its largest modulus < this * QRS modulus
    t_on_ratio: float = 0.4
    t_off_ratio: float = 0.4
    t_min_frac: float = 1.0
    t_on_limit_ms: float = 150.0
    t_off_limit_ms: float = 200.0
    # P (scale 2^4)
    p_max_ms: float = 350.0            # window starts at R - min(p_max, p_rr * RR_prev)
    p_rr: float = 0.55
    p_before_qrs_ms: float = 20.0      # and ends this far before the QRS onset
    p_partner_ms: float = 120.0
    p_partner_ratio: float = 0.2
    p_min_ratio: float = 0.02          # P absent if its largest modulus < this * QRS modulus
    p_on_ratio: float = 0.6            # Martínez xi_Pon: 0.5
    p_off_ratio: float = 0.9           # Martínez xi_Pend
    p_min_frac: float = 1.0
    p_pr_tol_ms: float = 50.0          # a P wave counts when its PR is this close to the median PR ...
    p_pr_fraction: float = 0.5         # ... and the lead has such P waves before this share of its beats;
    p_pr_margin: float = 0.2           # ... which beats chance (a narrow window) by this margin;
    p_lead_fraction: float = 0.34      # P waves are reported when this share of leads has consistent ones
    p_on_limit_ms: float = 100.0
    p_off_limit_ms: float = 100.0


PARAMS = Params()


def _pair(f: BeatFrame, m: np.ndarray, ext: np.ndarray, p0: np.ndarray, gap: int, ratio: float):
    """The opposite-sign modulus next to ``p0`` (the larger of the one before and after)."""
    s0 = np.sign(f.at(m, p0))
    mx = np.abs(f.at(m, p0))
    opp = ext & (np.sign(m) == -s0[:, None]) & (np.abs(m) >= ratio * mx[:, None])
    before = f.largest(m, opp & f.within(p0 - gap, p0 - 1))
    after = f.largest(m, opp & f.within(p0 + 1, p0 + gap))
    mb, ma = np.abs(f.at(m, before)), np.abs(f.at(m, after))
    partner = np.where(ma > mb, after, before)  # both pairs share p0: the larger partner wins
    partner = np.where(p0 >= 0, partner, -1)
    first = np.where(partner >= 0, np.minimum(p0, partner), p0)
    last = np.where(partner >= 0, np.maximum(p0, partner), p0)
    return partner, first, last


def qrs_rules(f: BeatFrame, p: Params = PARAMS) -> dict[str, np.ndarray]:
    """QRS onset/offset columns and the QRS modulus on scale 2^4 (for presence tests)."""
    m = f.w[1]
    ext = f.extrema(m)
    half = np.full(f.rows.size, ms(p.qrs_core_ms))
    core = f.within(f.col(-half), f.col(half))
    p0 = f.largest(m, ext & core)
    mx = np.abs(f.at(m, p0))
    _, first, last = _pair(f, m, ext, p0, ms(p.qrs_partner_ms), p.qrs_partner_ratio)
    for _ in range(2):  # Q (and a preceding small r) / S (and r') moduli
        s = np.sign(f.at(m, first))
        cand = ext & (np.sign(m) == -s[:, None]) & (np.abs(m) >= p.qrs_gamma_pre * mx[:, None])
        q = f.last(cand & f.within(first - ms(p.qrs_extend_ms), first - 1))
        first = np.where(q >= 0, q, first)
        s = np.sign(f.at(m, last))
        cand = ext & (np.sign(m) == -s[:, None]) & (np.abs(m) >= p.qrs_gamma_post * mx[:, None])
        q = f.first(cand & f.within(last + 1, last + ms(p.qrs_extend_ms)))
        last = np.where(q >= 0, q, last)
    on_ratio = np.where(f.at(m, first) > 0, p.qrs_on_pos, p.qrs_on_neg)
    off_ratio = np.where(f.at(m, last) > 0, p.qrs_off_pos, p.qrs_off_neg)
    on = f.threshold_back(m, first, on_ratio, ms(p.qrs_on_limit_ms), p.qrs_min_frac)
    off = f.threshold_forward(m, last, off_ratio, ms(p.qrs_off_limit_ms), p.qrs_min_frac)
    m4 = f.w[3]
    big = f.within(np.where(on >= 0, on, first), np.where(off >= 0, off, last))
    qrs_amp4 = np.where(big, np.abs(m4), 0.0).max(axis=1)
    return {"on": on, "off": off, "first": first, "last": last, "amp4": qrs_amp4}


def consistent_p(peak: np.ndarray, qrs_on: np.ndarray, p: Params = PARAMS,
                 width: np.ndarray | None = None) -> np.ndarray:
    """Mask of beats whose P wave looks conducted: a stable PR across the lead's beats.

    Atrial activity that is not tied to the QRS (fibrillation and flutter waves,
    P waves dissociated by third-degree AV block) gives a scattered PR; such
    leads report no P waves, and single beats far from the lead's median PR
    (e.g. a P wave picked up before a PVC) drop theirs. With ``width`` (the
    search window of each beat, samples) the share of beats near the median PR
    must also beat chance (``2 tol / width``) by ``p_pr_margin``: in a narrow
    window any wave lies near the median.
    """
    ok = (peak >= 0) & (qrs_on >= 0)
    if ok.sum() < 3:
        return ok
    pr = (qrs_on - peak).astype(float)
    tol = ms(p.p_pr_tol_ms)
    near = ok & (np.abs(pr - np.median(pr[ok])) <= tol)
    share = near.sum() / peak.size
    chance = 0.0 if width is None else float(np.mean(np.clip(2 * tol / np.maximum(width, 1), 0, 1)))
    if share < p.p_pr_fraction or share < chance + p.p_pr_margin:
        return np.zeros(peak.size, bool)
    return near


def wave_rules(f: BeatFrame, a: np.ndarray, b: np.ndarray, ref_amp: np.ndarray, *, partner_ms: float,
               partner_ratio: float, min_ratio: float, on_ratio: float, off_ratio: float,
               on_limit_ms: float, off_limit_ms: float, min_frac: float) -> dict[str, np.ndarray]:
    """Onset, peak and offset columns of a P or T wave searched in columns ``[a, b]`` on scale 2^4."""
    m = f.w[3]
    ext = f.extrema(m)
    p0 = f.largest(m, ext & f.within(a, b) & (a <= b)[:, None])
    present = (p0 >= 0) & (np.abs(f.at(m, p0)) >= min_ratio * ref_amp)
    p0 = np.where(present, p0, -1)
    partner, first, last = _pair(f, m, ext, p0, ms(partner_ms), partner_ratio)
    peak = np.where(partner >= 0, f.zero_crossing(m, first, last), -1)
    on = f.threshold_back(m, first, on_ratio, ms(on_limit_ms), min_frac)
    off = f.threshold_forward(m, last, off_ratio, ms(off_limit_ms), min_frac)
    return {"on": on, "peak": peak, "off": off, "present": present}
