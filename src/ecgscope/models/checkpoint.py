"""Checkpoints: ``model.safetensors`` + ``card.json`` in one folder (no pickle).

The card describes the model well enough to run inference with no other file
(DESIGN.md): ``architecture`` and ``model_kwargs`` rebuild it through the
registry, ``classes``, ``fs``, ``window``, ``leads``, ``normalisation`` and
``rr_features`` say how to prepare its input, ``training`` and ``metrics``
record where it came from, ``ecgscope_version`` and ``created`` when.

    save_checkpoint(model, card, "runs/incep")   # fills architecture, model_kwargs, version, date
    model, card = load_checkpoint("runs/incep")   # eval mode, on map_location
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import ModelError
from .ensemble import ensemble_hash, is_ensemble

__all__ = [
    "WEIGHTS_FILE", "CARD_FILE", "REQUIRED_CARD_KEYS",
    "save_checkpoint", "load_checkpoint", "read_card", "read_card_json", "validate_card", "card_hash",
    "card_temperature", "card_records",
]

WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "card.json"
REQUIRED_CARD_KEYS = (
    "architecture", "model_kwargs", "classes", "fs", "window", "leads", "normalisation",
    "rr_features", "training", "metrics", "ecgscope_version", "created",
)
_WINDOW_KEYS = ("before_s", "after_s", "samples")


# -- card ----------------------------------------------------------------------------------
def _json_default(value: Any) -> Any:
    """JSON for numpy scalars/arrays, tensors, paths and tuples inside a card."""
    if hasattr(value, "tolist"):  # numpy scalar/array, torch tensor
        return value.tolist()
    if isinstance(value, (Path, os.PathLike)):
        return os.fspath(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _to_json(card: dict, path: Path | None = None) -> str:
    try:
        return json.dumps(card, indent=2, sort_keys=True, default=_json_default)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"the model card cannot be written as JSON ({exc})", path=path,
                         fix="keep card values to numbers, strings, lists and dicts") from None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_str_list(value: Any, allow_empty: bool) -> bool:
    return (isinstance(value, list) and (allow_empty or len(value) > 0)
            and all(isinstance(v, str) and v for v in value))


def validate_card(card: Any, *, path: str | os.PathLike | None = None) -> dict:
    """Check a card's required keys, their types and their agreement with ``model_kwargs``.

    Returns the card; raises ``ModelError`` naming every problem found.
    """
    if not isinstance(card, dict):
        raise ModelError(f"the model card is a {type(card).__name__}, not a JSON object", path=path,
                         fix="re-save the checkpoint with save_checkpoint")
    missing = [key for key in REQUIRED_CARD_KEYS if key not in card]
    if missing:
        raise ModelError(f"the model card lacks {', '.join(missing)}", path=path,
                         fix=f"a card needs every one of: {', '.join(REQUIRED_CARD_KEYS)}")
    problems = []
    if not isinstance(card["architecture"], str) or not card["architecture"]:
        problems.append("architecture must be a model name")
    kwargs = card["model_kwargs"]
    if not isinstance(kwargs, dict):
        problems.append("model_kwargs must be an object")
        kwargs = {}
    classes = card["classes"]
    if not _is_str_list(classes, allow_empty=False) or len(set(classes)) != len(classes):
        problems.append("classes must be a non-empty list of distinct names")
    if not _is_number(card["fs"]) or not card["fs"] > 0:
        problems.append(f"fs={card['fs']!r} must be a positive sampling rate in Hz")
    window = card["window"]
    if not isinstance(window, dict) or any(k not in window for k in _WINDOW_KEYS):
        problems.append(f"window must be an object with {', '.join(_WINDOW_KEYS)}")
    elif not (_is_number(window["before_s"]) and _is_number(window["after_s"])
              and isinstance(window["samples"], int) and window["samples"] > 0):
        problems.append("window before_s/after_s must be numbers (seconds) and samples a positive integer")
    if not _is_str_list(card["leads"], allow_empty=False):
        problems.append("leads must be a non-empty list of lead names")
    if not _is_str_list(card["rr_features"], allow_empty=True):
        problems.append("rr_features must be a list of feature names (empty for none)")
    for key in ("normalisation", "training", "metrics"):
        if not isinstance(card[key], dict):
            problems.append(f"{key} must be an object")
    for key in ("ecgscope_version", "created"):
        if not isinstance(card[key], str):
            problems.append(f"{key} must be a string")
    calibration = card.get("calibration", {})
    if not isinstance(calibration, dict) or not (_is_number(calibration.get("temperature", 1.0))
                                                 and calibration.get("temperature", 1.0) > 0):
        problems.append("calibration must be an object whose temperature is a positive number")
    if not problems:  # the card must agree with the constructor arguments that rebuild the model
        pairs = [("n_classes", len(classes), "classes"), ("in_leads", len(card["leads"]), "leads"),
                 ("n_rr", len(card["rr_features"]), "rr_features"),
                 ("window", window["samples"], "window.samples")]
        for key, expected, source in pairs:
            if key in kwargs and kwargs[key] != expected:
                problems.append(f"model_kwargs.{key}={kwargs[key]!r} disagrees with {source} ({expected})")
    if problems:
        raise ModelError("invalid model card: " + "; ".join(problems), path=path,
                         fix="correct the card (see docs/models.md, 'Model card')")
    return card


def _unwrap(model: nn.Module) -> nn.Module:
    """The model inside ``torch.compile`` (``_orig_mod``) or DDP/DataParallel (``module``) wrappers."""
    while True:
        if getattr(model, "_orig_mod", None) is not None:
            model = model._orig_mod
        elif isinstance(model, (nn.DataParallel, nn.parallel.DistributedDataParallel)):
            model = model.module
        else:
            return model


def _complete_card(model: nn.Module, card: dict) -> dict:
    """The card with ``architecture``, ``model_kwargs``, ``window.samples``, version and date filled in."""
    from .. import __version__

    architecture = getattr(model, "architecture", "")
    kwargs = getattr(model, "model_kwargs", None)
    if not architecture or not isinstance(kwargs, dict):
        raise ModelError(f"{type(model).__name__} is not a registered ecgscope model",
                         fix="build it with ecgscope.models.create_model")
    kwargs = json.loads(_to_json(kwargs))  # tuples -> lists, as the card will hold them
    if not isinstance(card, dict):
        raise ModelError(f"card is a {type(card).__name__}, not a dict", fix="pass the model card as a dict")
    card = dict(card)
    for key, value in (("architecture", architecture), ("model_kwargs", kwargs)):
        if key in card and json.loads(_to_json(card[key])) != value:
            raise ModelError(f"card {key}={card[key]!r} disagrees with the model ({value!r})",
                             fix=f"leave {key} out of the card; save_checkpoint fills it in")
        card[key] = value
    if isinstance(card.get("window"), dict) and "samples" not in card["window"]:
        card["window"] = {**card["window"], "samples": kwargs["window"]}
    card.setdefault("training", {})
    card.setdefault("metrics", {})
    card.setdefault("ecgscope_version", __version__)
    card.setdefault("created", _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    return card


def read_card_json(directory: str | os.PathLike, *, resave: str = "re-save the checkpoint with save_checkpoint"):
    """The parsed ``card.json`` of a checkpoint folder, unvalidated (``resave`` completes the fix hints)."""
    path = Path(directory) / CARD_FILE
    if not Path(directory).is_dir():
        raise ModelError("checkpoint folder not found", path=directory,
                         fix="pass the folder that holds model.safetensors and card.json")
    if not path.is_file():
        raise ModelError("the checkpoint has no card.json", path=directory,
                         fix=f"{resave}, or copy its card.json")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"card.json is not valid JSON ({exc})", path=path,
                         fix=f"{resave}, or re-download it") from None


def read_card(directory: str | os.PathLike) -> dict:
    """The validated ``card.json`` of a checkpoint folder (no weights loaded)."""
    card = read_card_json(directory)
    if is_ensemble(card):
        raise ModelError("the folder is an ensemble of checkpoints, not one checkpoint", path=directory,
                         fix="load it with ecgscope.analysis.classify.load_beat_classifier, or pass one "
                             "of its member folders")
    return validate_card(card, path=Path(directory) / CARD_FILE)


# -- save / load ----------------------------------------------------------------------------
def _atomic_write(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save_checkpoint(model: nn.Module, card: dict, directory: str | os.PathLike) -> Path:
    """Write ``directory/model.safetensors`` and ``directory/card.json``; return the folder.

    ``card`` holds at least ``classes``, ``fs``, ``window`` (``before_s``,
    ``after_s``; ``samples`` is filled from the model), ``leads``,
    ``normalisation`` and ``rr_features``; ``architecture``, ``model_kwargs``,
    ``ecgscope_version`` and ``created`` are filled in (``training`` and
    ``metrics`` default to ``{}``). The card is validated before anything is
    written; both files are replaced atomically.
    """
    from safetensors.torch import save_file

    model = _unwrap(model)
    directory = Path(directory)
    text = _to_json(_complete_card(model, card), directory / CARD_FILE)
    card = validate_card(json.loads(text), path=directory / CARD_FILE)  # as load_checkpoint will see it
    # Cloned, contiguous CPU tensors: safetensors refuses shared storage (tied weights).
    state = {key: value.detach().to("cpu").contiguous().clone() for key, value in model.state_dict().items()}
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _atomic_write(directory / WEIGHTS_FILE,
                      lambda tmp: save_file(state, str(tmp), metadata={"format": "pt",
                                                                       "architecture": card["architecture"]}))
        _atomic_write(directory / CARD_FILE, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))
    except OSError as exc:
        raise ModelError(f"cannot write the checkpoint ({exc.strerror or exc})", path=directory,
                         fix="choose a writable folder with free space") from None
    return directory


def _read_weights(path: Path, device: str) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    if not path.is_file():
        raise ModelError("the checkpoint has no model.safetensors", path=path.parent,
                         fix="re-save the checkpoint with save_checkpoint, or copy its weights file")
    try:
        return load_file(str(path), device=device)
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise ModelError(f"model.safetensors is damaged or not a safetensors file ({exc})", path=path,
                         fix="re-save or re-download the checkpoint") from None


def _check_state(model: nn.Module, state: dict[str, torch.Tensor], path: Path, architecture: str) -> None:
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    shapes = [f"{k} {tuple(state[k].shape)} != {tuple(expected[k].shape)}"
              for k in sorted(set(state) & set(expected)) if state[k].shape != expected[k].shape]
    if missing or unexpected or shapes:
        details = []
        for label, items in (("missing", missing), ("unexpected", unexpected), ("shape", shapes)):
            if items:
                details.append(f"{label}: {', '.join(items[:3])}{' ...' if len(items) > 3 else ''}")
        raise ModelError(f"the weights do not match architecture {architecture!r} with the card's "
                         f"model_kwargs ({'; '.join(details)})", path=path,
                         fix="keep model.safetensors and card.json from the same save_checkpoint call")


def load_checkpoint(directory: str | os.PathLike, map_location: str | torch.device = "cpu"
                    ) -> tuple[nn.Module, dict]:
    """Rebuild the model from ``card.json`` through the registry, load its weights; return ``(model, card)``.

    The model is in eval mode on ``map_location``. A missing or damaged file,
    an unknown architecture or weights that do not fit raise ``ModelError``.
    """
    from .registry import create_model

    directory = Path(directory)
    card = read_card(directory)
    try:
        model = create_model(card["architecture"], **card["model_kwargs"])
    except ModelError as exc:
        raise ModelError(f"cannot rebuild the model: {exc.problem}", path=directory / CARD_FILE,
                         fix=exc.fix or "check architecture and model_kwargs in card.json") from None
    weights = directory / WEIGHTS_FILE
    state = _read_weights(weights, "cpu")
    _check_state(model, state, weights, card["architecture"])
    model.load_state_dict(state, strict=True)
    return model.to(map_location).eval(), card


def card_records(card: dict) -> list[str]:
    """The training records a card names (``training.data.records``; empty when it names none)."""
    data = card.get("training", {}).get("data", {})
    return [str(r) for r in data.get("records", [])] if isinstance(data, dict) else []


def card_temperature(card: dict) -> float:
    """The temperature that divides the model's logits (the card's ``calibration``; 1.0 when absent)."""
    return float((card.get("calibration") or {}).get("temperature", 1.0))


def card_hash(directory: str | os.PathLike, card: dict | None = None) -> str:
    """SHA-256 (hex) of the weights file bytes and the card's canonical JSON, for provenance.

    Re-indenting ``card.json`` keeps the hash; changing any weight or card value changes it. An
    ensemble folder (:mod:`ecgscope.models.ensemble`) hashes its card and its members' hashes.
    ``card`` is the folder's already-read card (any checkpoint kind, e.g. a rhythm
    estimator's); by default the beat-model card is read and validated.
    """
    directory = Path(directory)
    if card is None:
        card = read_card_json(directory)
        if is_ensemble(card):
            return ensemble_hash(directory)
        card = validate_card(card, path=directory / CARD_FILE)
    weights = directory / WEIGHTS_FILE
    if not weights.is_file():
        raise ModelError("the checkpoint has no model.safetensors", path=directory,
                         fix="re-save the checkpoint with save_checkpoint")
    digest = hashlib.sha256()
    digest.update(b"ecgscope-checkpoint\0weights\0")
    with weights.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    digest.update(b"\0card\0")
    digest.update(json.dumps(card, sort_keys=True, separators=(",", ":")).encode("utf-8"))
    return digest.hexdigest()
