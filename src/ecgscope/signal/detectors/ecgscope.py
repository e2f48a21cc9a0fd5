"""The ``ecgscope`` R-peak detector: fused multi-lead slope envelope and rhythm-aware beat selection.

Design (every constant is in seconds or Hz, so it holds at any sampling rate):

1. **Fixed internal rate.** Each lead is block-averaged by ``q = floor(fs / 100)``
   (a cascaded-integrator anti-alias filter) to an internal rate of 100-200 Hz.
2. **Slope envelope.** Band-pass 5-25 Hz (Butterworth, order 2), first
   difference, squaring and a 150 ms moving-window integrator, as in Pan &
   Tompkins (1985); the square root of the result (an RMS slope) keeps the
   dynamic range between tall PVCs and small sinus beats moderate. The
   envelope is kept at 50-100 Hz, which is all the decision logic needs.
3. **Block-adaptive normalisation.** The beat level ``S`` of each lead is a
   running median (7 blocks) of 2 s block maxima, so it ignores noise bursts
   shorter than 6 s and never falls below a quarter of the record's typical
   level (asystole and flat stretches yield nothing). The noise floor ``N`` is
   the lower quartile of 0.5 s blocks, so it rises at once inside a noise burst.
   Each lead becomes ``z = (env - N) / (S - N)``: beats near 1, background near 0.
4. **Multi-lead fusion.** The leads' ``z`` are combined by a weighted
   geometric mean (floored at 0.02, which maps to 0): a QRS shows in every
   lead at once, an artefact usually in one, so one lead's burst or jump cannot
   make a beat alone. Weights are ``((min(M, S) - N) / N)^2`` where ``M`` is the
   lead's largest envelope within +-0.5 s: a lead that is noisy, flat or
   saturated there fades out, wherever and whenever that happens.
5. **Beat selection.** Envelope maxima above 0.1 are candidates. A dynamic
   programme (Viterbi) picks the sequence that maximises the evidence
   ``sum log(h / 0.25)`` minus a rhythm penalty ``0.5 log(RR / RR_local)^2``
   (halved for short intervals, as premature beats are common); RR under the
   200 ms refractory period is impossible and, after Pan & Tompkins' T-wave rule,
   two candidates within 360 ms cannot both be beats unless their heights are
   within a factor of two. ``RR_local`` is the running median RR of a first,
   threshold-only pass. So a weak candidate is taken where the rhythm expects
   a beat (the search-back of the classics) and a strong one anywhere, while
   noise and T/P waves at implausible times are left out.
6. **Location.** Each beat is placed on the dominant extremum of the first
   non-flat lead's baseline-free signal near the envelope peak, then on the
   extremum of the same sign in the original-rate signal.

References: Pan J., Tompkins W. J., IEEE TBME 32(3):230-236, 1985 (integrator,
refractory period, T-wave rule); Viterbi A., IEEE Trans. Inf. Theory
13(2):260-269, 1967 (the dynamic programme).

Only the candidate loop of the dynamic programme is Python; everything else
is vectorised NumPy/SciPy.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.ndimage import maximum_filter1d
from scipy.signal import butter, find_peaks, group_delay, sos2tf, sosfilt, sosfilt_zi

from ._common import decimate, enforce_refractory, moving_average, normalise_leads

__all__ = ["detect"]

INTERNAL_FS = 100.0        # signal decimated to 100-200 Hz
ENVELOPE_FS = 60.0         # envelope decimated to 50-100 Hz
BAND_HZ = (5.0, 25.0)
ENVELOPE_S = 0.15          # moving-window integrator
BLOCK_S = 2.0              # beat-level blocks
LEVEL_BLOCKS = 7           # running median over 14 s
LEVEL_FLOOR = 0.25         # fraction of the record's typical beat level
NOISE_BLOCK_S = 0.5
NOISE_QUANTILE = 0.25
NOISE_CEILING = 0.7        # noise floor at most this fraction of the beat level
PRESENCE_S = 1.0           # a lead's local maximum: over +-0.5 s
THRESHOLD = 0.25           # evidence is log(h / THRESHOLD)
CANDIDATE_MIN = 0.1
CANDIDATE_GAP_S = 0.1
REFRACTORY_S = 0.20
TWAVE_S = 0.36
TWAVE_RATIO = 0.5
RHYTHM_WEIGHT = 0.5
SHORT_WEIGHT = 0.5         # relative weight of the penalty on short intervals
MAX_GAP_RR = 2.5           # longer intervals all cost as much as this many RRs
MIN_RR_S, MAX_RR_S = 0.25, 2.0
GEO_FLOOR = 0.02           # z below this counts as this in the geometric mean
LOCATE_S = 0.08
BASELINE_S = 0.20


# --------------------------------------------------------------------------- envelope
def _bandpass_sos(fi: float) -> tuple[np.ndarray, float]:
    hi = min(BAND_HZ[1], 0.45 * fi)
    sos = butter(2, [BAND_HZ[0], hi], "bandpass", fs=fi, output="sos")
    _, gd = group_delay(sos2tf(sos), w=[np.sqrt(BAND_HZ[0] * hi)], fs=fi)
    return sos, float(gd[0])


def _envelope(xd: np.ndarray, fi: float, r: int) -> tuple[np.ndarray, int]:
    """RMS-slope envelope per lead at ``fi / r`` Hz and its delay in internal samples."""
    sos, delay = _bandpass_sos(fi)
    zi = sosfilt_zi(sos)[:, None, :] * xd[:, 0][None, :, None]  # start in steady state: no transient
    d = np.diff(sosfilt(sos, xd, axis=-1, zi=zi)[0], axis=-1)
    np.square(d, out=d)
    fe = fi / r
    power = moving_average(decimate(d, r), int(round(ENVELOPE_S * fe)))
    env = np.sqrt(np.maximum(power, 0.0, out=power), out=power)  # the running sum can round below 0
    # env[j] is centred on internal sample j * r + (r - 1) / 2, + 0.5 for the difference, + filter delay.
    return env, int(round(delay + 0.5 + (r - 1) / 2))


# --------------------------------------------------------------------------- levels and fusion
def _running_median(values: np.ndarray, width: int) -> np.ndarray:
    """Centred running median along the last axis (reflected at the edges)."""
    n = values.shape[-1]
    if n <= width or width <= 1:
        return np.broadcast_to(np.median(values, axis=-1, keepdims=True), values.shape).copy()
    half = width // 2
    padded = np.concatenate([values[..., :half][..., ::-1], values, values[..., -half:][..., ::-1]], axis=-1)
    return np.median(sliding_window_view(padded, width, axis=-1), axis=-1)


def _block_stat(env: np.ndarray, block: int, stat) -> tuple[np.ndarray, np.ndarray]:
    """``stat`` over consecutive blocks (a tail of half a block or more is its own) and block centres."""
    n_leads, m = env.shape
    block = max(1, min(block, m))
    nb = m // block
    values = stat(env[:, : nb * block].reshape(n_leads, nb, block))
    centres = (np.arange(nb) + 0.5) * block
    if m - nb * block >= max(1, block // 2):
        values = np.concatenate([values, stat(env[:, nb * block:][:, None, :])], axis=1)
        centres = np.append(centres, nb * block + 0.5 * (m - nb * block))
    return values, centres


def _interp_rows(t: np.ndarray, centres: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.vstack([np.interp(t, centres, row) for row in values])


def _lower_quantile(b: np.ndarray) -> np.ndarray:
    k = int(NOISE_QUANTILE * (b.shape[-1] - 1))
    return np.partition(b, k, axis=-1)[..., k]


def _fuse(env: np.ndarray, fe: float) -> np.ndarray:
    """One normalised envelope (beats near 1, background near 0) from all leads."""
    t = np.arange(env.shape[1])
    peak, pc = _block_stat(env, int(round(BLOCK_S * fe)), lambda b: b.max(axis=-1))
    level = _running_median(peak, LEVEL_BLOCKS)
    s = _interp_rows(t, pc, np.maximum(level, LEVEL_FLOOR * np.median(level, axis=1, keepdims=True)))
    floor, fc = _block_stat(env, int(round(NOISE_BLOCK_S * fe)), _lower_quantile)
    nz = _interp_rows(t, fc, floor)
    weights = None
    if env.shape[0] > 1:
        # A lead that is flat or saturated here has no beats to offer: use its local maximum
        # (quarter-second block maxima, then the largest within PRESENCE_S).
        quarter = max(1, int(round(0.25 * fe)))
        qmax, qc = _block_stat(env, quarter, lambda b: b.max(axis=-1))
        qmax = maximum_filter1d(qmax, max(1, int(round(PRESENCE_S / 0.25))), axis=-1, mode="nearest")
        weights = np.minimum(_interp_rows(t, qc, qmax), s)
        weights -= nz
        np.maximum(weights, 0.0, out=weights)
        weights /= np.maximum(nz, 1e-3 * s + 1e-300)
        np.square(weights, out=weights)
    np.minimum(nz, NOISE_CEILING * s, out=nz)
    s -= nz  # the span between noise floor and beat level
    norm = env - nz
    norm /= np.maximum(s, 1e-300)
    if weights is None:
        return norm[0]
    total = weights.sum(axis=0)
    np.maximum(norm, GEO_FLOOR, out=norm)
    np.log(norm, out=norm)
    norm *= weights
    # Weighted geometric mean: a QRS shows in every lead, an artefact usually in one.
    geo = np.exp(norm.sum(axis=0) / np.maximum(total, 1e-300))
    geo -= GEO_FLOOR
    geo *= (total > 0) / (1.0 - GEO_FLOOR)  # the floor maps to 0
    return geo


# --------------------------------------------------------------------------- beat selection
def _first_pass(t: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Threshold-only beats (refractory period and T-wave rule), for the local RR."""
    acc = np.flatnonzero(h >= THRESHOLD)
    acc = acc[enforce_refractory(t[acc], h[acc], REFRACTORY_S)]
    for _ in range(4):
        if acc.size < 2:
            break
        is_t = (np.diff(t[acc]) < TWAVE_S) & (h[acc[1:]] < TWAVE_RATIO * h[acc[:-1]])
        if not is_t.any():
            break
        acc = np.delete(acc, np.flatnonzero(is_t) + 1)
    return acc


def _local_rr(times: np.ndarray, beats: np.ndarray) -> np.ndarray:
    """Local median RR (s) at each of ``times`` from beat times ``beats`` (s)."""
    if beats.size < 2:
        return np.full(times.size, 1.0)
    rr = np.diff(beats)
    med = np.clip(_running_median(rr[None, :], 9)[0] if rr.size >= 3 else np.full(rr.size, np.median(rr)),
                  MIN_RR_S, MAX_RR_S)
    return np.interp(times, 0.5 * (beats[1:] + beats[:-1]), med)


def _best_sequence(t: np.ndarray, h: np.ndarray, rr_local: np.ndarray) -> np.ndarray:
    """Indices of the candidate sequence with the best evidence-minus-rhythm score (Viterbi).

    Each beat adds ``log(h / THRESHOLD)``; each interval costs
    ``RHYTHM_WEIGHT * log(rr / rr_local)^2`` (times ``SHORT_WEIGHT`` when
    short). Intervals beyond ``MAX_GAP_RR`` local RRs cost as much as that
    (a pause, asystole or a stretch of noise) and start a new chain.
    """
    n = t.size
    g = np.log(np.maximum(h, 1e-12) / THRESHOLD).tolist()
    tl, hl = t.tolist(), h.tolist()
    lr = np.log(rr_local).tolist()
    w, ws = RHYTHM_WEIGHT, RHYTHM_WEIGHT * SHORT_WEIGHT
    gap_cost = w * math.log(MAX_GAP_RR) ** 2
    score = [0.0] * n
    back = [-1] * n
    best_old, best_old_i = 0.0, -1  # best chain that ended before the window
    old = 0  # first candidate inside the window of j
    for j in range(n):
        tj, lj, hj = tl[j], lr[j], hl[j]
        horizon = MAX_GAP_RR * math.exp(lj)
        while old < j and tj - tl[old] > horizon:
            if score[old] > best_old:
                best_old, best_old_i = score[old], old
            old += 1
        # A fresh start (or a restart after a long gap) costs a long interval,
        # except at the very beginning of the record.
        best = best_old - (gap_cost if (best_old_i >= 0 or tj > horizon) else 0.0)
        arg = best_old_i
        for i in range(old, j):
            d = tj - tl[i]
            if d < REFRACTORY_S:
                break
            if d < TWAVE_S and (hl[i] < TWAVE_RATIO * hj or hj < TWAVE_RATIO * hl[i]):
                continue
            z = math.log(d) - lj
            v = score[i] - (w if z > 0 else ws) * z * z
            if v > best:
                best, arg = v, i
        score[j] = g[j] + best
        back[j] = arg
    out = []
    j = int(np.argmax(score)) if n else -1
    while j >= 0:
        out.append(j)
        j = back[j]
    return np.asarray(out[::-1], dtype=np.int64)


# --------------------------------------------------------------------------- location
def _locate(x_lead: np.ndarray, xd_lead: np.ndarray, k: np.ndarray, fs: float, fi: float, q: int) -> np.ndarray:
    """Original-rate positions of the dominant extremum near internal-rate positions ``k``."""
    if k.size == 0:
        return k.astype(np.int64)
    base = xd_lead - moving_average(xd_lead, int(round(BASELINE_S * fi)))
    radius = max(1, int(round(LOCATE_S * fi)))
    rows = np.arange(k.size)
    idx = np.clip(k[:, None] + np.arange(-radius, radius + 1)[None, :], 0, base.size - 1)
    win = base[idx]
    best = np.argmax(np.abs(win), axis=1)
    sign = np.where(win[rows, best] < 0, -1.0, 1.0)
    centre = idx[rows, best] * q + (q - 1) // 2
    r = q + max(1, int(round(0.01 * fs)))
    idx = np.clip(centre[:, None] + np.arange(-r, r + 1)[None, :], 0, x_lead.size - 1)
    return idx[rows, np.argmax(x_lead[idx] * sign[:, None], axis=1)].astype(np.int64)


def detect(x: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """R-peak positions and confidences for a validated ``(leads, samples)`` signal.

    ``x`` comes from :func:`ecgscope.signal.detectors._common.prepare_signal`.
    Positions are original-rate sample indices on the first non-flat lead.
    Confidence is the beat's fused envelope height relative to the local beat
    level (capped at 1); beats taken below the threshold because the rhythm
    expects them get at most 0.5.
    """
    empty = (np.zeros(0, np.int64), np.zeros(0, np.float64))
    q = max(1, int(fs // INTERNAL_FS))
    fi = fs / q
    xd = normalise_leads(decimate(x, q), copy=False)
    r = max(1, int(fi // ENVELOPE_FS))
    fe = fi / r
    if xd.shape[1] < max(8, 2 * r) or not np.any(xd):
        return empty
    env, delay = _envelope(xd, fi, r)
    if not np.any(env > 0):
        return empty
    fused = _fuse(env, fe)
    cand, props = find_peaks(fused, height=CANDIDATE_MIN, distance=max(1, int(CANDIDATE_GAP_S * fe)))
    if cand.size == 0:
        return empty
    h = props["peak_heights"]
    t = cand / fe
    first = _first_pass(t, h)
    acc = _best_sequence(t, h, _local_rr(t, t[first]))
    k = np.clip(cand[acc] * r + delay, 0, xd.shape[1] - 1)
    lead = int(np.argmax(np.abs(xd).max(axis=1) > 0))
    pos = _locate(x[lead], xd[lead], k, fs, fi, q)
    ha = h[acc]
    conf = np.where(ha >= THRESHOLD, np.minimum(ha, 1.0), 0.5 * ha / THRESHOLD)
    order = np.argsort(pos, kind="stable")
    pos, conf = pos[order], conf[order]
    # Two envelope peaks may land on the same extremum; keep one.
    dup = np.concatenate(([False], np.diff(pos) < int(0.5 * REFRACTORY_S * fs)))
    return pos[~dup], conf[~dup]
