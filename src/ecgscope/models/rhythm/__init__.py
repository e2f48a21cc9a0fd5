"""Rhythm estimators (record-level rhythm classification): a registry of ``fit``/``predict_proba`` estimators.

Every rhythm estimator, deep or not, follows one protocol so the same
harness (:mod:`ecgscope.evaluation.rhythm_protocols`) cross-validates and
zero-shot-tests it::

    est = create_rhythm_estimator("ramba", **options)
    est.fit(train)                   # a RhythmSet; any validation split is drawn from train's records
    proba = est.predict_proba(test)  # (n_records, len(est.classes_)) record-level probabilities

An estimator is added by one file in this package and one line in ``_MODULES``.
"""

from __future__ import annotations

import importlib
from typing import Callable, Protocol, TypeVar, runtime_checkable

import numpy as np

from ...errors import ModelError

__all__ = ["RhythmEstimator", "register_rhythm_estimator", "create_rhythm_estimator",
           "list_rhythm_estimators"]

# One line per estimator module (relative to ``ecgscope.models.rhythm``).
_MODULES: list[str] = [
    "baselines",
    "gbm_windows",
    "ramba",
    "resnet",
]

_REGISTRY: dict[str, Callable] = {}
T = TypeVar("T", bound=Callable)


@runtime_checkable
class RhythmEstimator(Protocol):
    """What the rhythm harness needs: classes, ``fit`` on a RhythmSet, record-level ``predict_proba``."""

    classes_: tuple[str, ...]

    def fit(self, train, *, progress: bool = False) -> "RhythmEstimator": ...

    def predict_proba(self, data) -> np.ndarray: ...


def register_rhythm_estimator(name: str) -> Callable[[T], T]:
    """Class decorator registering a rhythm estimator under ``name`` (lower-case, unique)."""
    if not isinstance(name, str) or not name or name != name.strip().lower():
        raise ModelError(f"rhythm estimator name {name!r} is invalid", fix="use a lower-case name such as 'ramba'")

    def decorator(cls: T) -> T:
        known = _REGISTRY.get(name)
        if known is not None and (known.__module__, known.__qualname__) != (cls.__module__, cls.__qualname__):
            raise ModelError(f"rhythm estimator {name!r} is already registered by {known.__qualname__}",
                             fix=f"choose another name for {cls.__qualname__}")
        cls.estimator_name = name
        _REGISTRY[name] = cls
        return cls

    return decorator


def list_rhythm_estimators() -> list[str]:
    """Names of every registered rhythm estimator, sorted."""
    _import_builtin()
    return sorted(_REGISTRY)


def create_rhythm_estimator(name: str, **options):
    """Build the registered rhythm estimator ``name`` with ``options``."""
    _import_builtin()
    if name not in _REGISTRY:
        raise ModelError(f"unknown rhythm estimator {name!r}",
                         fix="choose one of: " + ", ".join(sorted(_REGISTRY)))
    try:
        return _REGISTRY[name](**options)
    except TypeError as exc:
        raise ModelError(f"cannot build rhythm estimator {name!r} from {options!r} ({exc})") from exc


def _import_builtin() -> None:
    """Import every module in ``_MODULES`` so their decorators register the estimators."""
    for module in _MODULES:
        importlib.import_module(f"{__package__}.{module}")
