"""Sinus RR tachogram with ECGSYN's bimodal (LF + HF) spectrum.

McSharry et al. 2003 (IEEE TBME 50:289), section II-B: the RR process has a
power spectrum that is the sum of two Gaussians, a Mayer-wave peak at 0.1 Hz
and a respiratory sinus arrhythmia peak at the breathing frequency (both with
a standard deviation of 0.01 Hz, LF/HF power ratio 0.5). It is synthesised by
an inverse FFT of the spectrum's amplitude with random phases and scaled to
the requested standard deviation.
"""

from __future__ import annotations

import numpy as np

__all__ = ["rr_tachogram", "Tachogram"]


class Tachogram:
    """RR interval (s) as a function of time, sampled on a uniform grid."""

    def __init__(self, step: float, rr: np.ndarray) -> None:
        self.step = float(step)
        self.rr = rr

    def __call__(self, t: np.ndarray) -> np.ndarray:
        """RR at times ``t`` (s), linearly interpolated; clamped past the ends."""
        x = np.asarray(t, dtype=np.float64) / self.step
        i = np.clip(x.astype(np.int64), 0, self.rr.size - 2)
        frac = np.clip(x - i, 0.0, 1.0)
        return self.rr[i] * (1 - frac) + self.rr[i + 1] * frac


def rr_tachogram(duration: float, mean_rr: float, cv: float, resp_hz: float, rng: np.random.Generator,
                 lf_hz: float = 0.1, lf_hf: float = 0.5, width_hz: float = 0.01,
                 fs_rr: float = 2.0) -> Tachogram:
    """An RR tachogram of at least ``duration`` seconds (ECGSYN spectrum).

    Args:
        duration: seconds to cover.
        mean_rr: mean RR interval in seconds (``60 / heart_rate``).
        cv: standard deviation of RR divided by its mean (0 = metronome).
        resp_hz: breathing frequency, the centre of the HF peak.
        rng: random phases.
        lf_hz, lf_hf, width_hz: LF centre, LF/HF power ratio, peak widths (ECGSYN defaults).
        fs_rr: sampling rate of the tachogram grid in Hz.

    Returns:
        A :class:`Tachogram`; values are clipped to ``[0.6, 1.6] * mean_rr``.
    """
    n = max(1024, int(2 ** np.ceil(np.log2(duration * fs_rr + 16))))
    if cv <= 0:
        return Tachogram(1.0 / fs_rr, np.full(n, mean_rr))
    f = np.fft.rfftfreq(n, 1.0 / fs_rr)

    def peak(center: float) -> np.ndarray:
        return np.exp(-((f - center) ** 2) / (2 * width_hz**2))

    # Normalise each peak to unit power so the LF/HF ratio holds on any grid.
    lf, hf = peak(lf_hz), peak(resp_hz)
    spectrum = lf_hf / (1 + lf_hf) * lf / lf.sum() + 1 / (1 + lf_hf) * hf / hf.sum()
    spectrum[0] = 0.0
    phases = rng.uniform(0, 2 * np.pi, size=f.size)
    x = np.fft.irfft(np.sqrt(spectrum) * np.exp(1j * phases), n)
    x = (x - x.mean()) / x.std()
    rr = mean_rr * (1 + cv * x)
    return Tachogram(1.0 / fs_rr, np.clip(rr, 0.6 * mean_rr, 1.6 * mean_rr))
