"""The beat schedule: when each beat fires, of which kind, under which rhythm.

The record is cut into rhythm segments: sinus-driven ones (``N``, ventricular
bigeminy ``B``, trigeminy ``T``) and atrial arrhythmias (``AFIB``, ``AFL``).
Consecutive sinus-driven segments form one block, generated vectorised:

* The sinus node fires on a grid whose intervals are the tachogram's RR
  (:mod:`.tachogram`). An APC fires early (coupling 0.6-0.8 RR) and *resets*
  the sinus node, so the pause after it is not compensatory.
* A PVC fires early (coupling 0.55-0.75 RR) from the previous beat and does
  not reset the sinus node: the blocked sinus beat leaves a fully
  compensatory pause (pre + post interval = 2 RR). A couplet is two PVCs in a
  row; bigeminy (N V N V) and trigeminy (N N V) windows force PVCs onto every
  second / third beat.

AF blocks draw independent RR intervals (no autocorrelation: "irregularly
irregular") from a log-normal law with a coefficient of variation of about
0.25; flutter blocks conduct every 2nd-4th flutter wave, so their RR are
multiples of the flutter cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .morphology import KIND_A, KIND_N, KIND_NP, KIND_V
from .params import Episode, SimulationParameterError
from .tachogram import Tachogram

__all__ = ["BeatSchedule", "AtrialEpisode", "schedule_beats", "SINUS_LABELS"]

SINUS_LABELS = ("N", "B", "T")
_AF_CV = 0.25
_AF_MIN_RR = 0.27
_PVC_COUPLING = (0.55, 0.75)
_APC_COUPLING = (0.6, 0.8)
_APC_RESET_PAUSE = (0.05, 0.15)  # extra fraction of RR after an APC (sinus node suppression)
_P_LEAD_IN = 0.25  # s from a P-wave onset to its R peak, at most
_MIN_COUPLING = 0.3  # s: refractoriness; a premature beat comes no sooner (nor later than 0.9 RR)


def _coupling(fraction: np.ndarray, rr: np.ndarray) -> np.ndarray:
    """Coupling interval of a premature beat: ``fraction * rr``, but at least ``min(0.3 s, 0.9 rr)``."""
    return np.maximum(fraction * rr, np.minimum(_MIN_COUPLING, 0.9 * rr))


@dataclass
class AtrialEpisode:
    """Fibrillatory or flutter waves between ``start`` and ``end`` seconds."""

    start: float
    end: float
    label: str  # "AFIB" or "AFL"
    freq_hz: float  # dominant f-wave / flutter frequency
    t_ref: float = 0.0  # flutter: time of a wave's zero phase (beats lock to it)


@dataclass
class BeatSchedule:
    """Every beat of the record, sorted by time."""

    time: np.ndarray  # R-peak times, s
    kind: np.ndarray  # KIND_* codes
    cycle: np.ndarray  # cycle length that sets the phase rate, s
    focus: np.ndarray  # PVC focus index
    rhythm: np.ndarray  # rhythm label per beat ("N", "B", "T", "AFIB", "AFL")
    atrial: list[AtrialEpisode] = field(default_factory=list)

    def take(self, mask: np.ndarray) -> "BeatSchedule":
        """The beats selected by a boolean mask (atrial episodes kept)."""
        return BeatSchedule(self.time[mask], self.kind[mask], self.cycle[mask], self.focus[mask],
                            self.rhythm[mask], list(self.atrial))

    def episodes(self, duration: float) -> list[tuple[float, float, str]]:
        """``(start_s, end_s, label)`` per rhythm run; a run starts at its first beat (0 for the first)."""
        if self.time.size == 0:
            return [(0.0, float(duration), "N")]
        change = np.flatnonzero(self.rhythm[1:] != self.rhythm[:-1]) + 1
        starts = np.concatenate([[0], change])
        times = [0.0] + [float(self.time[i]) for i in change] + [float(duration)]
        return [(round(times[k], 4), round(times[k + 1], 4), str(self.rhythm[s]))
                for k, s in enumerate(starts)]


def _segments(duration: float, episodes: list[Episode]) -> list[Episode]:
    """Sorted, gap-filled segments covering ``[0, duration)``; overlaps are an error."""
    eps = sorted(episodes, key=lambda e: e.start)
    for a, b in zip(eps, eps[1:]):
        if b.start < a.end:
            raise SimulationParameterError(
                f"the {a.label} episode ({a.start:g}-{a.end:g} s) overlaps the {b.label} episode "
                f"({b.start:g}-{b.end:g} s)", path="episodes", fix="make the requested episodes disjoint")
    out: list[Episode] = []
    t = 0.0
    for e in eps:
        if e.start > t:
            out.append(Episode(t, e.start, "N"))
        out.append(e)
        t = e.end
    if t < duration:
        out.append(Episode(t, duration, "N"))
    return out


def _place_couplets(n: int, segments: list[Episode], rng: np.random.Generator,
                    margin: float = 3.0, gap: float = 5.0) -> np.ndarray:
    """``n`` couplet times, uniform over the plain-sinus segments, at least ``gap`` s apart."""
    if n == 0:
        return np.zeros(0)
    spans = [(s.start + margin, s.end - margin) for s in segments
             if s.label == "N" and s.end - s.start > 2 * margin]
    lengths = np.array([b - a for a, b in spans])
    room = lengths.sum() - (n - 1) * gap
    if not spans or room <= 0:
        raise SimulationParameterError(
            f"{n} couplets do not fit in {lengths.sum() if spans else 0:.0f} s of plain sinus rhythm "
            f"(they need {gap:g} s each)", path="couplets", fix="lower couplets or lengthen the record")
    pos = np.sort(rng.uniform(0, room, n)) + gap * np.arange(n)  # spaced uniform positions
    edges = np.concatenate([[0], np.cumsum(lengths)])
    seg = np.clip(np.searchsorted(edges, pos, side="right") - 1, 0, len(spans) - 1)
    starts = np.array([a for a, _ in spans])
    return starts[seg] + pos - edges[seg]


def _shift(mask: np.ndarray, k: int) -> np.ndarray:
    """``mask`` moved by ``k`` places (positive: later), padded with False."""
    out = np.zeros_like(mask)
    if k > 0:
        out[k:] = mask[:-k]
    elif k < 0:
        out[:k] = mask[-k:]
    else:
        out[:] = mask
    return out


def _sinus_block(t_prev: float, earliest: float, windows: list[Episode], end: float,
                 couplet_times: np.ndarray, tacho: Tachogram, mean_rr: float, pvc_rate: float,
                 apc_rate: float, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Beats of one sinus-driven block ending at ``end`` (see the module docstring)."""
    n = int(np.ceil((end - t_prev) / (0.36 * mean_rr))) + 4
    apc = rng.random(n) < apc_rate
    apc[0] = False
    c_apc = rng.uniform(*_APC_COUPLING, n)
    reset = 1 + rng.uniform(*_APC_RESET_PAUSE, n)
    c_pvc = rng.uniform(*_PVC_COUPLING, n)
    pvc_draw = rng.random(n) < pvc_rate
    focus = rng.integers(0, 2, n)
    idx = np.arange(n)

    def grid(apc_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        scale = np.where(apc_mask, c_apc, np.where(_shift(apc_mask, 1), reset, 1.0))
        approx = t_prev + np.cumsum(mean_rr * scale)  # index-time to read the tachogram at
        u = tacho(approx)
        d = np.where(apc_mask, _coupling(c_apc, u), u * scale)
        d[0] = max(d[0], earliest - t_prev)
        return t_prev + np.cumsum(d), u

    while True:  # drop APCs that collide with forced PVC patterns; converges in a step or two
        g, u = grid(apc)
        forced = np.zeros(n, bool)
        in_window = np.zeros(n, bool)
        label = np.full(n, "N", dtype=object)
        for w in windows:
            lo, hi = np.searchsorted(g, [w.start, w.end])
            in_window[lo:hi] = True
            label[lo:hi] = w.label
            period = 2 if w.label == "B" else 3
            forced[lo + period - 1:hi:period] = True
        for c in couplet_times:
            j = int(np.searchsorted(g, c))
            forced[j:j + 2] = True
        near_forced = forced | _shift(forced, 1) | _shift(forced, -1)
        conflict = apc & (near_forced | in_window)
        if not conflict.any():
            break
        apc &= ~conflict
    busy = forced | apc
    rand_v = pvc_draw & ~in_window & ~(busy | _shift(busy, 1) | _shift(busy, -1)) & (idx > 0)
    rand_v &= ~_shift(rand_v, 1)  # single PVCs only; couplets are placed on purpose
    is_v = forced | rand_v
    # A PVC fires a coupling interval after the previous beat; the sinus grid goes on.
    cs = np.cumsum(np.where(is_v, _coupling(c_pvc, u), 0.0))
    last = np.maximum.accumulate(np.where(~is_v, idx, -1))
    lc = np.clip(last, 0, None)
    base_t = np.where(last >= 0, g[lc], t_prev)
    base_cs = np.where(last >= 0, cs[lc], 0.0)
    t = np.where(is_v, base_t + cs - base_cs, g)
    kind = np.where(is_v, KIND_V, np.where(apc, KIND_A, KIND_N)).astype(np.int8)
    keep = t < end
    return t[keep], kind[keep], u[keep], focus[keep], label[keep]


def _af_block(t_prev: float, ep: Episode, mean_rr: float, pvc_rate: float,
              rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Beats of an AF episode: independent log-normal RR, optional PVCs."""
    n = int(np.ceil((ep.end - t_prev) / _AF_MIN_RR)) + 2
    sigma = np.sqrt(np.log(1 + _AF_CV**2))
    rr = np.clip(mean_rr * np.exp(rng.normal(-sigma**2 / 2, sigma, n)), _AF_MIN_RR, 2.5)
    is_v = (rng.random(n) < pvc_rate) & (np.arange(n) > 0)
    is_v &= ~_shift(is_v, 1)
    interval = np.where(is_v, _coupling(rng.uniform(*_PVC_COUPLING, n), rr), rr)
    interval[0] = max(interval[0], ep.start + 0.1 - t_prev)
    t = t_prev + np.cumsum(interval)
    prev = np.concatenate([[interval[0]], interval[:-1]])
    cycle = 0.5 * (prev + mean_rr)
    kind = np.where(is_v, KIND_V, KIND_NP).astype(np.int8)
    focus = rng.integers(0, 2, n)
    keep = t < ep.end
    return t[keep], kind[keep], cycle[keep], focus[keep], np.full(int(keep.sum()), "AFIB", dtype=object)


def _flutter_block(t_prev: float, ep: Episode, freq: float, target_rr: float,
                   rng: np.random.Generator) -> tuple[tuple[np.ndarray, ...], float]:
    """Beats of a flutter episode locked to the flutter waves (2:1 to 4:1 conduction)."""
    cyc = 1.0 / freq
    k = int(np.clip(np.rint(target_rr / cyc), 2, 4))
    n = int(np.ceil((ep.end - t_prev) / (k * cyc))) + 2
    ratio = np.where(rng.random(n) < 0.15, k + 1, k)  # occasional variable block
    av_delay = 0.18
    first = max(t_prev + 0.4, ep.start + 0.2)
    t_ref = first - av_delay
    t = t_ref + av_delay + np.concatenate([[0.0], np.cumsum(ratio[:-1] * cyc)])
    interval = np.diff(np.concatenate([[t_prev], t]))
    keep = t < ep.end
    out = (t[keep], np.full(int(keep.sum()), KIND_NP, np.int8), np.clip(interval[keep], 0.3, 2.0),
           np.zeros(int(keep.sum()), np.int64), np.full(int(keep.sum()), "AFL", dtype=object))
    return out, t_ref


def schedule_beats(duration: float, heart_rate: float, tacho: Tachogram, episodes: list[Episode],
                   pvc_rate: float, apc_rate: float, couplets: int,
                   rng: np.random.Generator) -> BeatSchedule:
    """Plan every beat of the record (see the module docstring for the rules)."""
    mean_rr = 60.0 / heart_rate
    segments = _segments(duration, episodes)
    couplet_times = _place_couplets(couplets, segments, rng)
    parts: list[tuple[np.ndarray, ...]] = []
    atrial: list[AtrialEpisode] = []
    t_prev = -rng.uniform(0.2, 1.0) * mean_rr  # a virtual beat before the record starts
    earliest = 0.0
    i = 0
    while i < len(segments):
        seg = segments[i]
        if seg.label in SINUS_LABELS:
            j = i
            while j + 1 < len(segments) and segments[j + 1].label in SINUS_LABELS:
                j += 1
            block = segments[i:j + 1]
            windows = [s for s in block if s.label != "N"]
            mine = couplet_times[(couplet_times >= seg.start) & (couplet_times < block[-1].end)]
            part = _sinus_block(t_prev, earliest, windows, block[-1].end, mine, tacho, mean_rr,
                                pvc_rate, apc_rate, rng)
            i = j + 1
        elif seg.label == "AFIB":
            rate = seg.rate or float(np.clip(1.2 * heart_rate, 60, 150))
            part = _af_block(t_prev, seg, 60.0 / rate, pvc_rate, rng)
            atrial.append(AtrialEpisode(seg.start, seg.end, "AFIB", float(rng.uniform(5.0, 8.0))))
            i += 1
        else:  # AFL
            freq = float(rng.uniform(4.2, 5.2))
            rate = seg.rate or 150.0
            part, t_ref = _flutter_block(t_prev, seg, freq, 60.0 / rate, rng)
            atrial.append(AtrialEpisode(seg.start, seg.end, "AFL", freq, t_ref))
            i += 1
        parts.append(part)
        if part[0].size:
            t_prev = float(part[0][-1])
        # After an atrial arrhythmia the first sinus P wave must follow its end.
        earliest = seg.end + _P_LEAD_IN if seg.label in ("AFIB", "AFL") else 0.0
        if i < len(segments) and segments[i].label not in SINUS_LABELS:
            earliest = 0.0
    time, kind, cycle, focus, rhythm = (np.concatenate([p[k] for p in parts]) for k in range(5))
    keep = time >= 0
    return BeatSchedule(time=time[keep].astype(np.float64), kind=kind[keep].astype(np.int8),
                        cycle=cycle[keep].astype(np.float64), focus=focus[keep].astype(np.int64),
                        rhythm=rhythm[keep].astype(object), atrial=atrial)
