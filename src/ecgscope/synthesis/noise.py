"""Realistic ECG noise, scaled to an exact SNR per lead.

Components (after the MIT-BIH Noise Stress Test Database's taxonomy, Moody,
Muldrow & Mark 1984, and Clifford, Azuaje & McSharry 2006, ch. 3):

* **baseline**: respiration (fundamental + 2nd harmonic) and a random slow
  drift (white noise low-passed at 0.15 Hz), built on a 16 Hz grid and
  interpolated.
* **muscle**: white noise band-passed to 20-150 Hz (4th-order Butterworth,
  capped at 0.45 fs), amplitude-modulated by a slow log-normal envelope
  (bursts of muscle tension).
* **powerline**: 50/60 Hz with 2nd and 3rd harmonics (those below 0.45 fs),
  a per-lead gain and phase, and a slow 10 % amplitude drift.
* **motion**: electrode-motion bursts (about one per 20 s, at least one):
  a baseline step that recovers exponentially (tau 0.5-3 s) plus a
  Hann-windowed 0.5-5 Hz oscillation.

Each lead gets a mix of a shared source and its own (shared electrodes), the
components are mixed by their requested power shares and the sum is scaled so
that ``10 log10(var(clean) / var(noise)) == snr_db`` in every lead. The
first pass over the record gathers the components' statistics; short records
keep its chunks for the addition, long ones regenerate identical noise from
stored seeds in a second pass, so memory stays bounded.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
from scipy.signal import butter, sosfilt

from ._processes import smooth_gaussian
from .params import NoiseSpec, SimulationParameterError

__all__ = ["add_noise", "NoiseGenerator"]

_COARSE_HZ = 16.0
#: Noise samples (components x leads x samples) kept in memory to spare the second pass (64 MB).
CACHE_ELEMENTS = 2**23
_SHARED = {"baseline": 0.6, "muscle": 0.2, "motion": 0.5}  # share of variance from the common source


class NoiseGenerator:
    """Deterministic, chunk-wise noise components for one record.

    Everything global (slow processes, motion events, mains phases) is drawn
    at construction; :meth:`chunks` replays the sample-rate streams from a
    stored seed, so iterating twice yields identical noise.
    """

    def __init__(self, n: int, fs: float, n_leads: int, spec: NoiseSpec, resp_hz: float,
                 rng: np.random.Generator) -> None:
        self.n, self.fs, self.n_leads, self.spec = n, fs, n_leads, spec
        self.components = [c for c, w in spec.weights().items() if w > 0]
        duration = n / fs
        m = int(np.ceil(duration * _COARSE_HZ)) + 2
        tc = np.arange(m) / _COARSE_HZ
        self.coarse_t = tc
        # Baseline: 3 sources (respiration + drift), mixed to leads.
        breath = np.sin(2 * np.pi * resp_hz * tc + rng.uniform(0, 2 * np.pi))
        breath += 0.3 * np.sin(4 * np.pi * resp_hz * tc + rng.uniform(0, 2 * np.pi))
        sources = np.stack([breath + 0.7 * smooth_gaussian(m, _COARSE_HZ, 0.15, rng) for _ in range(3)])
        self.baseline_coarse = self._mix(rng, 3, _SHARED["baseline"]) @ sources  # (n_leads, m)
        # Muscle: envelope (shared) and the band-pass filter.
        self.muscle_env = np.exp(0.5 * smooth_gaussian(m, _COARSE_HZ, 0.3, rng))
        hi = min(150.0, 0.45 * fs)
        self.muscle_sos = butter(4, [20.0 / (fs / 2), hi / (fs / 2)], btype="band", output="sos")
        # Powerline: harmonics below 0.45 fs, per-lead gain and phase.
        f0 = spec.mains_hz
        self.mains = [(h * f0, a) for h, a in ((1, 1.0), (2, 0.1), (3, 0.3)) if h * f0 < 0.45 * fs]
        if not self.mains and "powerline" in self.components:  # an anti-aliasing filter would remove it
            self.components.remove("powerline")
            if not self.components:
                raise SimulationParameterError(
                    f"powerline noise at {f0:g} Hz is above 0.45 fs = {0.45 * fs:g} Hz, so no noise is left",
                    path="noise", fix=f"raise fs above {f0 / 0.45:.0f} Hz or choose another noise component")
        self.mains_gain = rng.uniform(0.5, 1.5, size=(n_leads, 1))
        self.mains_phase = rng.uniform(-0.3, 0.3, size=(n_leads, len(self.mains))) + rng.uniform(0, 2 * np.pi)
        self.mains_drift = 1 + 0.1 * smooth_gaussian(m, _COARSE_HZ, 0.2, rng)
        # Motion: event table.
        k = max(1, int(rng.poisson(duration / 20.0)))
        self.ev_start = np.sort(rng.uniform(0, duration, k))
        self.ev_len = rng.uniform(0.3, 2.0, k)
        self.ev_step = rng.normal(0, 1, k)
        self.ev_tau = rng.uniform(0.5, 3.0, k)
        self.ev_freq = rng.uniform(0.5, 5.0, (k, 2))
        self.ev_osc = rng.normal(0, 1, (k, 2))
        self.ev_phase = rng.uniform(0, 2 * np.pi, (k, 2))
        self.ev_gain = self._event_gains(rng, k)
        self.ev_span = self.ev_len + 5 * self.ev_tau  # step recovery truncated at 5 tau
        self.ev_max_span = float(self.ev_span.max())
        self._stream_seed = rng.integers(0, 2**63)

    def _mix(self, rng: np.random.Generator, n_src: int, shared: float) -> np.ndarray:
        """``(n_leads, n_src)`` random mixing weights; source 0 reaches every lead with the same strength."""
        w = rng.normal(0, 1, size=(self.n_leads, n_src))
        w[:, 0] = np.sqrt(shared) * np.sign(rng.normal(size=self.n_leads))
        return w

    def _event_gains(self, rng: np.random.Generator, k: int) -> np.ndarray:
        common = rng.normal(0, 1, size=(k, 1))
        own = rng.normal(0, 1, size=(k, self.n_leads))
        return np.sqrt(_SHARED["motion"]) * common + np.sqrt(1 - _SHARED["motion"]) * own

    def chunks(self, size: int) -> Iterator[tuple[int, int, np.ndarray]]:
        """Yield ``(start, stop, array)``, the array ``(n_components, n_leads, stop - start)`` float64."""
        stream = np.random.default_rng(self._stream_seed)
        n_src = self.n_leads + 1
        zi = np.zeros((self.muscle_sos.shape[0], n_src, 2))  # filter state carried across chunks
        for s0 in range(0, self.n, size):
            s1 = min(self.n, s0 + size)
            t = np.arange(s0, s1) / self.fs
            out = np.empty((len(self.components), self.n_leads, s1 - s0))
            for i, name in enumerate(self.components):
                if name == "baseline":
                    for lead, coarse in enumerate(self.baseline_coarse):
                        out[i, lead] = np.interp(t, self.coarse_t, coarse)
                elif name == "muscle":
                    white = stream.standard_normal((n_src, s1 - s0))
                    band, zi = sosfilt(self.muscle_sos, white, axis=1, zi=zi)
                    env = np.interp(t, self.coarse_t, self.muscle_env)
                    np.multiply(np.sqrt(1 - _SHARED["muscle"]) * band[1:]
                                + np.sqrt(_SHARED["muscle"]) * band[0], env, out=out[i])
                elif name == "powerline":
                    out[i] = self._powerline(t)
                else:
                    out[i] = self._motion(s0, s1)
            yield s0, s1, out

    def _powerline(self, t: np.ndarray) -> np.ndarray:
        if not self.mains:
            return np.zeros((self.n_leads, t.size))
        x = 2 * np.pi * self.spec.mains_hz * t
        s1, c1 = np.sin(x), np.cos(x)
        basis = [s1, c1]  # sin(hx), cos(hx) for h = 1, 2, 3 by angle addition
        for _ in range(1, len(self.mains)):
            s_prev, c_prev = basis[-2], basis[-1]
            basis += [s_prev * c1 + c_prev * s1, c_prev * c1 - s_prev * s1]
        amps = np.array([a for _, a in self.mains])
        # a sin(hx + ph) = a cos(ph) sin(hx) + a sin(ph) cos(hx)
        coef = np.empty((self.n_leads, 2 * len(self.mains)))
        coef[:, 0::2] = amps * np.cos(self.mains_phase)
        coef[:, 1::2] = amps * np.sin(self.mains_phase)
        y = np.einsum("lh,hn->ln", coef, np.stack(basis))  # einsum: BLAS threads are slow for this shape
        return y * self.mains_gain * np.interp(t, self.coarse_t, self.mains_drift)

    def _motion(self, s0: int, s1: int) -> np.ndarray:
        fs = self.fs
        # Events are sorted by start and last at most max_span: only a slice can touch the chunk.
        lo = int(np.searchsorted(self.ev_start, s0 / fs - self.ev_max_span))
        hi = int(np.searchsorted(self.ev_start, s1 / fs))
        a = np.floor(self.ev_start[lo:hi] * fs).astype(np.int64)
        b = np.ceil((self.ev_start[lo:hi] + self.ev_span[lo:hi]) * fs).astype(np.int64)
        sel = (b > s0) & (a < s1)
        out = np.zeros((self.n_leads, s1 - s0))
        if not sel.any():
            return out
        a, b = np.maximum(a[sel], s0), np.minimum(b[sel], s1)
        lengths = b - a
        ev = np.repeat(lo + np.flatnonzero(sel), lengths)
        offsets = np.cumsum(lengths) - lengths
        pos = np.arange(lengths.sum()) - np.repeat(offsets, lengths) + np.repeat(a, lengths)
        tau = pos / fs - self.ev_start[ev]  # time since the event began
        length = self.ev_len[ev]
        rise = np.clip(tau / 0.05, 0, 1)  # a 50 ms step, then exponential recovery
        wave = self.ev_step[ev] * rise * np.exp(-np.clip(tau - length, 0, None) / self.ev_tau[ev])
        inside = np.flatnonzero(tau < length)  # the Hann-windowed oscillation
        e, ti = ev[inside], tau[inside]
        hann = np.sin(np.pi * ti / length[inside]) ** 2
        phase = 2 * np.pi * self.ev_freq[e] * ti[:, None] + self.ev_phase[e]
        osc = (self.ev_osc[e] * np.sin(phase)).sum(axis=1)
        wave[inside] += hann * osc
        local = pos - s0
        for lead in range(self.n_leads):
            out[lead] = np.bincount(local, weights=wave * self.ev_gain[ev, lead], minlength=s1 - s0)
        return out


def _moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-lead sum and sum of squares in float64 of a ``(leads, samples)`` array."""
    return x.sum(axis=1, dtype=np.float64), np.einsum("ij,ij->i", x, x, dtype=np.float64)


def add_noise(signal: np.ndarray, fs: float, spec: NoiseSpec, resp_hz: float, rng: np.random.Generator,
              chunk: int) -> dict:
    """Add noise to ``signal`` (``(leads, samples)`` float32, modified in place) at ``spec.snr_db``.

    Returns a JSON-safe summary: the achieved SNR per lead and the power share
    of each component.
    """
    n_leads, n = signal.shape
    gen = NoiseGenerator(n, fs, n_leads, spec, resp_hz, rng)
    s_sum, s_sq = np.zeros(n_leads), np.zeros(n_leads)
    for s0 in range(0, n, chunk):
        a, b = _moments(signal[:, s0:s0 + chunk].astype(np.float64))
        s_sum += a
        s_sq += b
    p_signal = s_sq / n - (s_sum / n) ** 2
    if np.any(p_signal < 1e-10):
        raise SimulationParameterError(
            f"the {n / fs:g} s record holds no ECG activity (no beat) to set an SNR against", path="noise",
            fix="lengthen the record to a few RR intervals or pass noise=None")
    names = gen.components
    c = len(names)
    # Pass 1: per-lead mean and covariance of the components.
    cache: list | None = []  # pass-1 chunks kept while they fit the budget: no second pass then
    m1, m2 = np.zeros((c, n_leads)), np.zeros((c, c, n_leads))
    for s0, s1, stack in gen.chunks(chunk):
        m1 += stack.sum(axis=2)
        for lead in range(n_leads):
            m2[:, :, lead] += stack[:, lead] @ stack[:, lead].T
        if cache is not None:
            cache = cache + [(s0, s1, stack)] if c * n_leads * s1 <= CACHE_ELEMENTS else None
    cov = m2 / n - np.einsum("al,bl->abl", m1, m1) / n**2
    var = np.einsum("aal->al", cov)
    weights = spec.weights()
    w = np.array([weights[k] for k in names])[:, None] * (var > 1e-20)
    w = w / np.maximum(w.sum(axis=0, keepdims=True), 1e-300)
    scale = np.sqrt(w / np.maximum(var, 1e-300))  # (c, leads): unit variance times share
    total = np.einsum("al,abl,bl->l", scale, cov, scale)
    target = p_signal / 10 ** (spec.snr_db / 10)
    scale *= np.sqrt(target / np.maximum(total, 1e-300))
    # Pass 2 (or the single chunk kept from pass 1): add the noise.
    chunks = cache if cache is not None else gen.chunks(chunk)
    for s0, s1, stack in chunks:
        signal[:, s0:s1] += np.einsum("al,alm->lm", scale, stack).astype(np.float32)
    shares = {k: float(np.mean(w[i])) for i, k in enumerate(names)}
    p_noise = np.einsum("al,abl,bl->l", scale, cov, scale)
    achieved = 10 * np.log10(np.maximum(p_signal, 1e-300) / np.maximum(p_noise, 1e-300))
    return {**spec.to_dict(), "achieved_snr_db": [round(float(x), 3) for x in achieved],
            "component_share": shares}
