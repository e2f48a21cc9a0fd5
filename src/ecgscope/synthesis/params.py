"""Validated parameters of the simulator: noise spec, episodes, bounds.

Bad arguments raise :class:`SimulationParameterError`, which is both an
:class:`~ecgscope.errors.ConfigError` (the package's error family) and a
:class:`ValueError` (what Python callers expect from a bad argument).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping, Sequence

from ..errors import ConfigError

__all__ = [
    "SimulationParameterError",
    "NoiseSpec",
    "Episode",
    "as_noise_spec",
    "check_range",
    "check_int",
    "parse_episodes",
    "MIN_SIM_FS",
    "MAX_SIM_FS",
    "MAX_DURATION_S",
]

#: Sampling rates the simulator accepts (Hz).
MIN_SIM_FS = 100.0
MAX_SIM_FS = 10_000.0
#: Longest record the simulator accepts: one week.
MAX_DURATION_S = 7 * 24 * 3600.0


class SimulationParameterError(ConfigError, ValueError):
    """A :func:`~ecgscope.synthesis.simulate` argument is out of range or inconsistent."""


def check_range(name: str, value: Any, lo: float, hi: float, unit: str = "",
                lo_open: bool = False) -> float:
    """Return ``value`` as float, or raise when it is not a finite number in ``[lo, hi]``."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise SimulationParameterError(f"{value!r} is not a number", path=name,
                                       fix=f"pass a number between {lo:g} and {hi:g}{unit}") from None
    bad_lo = x <= lo if lo_open else x < lo
    if not math.isfinite(x) or bad_lo or x > hi:
        bound = f"({lo:g}, {hi:g}]" if lo_open else f"[{lo:g}, {hi:g}]"
        raise SimulationParameterError(f"{value!r}{unit} is outside {bound}{unit}", path=name,
                                       fix=f"pass a value in {bound}{unit}")
    return x


def check_int(name: str, value: Any, lo: int, hi: int) -> int:
    """Return ``value`` as int, or raise when it is not an integer in ``[lo, hi]``."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise SimulationParameterError(f"{value!r} is not an integer", path=name,
                                       fix=f"pass an integer between {lo} and {hi}")
    v = int(value)
    if not lo <= v <= hi:
        raise SimulationParameterError(f"{v} is outside [{lo}, {hi}]", path=name,
                                       fix=f"pass an integer between {lo} and {hi}")
    return v


@dataclass(frozen=True)
class NoiseSpec:
    """What noise to add and how much.

    ``snr_db`` is the signal-to-noise ratio of every lead,
    ``10 log10(var(clean) / var(noise))``; the other fields are the *relative
    noise power* of each component (normalised to sum to one).

    Attributes:
        snr_db: requested SNR per lead in dB.
        baseline: baseline wander (respiration + slow drift).
        muscle: EMG-like band-limited (20-150 Hz) noise with a slow envelope.
        powerline: mains interference with harmonics (those below 0.45 fs).
        motion: electrode-motion bursts with baseline steps.
        mains_hz: mains frequency, 50 or 60 Hz.
    """

    snr_db: float = 20.0
    baseline: float = 1.0
    muscle: float = 1.0
    powerline: float = 0.25
    motion: float = 0.5
    mains_hz: float = 50.0

    COMPONENTS = ("baseline", "muscle", "powerline", "motion")

    def __post_init__(self) -> None:
        check_range("noise.snr_db", self.snr_db, -20.0, 80.0, " dB")
        for name in self.COMPONENTS:
            check_range(f"noise.{name}", getattr(self, name), 0.0, 1e6)
        if sum(getattr(self, c) for c in self.COMPONENTS) <= 0:
            raise SimulationParameterError(
                "all noise component weights are zero", path="noise",
                fix="give at least one of baseline, muscle, powerline, motion a positive weight, "
                    "or pass noise=None for a clean record")
        if float(self.mains_hz) not in (50.0, 60.0):
            raise SimulationParameterError(f"mains_hz={self.mains_hz!r} Hz", path="noise.mains_hz",
                                           fix="pass 50 or 60")

    @classmethod
    def only(cls, component: str, snr_db: float = 20.0, **kw: Any) -> "NoiseSpec":
        """A spec with a single component, e.g. ``NoiseSpec.only("muscle", 6)``."""
        if component not in cls.COMPONENTS:
            raise SimulationParameterError(f"unknown noise component {component!r}", path="noise",
                                           fix=f"use one of {', '.join(cls.COMPONENTS)}")
        weights = {c: (1.0 if c == component else 0.0) for c in cls.COMPONENTS}
        return cls(snr_db=snr_db, **weights, **kw)

    def weights(self) -> dict[str, float]:
        """Component -> share of the noise power (sums to one)."""
        raw = {c: float(getattr(self, c)) for c in self.COMPONENTS}
        total = sum(raw.values())
        return {c: w / total for c, w in raw.items()}

    def to_dict(self) -> dict[str, float]:
        """JSON-safe dict."""
        return {k: float(v) for k, v in asdict(self).items()}


def as_noise_spec(noise: NoiseSpec | Mapping[str, Any] | float | int | None) -> NoiseSpec | None:
    """``None`` -> no noise; a number -> SNR in dB with the default mix; a dict -> :class:`NoiseSpec`."""
    if noise is None or isinstance(noise, NoiseSpec):
        return noise
    if isinstance(noise, bool):
        raise SimulationParameterError(f"noise={noise!r}", path="noise",
                                       fix="pass None, an SNR in dB, a dict or a NoiseSpec")
    if isinstance(noise, (int, float)):
        return NoiseSpec(snr_db=float(noise))
    if isinstance(noise, Mapping):
        known = {f.name for f in fields(NoiseSpec)}
        unknown = sorted(set(noise) - known)
        if unknown:
            raise SimulationParameterError(f"unknown noise keys {unknown}", path="noise",
                                           fix=f"use only {', '.join(sorted(known))}")
        return NoiseSpec(**dict(noise))
    raise SimulationParameterError(f"noise of type {type(noise).__name__}", path="noise",
                                   fix="pass None, an SNR in dB, a dict or a NoiseSpec")


@dataclass(frozen=True)
class Episode:
    """A requested rhythm episode: ``label`` from ``start`` to ``end`` seconds.

    ``rate`` is the ventricular rate in bpm (AF / flutter), ``None`` for the default.
    """

    start: float
    end: float
    label: str
    rate: float | None = None


def parse_episodes(name: str, items: Sequence[Sequence[float]], label: str, duration: float,
                   with_rate: bool = False) -> list[Episode]:
    """Validate ``((start_s, end_s[, rate_bpm]), ...)`` against the record duration."""
    if items is None:
        return []
    if not isinstance(items, (list, tuple)):
        raise SimulationParameterError(f"{items!r} is not a sequence of (start_s, end_s) pairs", path=name,
                                       fix=f"pass e.g. {name}=[(30, 90)]")
    if len(items) == 2 and all(isinstance(x, (int, float)) for x in items):
        items = [items]  # a single (start, end) pair
    out: list[Episode] = []
    for item in items:
        try:
            vals = [float(x) for x in item]
        except (TypeError, ValueError):
            raise SimulationParameterError(f"{item!r} is not (start_s, end_s)", path=name,
                                           fix=f"pass e.g. {name}=[(30, 90)]") from None
        n_ok = (2, 3) if with_rate else (2,)
        if len(vals) not in n_ok:
            what = "(start_s, end_s) or (start_s, end_s, rate_bpm)" if with_rate else "(start_s, end_s)"
            raise SimulationParameterError(f"{item!r} has {len(vals)} values", path=name,
                                           fix=f"pass each episode as {what}")
        start, end = vals[0], vals[1]
        if not (math.isfinite(start) and math.isfinite(end)) or not 0 <= start < end <= duration:
            raise SimulationParameterError(
                f"episode ({start:g}, {end:g}) s does not fit in the {duration:g} s record", path=name,
                fix="use 0 <= start_s < end_s <= duration")
        if end - start < 2.0:
            raise SimulationParameterError(f"episode ({start:g}, {end:g}) s is shorter than 2 s", path=name,
                                           fix="make every episode at least 2 s long")
        rate = check_range(f"{name} rate", vals[2], 30.0, 220.0, " bpm") if len(vals) == 3 else None
        out.append(Episode(start, end, label, rate))
    return out
