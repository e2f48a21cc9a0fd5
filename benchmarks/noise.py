"""Noise for the QRS-detection stress test: electrode motion, muscle and baseline wander.

The MIT-BIH Noise Stress Test Database (Moody, Muldrow & Mark 1984) adds
recorded noise to clean records at fixed SNRs. We do not ship or download
that noise; we generate the three kinds ourselves, each a seeded random process:

* **em** (electrode motion): a random walk low-passed at 12 Hz and high-passed
  at 0.3 Hz (so it wanders but does not drift away), plus step artefacts (a
  Poisson process, one every 4 s on average) that jump by a random height and
  relax with a 0.3 s time constant, plus short motion spikes. Its spectrum
  overlaps the QRS band, which is what makes it the hardest kind.
* **ma** (muscle): Gaussian noise band-passed 20-150 Hz (capped at 0.45 fs)
  under a bursty envelope: a log-normal process smoothed over 0.5 s, so
  bursts of 2-10x the average level come and go.
* **bw** (baseline wander): a sum of four sinusoids of random frequency in
  0.1-0.5 Hz (respiration, movement) and random phase, plus a slow random drift.

Each kind is scaled to unit mean power and they are mixed (``kind="mix"``) in
equal power, then the mix is scaled per lead to the requested SNR. The SNR is
defined as in the NSTDB: signal power ``S = mean(A_pp^2) / 8`` where ``A_pp``
is the peak-to-peak QRS amplitude of each reference beat (within +-50 ms of
its annotation) in that lead, noise power ``N`` its mean square, and
``SNR = 10 log10(S / N)``. Unlike the NSTDB (noise in alternate 2-min
segments after minute 5) the noise covers the whole signal.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt

__all__ = ["electrode_motion", "muscle", "baseline_wander", "noise", "qrs_power", "add_noise", "KINDS"]

KINDS = ("em", "ma", "bw", "mix")


def _unit_power(x: np.ndarray) -> np.ndarray:
    x = x - x.mean()
    p = np.mean(x * x)
    return x / np.sqrt(p) if p > 0 else x


def _band(x: np.ndarray, fs: float, low: float | None, high: float | None) -> np.ndarray:
    nyq = fs / 2
    if high is not None and high >= 0.95 * nyq:
        high = None
    if low is not None and high is not None:
        sos = butter(2, [low, high], "bandpass", fs=fs, output="sos")
    elif low is not None:
        sos = butter(2, low, "highpass", fs=fs, output="sos")
    elif high is not None:
        sos = butter(2, high, "lowpass", fs=fs, output="sos")
    else:
        return x
    return sosfiltfilt(sos, x)


def electrode_motion(n: int, fs: float, rng: np.random.Generator) -> np.ndarray:
    """Electrode-motion-like noise (unit power): filtered random walk, steps and spikes."""
    walk = _band(np.cumsum(rng.standard_normal(n)), fs, 0.3, 12.0)
    walk = _unit_power(walk)
    steps = np.zeros(n)
    n_steps = rng.poisson(n / fs / 4.0)
    at = rng.integers(0, n, n_steps)
    tau = int(0.3 * fs)
    kernel = np.exp(-np.arange(6 * tau) / tau)
    impulses = np.zeros(n)
    np.add.at(impulses, at, rng.normal(0.0, 2.0, n_steps))
    steps = np.convolve(impulses, kernel)[:n]
    spikes = np.zeros(n)
    k = rng.poisson(n / fs / 10.0)
    np.add.at(spikes, rng.integers(0, n, k), rng.normal(0.0, 4.0, k))
    spikes = _band(spikes, fs, None, 25.0)
    return _unit_power(walk + _unit_power(steps) + 0.5 * _unit_power(spikes))


def muscle(n: int, fs: float, rng: np.random.Generator) -> np.ndarray:
    """Muscle-artefact-like noise (unit power): 20-150 Hz Gaussian noise under a bursty envelope."""
    carrier = _band(rng.standard_normal(n), fs, 20.0, min(150.0, 0.45 * fs))
    smooth = max(1, int(0.5 * fs))
    env = np.convolve(rng.standard_normal(n), np.ones(smooth) / np.sqrt(smooth), mode="same")
    env = np.exp(0.8 * env)  # log-normal bursts
    return _unit_power(carrier * env)


def baseline_wander(n: int, fs: float, rng: np.random.Generator) -> np.ndarray:
    """Baseline wander (unit power): four 0.1-0.5 Hz sinusoids plus a slow drift."""
    t = np.arange(n) / fs
    wander = sum(rng.uniform(0.5, 1.0) * np.sin(2 * np.pi * rng.uniform(0.1, 0.5) * t + rng.uniform(0, 2 * np.pi))
                 for _ in range(4))
    drift = _band(np.cumsum(rng.standard_normal(n)), fs, None, 0.05)
    return _unit_power(wander + 0.5 * _unit_power(drift))


def noise(n: int, fs: float, kind: str = "mix", seed: int = 0) -> np.ndarray:
    """``n`` samples of unit-power noise of ``kind`` (``em``, ``ma``, ``bw`` or the equal-power ``mix``)."""
    rng = np.random.default_rng(seed)
    if kind == "em":
        return electrode_motion(n, fs, rng)
    if kind == "ma":
        return muscle(n, fs, rng)
    if kind == "bw":
        return baseline_wander(n, fs, rng)
    if kind == "mix":
        return _unit_power(electrode_motion(n, fs, rng) + muscle(n, fs, rng) + baseline_wander(n, fs, rng))
    raise ValueError(f"unknown noise kind {kind!r}; use one of {KINDS}")


def qrs_power(lead: np.ndarray, fs: float, r_peaks: np.ndarray) -> float:
    """NSTDB signal power: mean squared peak-to-peak QRS amplitude (+-50 ms) over 8."""
    half = max(1, int(round(0.05 * fs)))
    r = np.asarray(r_peaks, dtype=np.int64)
    r = r[(r >= half) & (r < lead.size - half)]
    if r.size == 0:
        return float(np.var(lead))
    win = lead[r[:, None] + np.arange(-half, half + 1)[None, :]]
    pp = win.max(axis=1) - win.min(axis=1)
    return float(np.mean(pp * pp) / 8.0)


def add_noise(signal: np.ndarray, fs: float, r_peaks: np.ndarray, snr_db: float, kind: str = "mix",
              seed: int = 0) -> np.ndarray:
    """``signal`` (1-D or ``(leads, samples)``) plus independent noise per lead at ``snr_db`` (NSTDB SNR)."""
    x = np.atleast_2d(np.asarray(signal, dtype=np.float64))
    out = np.empty_like(x)
    for i, lead in enumerate(x):
        n = noise(lead.size, fs, kind, seed=seed * 1000 + i)
        scale = np.sqrt(qrs_power(lead, fs, r_peaks) / 10 ** (snr_db / 10.0))
        out[i] = lead + scale * n
    out = out.astype(np.float32)
    return out[0] if np.ndim(signal) == 1 else out
