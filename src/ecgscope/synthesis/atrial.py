"""Atrial activity during AF and flutter: the Stridh-Sornmo sawtooth model.

Stridh & Sornmo 2001, "Spatiotemporal QRST cancellation techniques for
analysis of atrial fibrillation", IEEE TBME 48:105, model the f-waves as

    s(t) = -sum_{i=1..M} a_i(t) sin(i theta(t)),
    a_i(t) = 2/(i pi) (a + da sin(2 pi f_a t)),
    theta(t) = 2 pi f0 t + (df / f_f) sin(2 pi f_f t),

a sawtooth of ``M`` harmonics whose amplitude and frequency drift slowly.
AF uses M = 3 and f0 in 5-8 Hz; to make the waves irregular from cycle to
cycle, as real f-waves are, we add a random phase (its frequency deviation is
Gaussian noise low-passed at 1 Hz, 0.6 Hz standard deviation) and a random
log-normal amplitude (low-passed at 0.7 Hz), which keeps the dominant
frequency in 4-9 Hz. Flutter uses M = 6, a fixed 4.2-5.2 Hz (250-310 /min)
and a steady amplitude. The scalar wave is projected along an atrial vector
(largest in V1 for AF, negative in II, III and aVF for typical flutter).
Edges fade in and out over 0.3 s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._processes import smooth_gaussian
from .rhythm import AtrialEpisode

__all__ = ["AtrialModel"]

_FADE_S = 0.3
_GRID_HZ = 25.0  # grid of the random phase and amplitude processes
_AF_VECTOR = np.array([-0.02, 0.04, -0.10])  # mV: ~0.1 mV in V1, ~0.05 mV in II
_AFL_VECTOR = np.array([0.03, -0.24, -0.15])  # mV: negative sawtooth in II, upright waves in V1


@dataclass
class _Wave:
    ep: AtrialEpisode
    vector: np.ndarray
    harmonics: int
    amp: float
    d_amp: float
    f_amp: float
    d_freq: float
    f_freq: float
    phase: float
    phase_noise: np.ndarray | None = None  # radians on the grid, from ep.start
    amp_noise: np.ndarray | None = None  # gain on the grid


class AtrialModel:
    """All atrial episodes of a record; :meth:`render` evaluates any time span."""

    def __init__(self, episodes: list[AtrialEpisode], rng: np.random.Generator) -> None:
        self.waves: list[_Wave] = []
        for ep in episodes:
            if ep.label == "AFIB":
                m = int(np.ceil((ep.end - ep.start) * _GRID_HZ)) + 2
                dev_hz = 0.6 * smooth_gaussian(m, _GRID_HZ, 1.0, rng)
                phase_noise = 2 * np.pi * np.cumsum(dev_hz) / _GRID_HZ
                amp_noise = np.exp(0.3 * smooth_gaussian(m, _GRID_HZ, 0.7, rng))
                self.waves.append(_Wave(ep, _AF_VECTOR, 3, rng.uniform(0.7, 1.3), rng.uniform(0.1, 0.3),
                                        rng.uniform(0.08, 0.35), rng.uniform(0.1, 0.3), 0.1,
                                        rng.uniform(0, 2 * np.pi), phase_noise, amp_noise))
            else:  # flutter: phase fixed so conducted beats lock to the waves
                phase = -2 * np.pi * ep.freq_hz * ep.t_ref
                self.waves.append(_Wave(ep, _AFL_VECTOR, 6, rng.uniform(0.8, 1.2), 0.0, 0.1, 0.0, 0.1, phase))

    def render(self, start: int, stop: int, fs: float) -> np.ndarray:
        """Atrial VCG ``(3, stop - start)`` in mV for samples ``start:stop``."""
        out = np.zeros((3, stop - start))
        for w in self.waves:
            lo = max(start, int(np.floor(w.ep.start * fs)))
            hi = min(stop, int(np.ceil(w.ep.end * fs)))
            if hi <= lo:
                continue
            t = np.arange(lo, hi) / fs
            theta = 2 * np.pi * w.ep.freq_hz * t + w.phase
            if w.d_freq:
                theta += (w.d_freq / w.f_freq) * np.sin(2 * np.pi * w.f_freq * t)
            level = w.amp + w.d_amp * np.sin(2 * np.pi * w.f_amp * t)
            if w.phase_noise is not None:
                grid = np.arange(w.phase_noise.size) / _GRID_HZ + w.ep.start
                theta += np.interp(t, grid, w.phase_noise)
                level = level * np.interp(t, grid, w.amp_noise)
            s = np.zeros_like(t)
            for i in range(1, w.harmonics + 1):
                s -= (2 / (i * np.pi)) * np.sin(i * theta)
            fade = np.clip(np.minimum(t - w.ep.start, w.ep.end - t) / _FADE_S, 0.0, 1.0)
            s *= level * (0.5 - 0.5 * np.cos(np.pi * fade))
            out[:, lo - start:hi - start] += w.vector[:, None] * s
        return out

    def summary(self) -> list[list]:
        """JSON-safe ``[start_s, end_s, label, frequency_hz]`` per episode."""
        return [[round(w.ep.start, 4), round(w.ep.end, 4), w.ep.label, round(w.ep.freq_hz, 3)]
                for w in self.waves]
