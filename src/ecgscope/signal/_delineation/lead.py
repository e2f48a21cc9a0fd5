"""Delineation of one lead at 250 Hz: QRS, then T and P on the QRS-bridged signal.

Steps (all beats at once):

1. QRS onset/offset on scale 2^2 (:func:`~.waves.qrs_rules`).
2. Every QRS is replaced by a straight line between its onset and offset, so
   the QRS slopes do not leak into the coarse scale 2^4 used for P and T.
3. T wave in a window after the QRS whose end follows the next RR interval.
4. P wave in a window before the QRS onset whose start follows the previous
   RR interval and the previous beat's T offset; then the P waves are checked for a stable PR interval
   (:func:`~.waves.consistent_p`): a lead whose P waves are not tied to the
   QRS reports none, and beats whose P wave strays from the lead's median PR
   are searched again in a narrow window around the expected position.
"""

from __future__ import annotations

import numpy as np

from .search import BeatFrame
from .waves import FS, Params, consistent_p, ms, qrs_rules, wave_rules
from .wavelet import dyadic_wt

__all__ = ["lead_points", "template_points", "rr_context", "LEFT_MS", "RIGHT_MS"]

#: Span of the beat frame around R (ms).
LEFT_MS, RIGHT_MS = 500.0, 900.0
_QRS_HALF_MS = 50.0  # QRS half-width assumed where its onset/offset was not found


def rr_context(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Previous and next RR in samples (edges copy their neighbour; 1 s for a lone beat)."""
    if r.size < 2:
        one = np.full(r.size, int(FS))
        return one, one
    rr = np.diff(r)
    return np.concatenate([[rr[0]], rr]), np.concatenate([rr, [rr[-1]]])


def _bridge_qrs(x: np.ndarray, r: np.ndarray, on: np.ndarray, off: np.ndarray) -> np.ndarray:
    """``x`` with samples ``on[b]..off[b]`` (absolute) replaced by straight lines."""
    on, off = np.clip(on, 0, x.size - 1), np.clip(off, 0, x.size - 1)
    cover = np.zeros(x.size + 1, np.int64)
    np.add.at(cover, on + 1, 1)
    np.add.at(cover, off, -1)
    inside = np.cumsum(cover)[: x.size] > 0
    if not inside.any() or inside.all():
        return x
    keep = np.flatnonzero(~inside)
    out = x.copy()
    out[inside] = np.interp(np.flatnonzero(inside), keep, x[keep])
    return out


def _search(frame: BeatFrame, a, b, amp, p: Params, wave: str) -> dict[str, np.ndarray]:
    g = lambda name: getattr(p, f"{wave}_{name}")  # noqa: E731 - parameter lookup by wave
    return wave_rules(frame, a, b, amp, partner_ms=g("partner_ms"), partner_ratio=g("partner_ratio"),
                      min_ratio=g("min_ratio"), on_ratio=g("on_ratio"), off_ratio=g("off_ratio"),
                      on_limit_ms=g("on_limit_ms"), off_limit_ms=g("off_limit_ms"), min_frac=g("min_frac"))


class LeadDelineator:
    """One lead's beats after the QRS step; P and T are then searched on the bridged signal.

    ``p_first()`` gives each beat's P wave and the lead's median PR when its P waves
    are consistent (None otherwise); ``points(expected_pr)`` keeps the P waves
    within ``p_pr_tol_ms`` of ``expected_pr`` (searching the others again in a
    narrow window around it) or none when ``expected_pr`` is None.
    """

    def __init__(self, x: np.ndarray, r: np.ndarray, rr_prev: np.ndarray, rr_next: np.ndarray, p: Params):
        self.p, self.r, self.left = p, r, ms(LEFT_MS)
        frame = BeatFrame(dyadic_wt(x, 4), r, self.left, ms(RIGHT_MS))
        self.q = qrs_rules(frame, p)
        col = frame.col
        self.q_on = np.where(self.q["on"] >= 0, self.q["on"], col(r * 0 - ms(_QRS_HALF_MS)))
        self.q_off = np.where(self.q["off"] >= 0, self.q["off"], col(r * 0 + ms(_QRS_HALF_MS)))
        bridged = _bridge_qrs(x, r, r + self.q_on - self.left, r + self.q_off - self.left)
        self.frame = BeatFrame(dyadic_wt(bridged, 4), r, self.left, ms(RIGHT_MS))
        t_a = np.maximum(col(r * 0 + ms(p.t_start_ms)), self.q_off + ms(p.t_after_qrs_ms))
        t_b = col(np.minimum(ms(p.t_max_ms), np.rint(p.t_rr * rr_next).astype(np.int64)))
        self.t = _search(self.frame, t_a, t_b, self.q["amp4"], p, "t")
        self.p_b = self.q_on - ms(p.p_before_qrs_ms)
        self.p_a = col(-np.minimum(ms(p.p_max_ms), np.rint(p.p_rr * rr_prev).astype(np.int64)))
        # ... and after the previous beat's T wave where it was found.
        prev_end = np.where(self.t["present"] & (self.t["off"] >= 0), r + self.t["off"], -1)[:-1]
        after_t = np.concatenate([[-1], np.where(prev_end >= 0, prev_end - r[1:] + 1, -1)]) if r.size \
            else prev_end
        self.p_a = np.maximum(self.p_a, after_t)
        self.pw = _search(self.frame, self.p_a, self.p_b, self.q["amp4"], p, "p")
        self.pw["peak"] = np.where(self.pw["present"] & (self.pw["peak"] < self.q_on), self.pw["peak"], -1)

    def p_first(self) -> float | None:
        """Median PR (samples, peak to QRS onset) of this lead, or None when its P waves scatter."""
        # too few beats to judge: all kept
        keep = consistent_p(self.pw["peak"], self.q_on, self.p, width=self.p_b - self.p_a + 1)
        if keep.any():
            return float(np.median((self.q_on - self.pw["peak"])[keep]))
        return None

    def _p_final(self, expected_pr: float | None) -> dict[str, np.ndarray]:
        found = dict(self.pw)
        if expected_pr is None:
            found["present"] = np.zeros(self.r.size, bool)
            return found
        tol = ms(self.p.p_pr_tol_ms)
        pr = int(round(expected_pr))
        keep = (found["peak"] >= 0) & (np.abs(self.q_on - found["peak"] - pr) <= tol)
        if not keep.all():
            a = np.maximum(self.p_a, self.q_on - pr - 2 * tol)
            b = np.minimum(self.p_b, self.q_on - pr + 2 * tol)
            redo = _search(self.frame, a, b, self.q["amp4"], self.p, "p")
            near = redo["present"] & (redo["peak"] >= 0) & ~keep
            near &= np.abs(self.q_on - redo["peak"] - pr) <= tol
            for k in ("on", "peak", "off"):
                found[k] = np.where(near, redo[k], found[k])
            keep = keep | near
        found["present"] = keep
        return found

    def points(self, expected_pr: float | None) -> dict[str, np.ndarray]:
        """Fiducial points (absolute samples at :data:`FS`, -1 absent)."""
        pw, t, q = self._p_final(expected_pr), self.t, self.q
        cols = {
            "p_onset": pw["on"], "p_peak": pw["peak"],
            "p_offset": np.where(pw["off"] >= self.q_on, self.q_on, pw["off"]),
            "qrs_onset": q["on"], "qrs_offset": q["off"],
            "t_onset": np.where((t["on"] >= 0) & (t["on"] < self.q_off), self.q_off, t["on"]),
            "t_peak": np.where(t["peak"] > self.q_off, t["peak"], -1), "t_offset": t["off"],
        }
        for wave, res in (("p", pw), ("t", t)):  # an absent wave has no points
            for part in ("onset", "peak", "offset"):
                cols[f"{wave}_{part}"] = np.where(res["present"], cols[f"{wave}_{part}"], -1)
        return {k: np.where(v >= 0, self.r + v - self.left, -1) for k, v in cols.items()}


def expected_pr(prs: list[float | None], p: Params) -> float | None:
    """Record-level PR from the leads' medians: None unless enough leads agree on P waves."""
    good = [v for v in prs if v is not None]
    if not good or len(good) < p.p_lead_fraction * len(prs):
        return None
    return float(np.median(good))


def lead_points(xs: np.ndarray, r: np.ndarray, rr_prev: np.ndarray, rr_next: np.ndarray,
                p: Params) -> list[dict[str, np.ndarray]]:
    """Fiducial points of every lead of ``xs`` ``(leads, samples)`` at :data:`FS` (-1 absent)."""
    leads = [LeadDelineator(x, r, rr_prev, rr_next, p) for x in xs]
    pr = expected_pr([d.p_first() for d in leads], p)
    return [d.points(pr) for d in leads]


def template_points(xs: np.ndarray, r: np.ndarray, rr_prev: np.ndarray, rr_next: np.ndarray,
                    p: Params) -> list[dict[str, np.ndarray]]:
    """Delineate each lead's median beat and put the same offsets from R on every beat."""
    left, right = ms(LEFT_MS), ms(RIGHT_MS)
    n = xs.shape[1]
    inside = (r - left >= 0) & (r + right < n)
    use = r[inside] if inside.any() else r
    idx = np.clip(use[:, None] + np.arange(-left, right + 1)[None, :], 0, n - 1)
    median = np.median(xs[:, idx], axis=1)  # (leads, L)
    pad = ms(1000.0)
    y = np.pad(median, ((0, 0), (pad, pad)), mode="edge")
    centre = np.array([pad + left])
    one = lead_points(y, centre, np.array([int(np.median(rr_prev))]), np.array([int(np.median(rr_next))]), p)
    out = []
    for lead in one:
        pts = {}
        for k, v in lead.items():
            pos = r + int(v[0] - centre[0])
            pts[k] = np.where((v[0] >= 0) & (pos >= 0) & (pos < n), pos, -1)
        out.append(pts)
    return out
