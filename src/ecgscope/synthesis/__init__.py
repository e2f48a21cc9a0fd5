"""Synthesis layer: the dynamical ECG simulator with ground truth.

``simulate(...)`` returns a :class:`~ecgscope.record.Record` whose beats,
rhythms and wave boundaries are known exactly; ``simulate_demo()`` is the
few-minute mixed-arrhythmia record behind ``ecgscope demo``. See
``docs/simulator.md``.
"""

from .._lazy import lazy_exports

_EXPORTS = {
    "simulate": "simulator",
    "simulate_demo": "demo",
    "NoiseSpec": "params",
    "SimulationParameterError": "params",
    "truth_fiducials": "truth",
    "FIDUCIAL_KEYS": "truth",
    "lead_matrix": "vcg",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
