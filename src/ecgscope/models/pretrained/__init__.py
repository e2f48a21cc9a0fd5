"""Checkpoints shipped with ecgscope, and how model names resolve to checkpoint folders.

Each sub-folder here is a checkpoint written by ``ecgscope train`` (weights in
``model.safetensors``, the model card in ``card.json``, plus the run's
``config.yaml``, ``split.json``, ``version.json``, ``metrics.json`` and
``log.csv``), or an ensemble of such folders (:mod:`ecgscope.models.ensemble`).
``"default"`` names ``beats-default``: the AAMI beat classifier trained on all
of MIT-BIH DS1, an ensemble of a TransNet and a feature MLP (see
``docs/beat_classification.md``). Rhythm checkpoints (``docs/rhythm.md``):
``rhythm-default`` (alias ``"rhythm"``, gradient-boosted trees on window
rhythm summaries) and ``rhythm-ramba`` (ECG-RAMBA), both trained on the shared CinC 2017 records.
"""

from __future__ import annotations

import os
from pathlib import Path

from ...errors import ModelError

__all__ = ["PRETRAINED_DIR", "ALIASES", "default_beat_model_dir", "list_pretrained", "resolve_model"]

#: Folder holding the shipped checkpoints.
PRETRAINED_DIR = Path(__file__).resolve().parent
#: Short names for shipped checkpoints.
ALIASES = {"default": "beats-default", "beats": "beats-default", "rhythm": "rhythm-default"}
_CARD = "card.json"


def default_beat_model_dir() -> Path:
    """Folder of the shipped default beat classifier (``beats-default``)."""
    return PRETRAINED_DIR / ALIASES["default"]


def list_pretrained() -> list[str]:
    """Names of the shipped checkpoints (sub-folders holding a ``card.json``)."""
    return sorted(p.name for p in PRETRAINED_DIR.iterdir() if (p / _CARD).is_file())


def resolve_model(name_or_path: str | os.PathLike = "default") -> Path:
    """The checkpoint folder of a shipped model name (``"default"``, ``"beats-default"``) or a path.

    A path may be the checkpoint folder or its ``card.json``. Raises
    :class:`~ecgscope.errors.ModelError` naming the shipped models when
    nothing matches.
    """
    text = os.fspath(name_or_path)
    path = Path(text).expanduser()
    if path.name == _CARD and path.is_file():
        path = path.parent
    if path.is_dir() and (path / _CARD).is_file():
        return path.resolve()
    name = ALIASES.get(text, text)
    shipped = PRETRAINED_DIR / name
    if os.sep not in name and "/" not in name and (shipped / _CARD).is_file():
        return shipped
    if path.is_dir():
        raise ModelError("the folder holds no card.json, so it is not an ecgscope checkpoint", path=path,
                         fix="pass the folder written by `ecgscope train` (model.safetensors + card.json)")
    known = ", ".join(["default", *list_pretrained()])
    raise ModelError(f"no model {text!r}: neither a checkpoint folder nor a shipped model",
                     fix=f"pass a checkpoint folder or one of: {known}")
