"""Rhythm-estimator checkpoints: ``model.safetensors`` + ``card.json`` in one folder (no pickle).

The card says everything inference needs: ``estimator`` (registry name) and
``options`` rebuild the estimator, ``network`` the network's keywords;
``classes``, ``fs``, ``window_s``, ``hop_s``, ``bandpass``, ``pooling``, ``q``,
``head``, ``temperature`` (the calibration divisor of the window logits; 1.0
when absent, as in cards written before calibration), ``leads``,
``normalisation``, ``minirocket`` and ``hrv`` describe the preprocessing (the fitted MiniRocket and the feature statistics are buffers of
the network, so the weights file carries them); ``training`` and ``metrics``
say where the model came from::

    est.save("runs/ramba")                      # or save_rhythm_estimator(est, folder, metrics=...)
    est = load_rhythm_estimator("runs/ramba")   # ready for predict_proba / predict_windows
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path

from ...errors import ModelError
from ..checkpoint import CARD_FILE, WEIGHTS_FILE, _atomic_write, _read_weights, _to_json, read_card_json

__all__ = ["RHYTHM_CARD_KEYS", "load_rhythm_estimator", "read_rhythm_card", "save_rhythm_estimator"]

RHYTHM_CARD_KEYS = (
    "kind", "estimator", "options", "network", "classes", "fs", "window_s", "hop_s", "bandpass", "pooling", "q",
    "head", "leads", "normalisation", "minirocket", "hrv", "training", "metrics", "ecgscope_version", "created",
)
_KIND = "rhythm-estimator"


def save_rhythm_estimator(estimator, folder, *, training: dict | None = None, metrics: dict | None = None) -> Path:
    """Write a fitted window rhythm estimator to ``folder``; return the folder.

    ``training`` (data, split, config, timing ...) is merged over the
    estimator's own fit summary; ``metrics`` (e.g. CV results) goes to the card as is.
    """
    from safetensors.torch import save_file

    from ... import __version__

    net = estimator._check_fitted()
    o = estimator.options
    fit = {k: v for k, v in estimator.fit_info_.items() if k != "history"}
    card = {
        "kind": _KIND, "estimator": estimator.estimator_name, "options": o,
        "network": getattr(net, "model_kwargs", {}), "classes": list(estimator.classes_),
        "fs": float(o["fs"]), "window_s": float(o["window_s"]), "hop_s": float(o["hop_s"]),
        "bandpass": o["bandpass"], "pooling": o["pooling"], "q": float(o["q"]), "head": o["head"],
        "temperature": float(estimator.temperature_), "leads": list(estimator.leads_), **estimator.card_extra(),
        "training": {"fit": fit, **(training or {})}, "metrics": metrics or {},
        "ecgscope_version": __version__,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    folder = Path(folder)
    text = _to_json(card, folder / CARD_FILE)
    state = {k: v.detach().cpu().contiguous().clone() for k, v in net.state_dict().items()}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _atomic_write(folder / WEIGHTS_FILE, lambda tmp: save_file(state, str(tmp), metadata={
            "format": "pt", "estimator": estimator.estimator_name}))
        _atomic_write(folder / CARD_FILE, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))
    except OSError as exc:
        raise ModelError(f"cannot write the rhythm checkpoint ({exc.strerror or exc})", path=folder,
                         fix="choose a writable folder with free space") from None
    return folder


def read_rhythm_card(folder) -> dict:
    """The ``card.json`` of a rhythm checkpoint, checked for the required keys."""
    path = Path(folder) / CARD_FILE
    card = read_card_json(folder, resave="re-save the estimator with estimator.save(...)")
    if not isinstance(card, dict) or card.get("kind") != _KIND:
        raise ModelError("card.json is not a rhythm-estimator card", path=path,
                         fix="beat classifiers load with ecgscope.models.load_checkpoint")
    missing = [k for k in RHYTHM_CARD_KEYS if k not in card]
    if missing:
        raise ModelError(f"the rhythm card lacks {', '.join(missing)}", path=path, fix="re-save the estimator")
    return card


def load_rhythm_estimator(folder, map_location: str = "cpu"):
    """The fitted estimator saved in ``folder`` (registry name and options from its card, weights loaded)."""
    from . import create_rhythm_estimator

    folder = Path(os.fspath(folder))
    card = read_rhythm_card(folder)
    estimator = create_rhythm_estimator(card["estimator"], **card["options"])
    net = estimator._rebuild_net(card["network"])
    state = _read_weights(folder / WEIGHTS_FILE, "cpu")
    try:  # fitted-feature buffers (MiniRocket) take their shapes from the file; everything else must match
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelError(f"the weights do not fit estimator {card['estimator']!r} with the card's network "
                         f"keywords ({str(exc).splitlines()[0]})", path=folder / WEIGHTS_FILE,
                         fix="keep model.safetensors and card.json from the same save") from None
    estimator.net_ = net.to(map_location).eval()
    estimator.leads_ = tuple(card["leads"])
    estimator.classes_ = tuple(card["classes"])
    estimator.temperature_ = float(card.get("temperature", 1.0))
    estimator.fit_info_ = dict(card["training"].get("fit", {}))
    estimator.card_ = card
    return estimator
