"""Model registry: ``@register_model("name")``, ``create_model``, ``list_models``, ``model_class``.

A model is added by one file and one line in ``_MODULES`` (the torch_ecg
habit). Importing this module imports every architecture module listed there,
so every built-in model is registered as soon as ``ecgscope.models`` hands out
``create_model`` / ``list_models``.
"""

from __future__ import annotations

import importlib
from typing import Callable, TypeVar

import torch

from ..errors import ModelError

__all__ = ["register_model", "create_model", "list_models", "model_class"]

# One line per architecture module (relative to ``ecgscope.models``).
_MODULES = [
    "resnet1d",
    "inception_time",
    "transnet",
    "ramba_beats",
    "feature_mlp",
    "mixture",
]

_REGISTRY: dict[str, type] = {}
_REQUIRED = ("in_leads", "n_classes", "window")

T = TypeVar("T", bound=type)


def register_model(name: str) -> Callable[[T], T]:
    """Class decorator that registers a model under ``name`` (lower-case, unique).

    The class must accept ``(in_leads, n_classes, window, n_rr=0, variant="base",
    **arch_kwargs)`` and implement ``forward(x, rr=None) -> logits``. The name is
    stored on the class as ``architecture`` (the checkpoint card's key).
    """
    if not isinstance(name, str) or not name or name != name.strip().lower():
        raise ModelError(f"model name {name!r} is invalid",
                         fix="use a non-empty lower-case name such as 'resnet1d'")

    def decorator(cls: T) -> T:
        known = _REGISTRY.get(name)
        # Re-registering the same class (a module reload) replaces it; another class is a clash.
        if known is not None and (known.__module__, known.__qualname__) != (cls.__module__, cls.__qualname__):
            raise ModelError(
                f"model name {name!r} is already registered by {known.__module__}.{known.__qualname__}",
                fix="choose another name for " + f"{cls.__module__}.{cls.__qualname__}",
            )
        cls.architecture = name
        _REGISTRY[name] = cls
        return cls

    return decorator


def list_models() -> list[str]:
    """Names of every registered model, sorted."""
    return sorted(_REGISTRY)


def model_class(name: str) -> type:
    """The class registered as ``name``; ``ModelError`` listing the known names otherwise."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ModelError(
            f"unknown model {name!r}",
            fix=f"use one of: {', '.join(list_models())}",
        ) from None


def create_model(name: str, *, seed: int | None = None, **kwargs) -> torch.nn.Module:
    """Build the registered model ``name`` from its keyword arguments.

    ``kwargs`` are the constructor's: ``in_leads``, ``n_classes``, ``window``
    (required), ``n_rr``, ``variant`` and architecture keywords. With ``seed``
    the weights are initialised from that seed without touching the global
    random state, so the same seed gives the same model.
    """
    cls = model_class(name)
    missing = [key for key in _REQUIRED if key not in kwargs]
    if missing:
        raise ModelError(
            f"create_model({name!r}) is missing {', '.join(missing)}",
            fix="pass in_leads=..., n_classes=... and window=... (samples per beat window)",
        )
    try:
        if seed is None:
            return cls(**kwargs)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            return cls(**kwargs)
    except (TypeError, ValueError) as exc:  # a keyword of the wrong type or value (e.g. from a YAML config)
        raise ModelError(f"cannot build {name!r} from {kwargs!r} ({exc})",
                         fix="check the model keywords against docs/models.md") from exc


def _import_builtin() -> None:
    """Import every module in ``_MODULES`` so their decorators register the models."""
    for module in _MODULES:
        importlib.import_module(f"{__package__}.{module}")


_import_builtin()
