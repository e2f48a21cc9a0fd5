"""Ensemble checkpoints: beat-classifier checkpoints trained apart, run as one model.

An ensemble folder holds its members as sub-folders, each an ordinary
checkpoint (``model.safetensors`` + ``card.json``, plus its run files), and a
``card.json`` of kind ``beat-ensemble``::

    {"kind": "beat-ensemble", "classes": ["N", "S", "V", "F"], "leads": ["II"],
     "members": [{"path": "transnet", "weight": 1.0}, {"path": "features", "weight": 1.0}],
     "premature_rule": {...}, "shape_rule": {...}, "training": {...}, "metrics": {...}, "ecgscope_version": ...,
     "created": ...}

Every member keeps its own input (window, rate, features), standardisation,
calibration and early stopping; inference cuts each member's beats from the
same R peaks and averages the members' class probabilities with the weights
(a deep ensemble, Lakshminarayanan et al., NeurIPS 2017). The premature-beat
rule and the dominant-shape rule (:mod:`ecgscope.training.shape_rule`), if any, are the ensemble card's and act
once, in that order, on the averaged labels.

    save_ensemble({"transnet": "runs/tn", "features": "runs/fm"}, "runs/ens")
    card = read_ensemble_card("runs/ens")
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Mapping

from ..errors import ModelError

__all__ = ["ENSEMBLE_KIND", "is_ensemble", "read_ensemble_card", "member_folders", "record_leads",
           "save_ensemble", "ensemble_hash"]

#: ``kind`` of an ensemble's card.
ENSEMBLE_KIND = "beat-ensemble"
_FIX = "write the folder with `ecgscope train <ensemble config>` or ecgscope.models.ensemble.save_ensemble"


def is_ensemble(card: Mapping) -> bool:
    """Whether a parsed ``card.json`` is an ensemble's."""
    return isinstance(card, Mapping) and card.get("kind") == ENSEMBLE_KIND


def _weight(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ModelError(f"{where}: weight {value!r} must be a positive number", fix="use e.g. weight: 1.0")
    return float(value)


def member_folders(directory: str | os.PathLike, card: Mapping) -> list[tuple[Path, float]]:
    """``(folder, weight)`` of each member of the ensemble at ``directory`` (checked to exist)."""
    directory = Path(directory)
    members = card.get("members")
    if not isinstance(members, list) or not members:
        raise ModelError("the ensemble card lists no members", path=directory / "card.json", fix=_FIX)
    out = []
    for i, entry in enumerate(members):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("path"), str):
            raise ModelError(f"member {i} of the ensemble card has no path", path=directory / "card.json", fix=_FIX)
        folder = (directory / entry["path"]).resolve()
        if directory.resolve() not in folder.parents:
            raise ModelError(f"member path {entry['path']!r} leaves the ensemble folder",
                             path=directory / "card.json", fix="keep members in sub-folders of the ensemble")
        if not (folder / "card.json").is_file():
            raise ModelError(f"member {entry['path']!r} is not a checkpoint folder (no card.json)", path=folder,
                             fix="copy the whole ensemble folder, members included")
        out.append((folder, _weight(entry.get("weight", 1.0), f"member {entry['path']!r}")))
    return out


def read_ensemble_card(directory: str | os.PathLike) -> dict:
    """The validated card of an ensemble folder: members present, with its classes and leads, trained on no
    record the card does not list."""
    from .checkpoint import card_records, read_card, read_card_json

    directory = Path(directory)
    card = read_card_json(directory, resave=_FIX)
    if not is_ensemble(card):
        raise ModelError(f"the card's kind is {card.get('kind')!r}, not {ENSEMBLE_KIND!r}",
                         path=directory / "card.json", fix=_FIX)
    for key in ("classes", "leads"):
        if not isinstance(card.get(key), list) or not card[key]:
            raise ModelError(f"the ensemble card lacks {key}", path=directory / "card.json", fix=_FIX)
    listed = set(card_records(card))
    for folder, _ in member_folders(directory, card):
        member = read_card(folder)
        for key, value in (("classes", member["classes"]), ("leads", record_leads(member))):
            if list(value) != list(card[key]):
                raise ModelError(f"member {folder.name} has {key} {value}, the ensemble {card[key]}",
                                 path=folder, fix="ensemble members must share classes and record leads")
        unlisted = sorted(set(card_records(member)) - listed)
        if unlisted:  # the protocols' leak checks read the ensemble card's records
            raise ModelError(f"member {folder.name} was trained on records {unlisted} that the ensemble card "
                             "does not list", path=folder, fix=_FIX)
    return card


def ensemble_hash(directory: str | os.PathLike, card: Mapping | None = None) -> str:
    """SHA-256 (hex) of the ensemble card's canonical JSON and every member's :func:`card_hash`."""
    from .checkpoint import card_hash

    directory = Path(directory)
    card = read_ensemble_card(directory) if card is None else card
    digest = hashlib.sha256(b"ecgscope-ensemble\0card\0")
    digest.update(json.dumps(card, sort_keys=True, separators=(",", ":")).encode("utf-8"))
    for folder, _ in member_folders(directory, card):
        digest.update(b"\0member\0" + card_hash(folder).encode("ascii"))
    return digest.hexdigest()


def record_leads(card: Mapping) -> list[str]:
    """The record leads a checkpoint reads (its beat dataset's; the card's ``leads`` name input channels)."""
    data = card.get("training", {}).get("beat_dataset", {})
    leads = data.get("leads") if isinstance(data, Mapping) else None
    return [str(x) for x in (leads or card["leads"])]


def save_ensemble(members: Mapping[str, str | os.PathLike], directory: str | os.PathLike, *,
                  weights: Mapping[str, float] | None = None, premature_rule: str | None = "first",
                  shape_rule: Mapping | None = None, metrics: Mapping | None = None,
                  training: Mapping | None = None) -> Path:
    """Write an ensemble folder: each member checkpoint copied to ``directory/<name>``, then the card.

    Args:
        members: name -> checkpoint folder (a folder already at ``directory/<name>`` is kept as is).
        weights: name -> positive weight (default 1 each: the plain mean of probabilities).
        premature_rule: ``"first"`` takes the first member's rule that has one
            (members trained on the same records fit the same rule), ``None`` none.
        shape_rule: the card entry of a :class:`~ecgscope.training.shape_rule.ShapeRule` (``to_card()``), or None.
        metrics: the card's ``metrics`` (e.g. ``{"cv": ...}``).
        training: extra ``training`` entries (e.g. the ensemble's config).
    """
    from .. import __version__
    from .checkpoint import _atomic_write, _to_json, card_records, read_card

    directory = Path(directory)
    if not members:
        raise ModelError("an ensemble needs at least one member", fix="pass name -> checkpoint folder")
    weights = dict(weights or {})
    unknown = sorted(set(weights) - set(members))
    if unknown:
        raise ModelError(f"weights name no member: {unknown}", fix=f"use member names {sorted(members)}")
    cards, entries = [], []
    for name, source in members.items():
        if not name or "/" in name or os.sep in name or name.startswith("."):
            raise ModelError(f"member name {name!r} must be a plain folder name", fix="e.g. transnet")
        source, target = Path(source), directory / name
        card = read_card(source)  # a valid checkpoint, before anything is copied
        if source.resolve() != target.resolve():
            if target.exists():
                raise ModelError(f"{target} already exists", path=target, fix="choose an empty output folder")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("folds", "tensorboard", "*.tmp"))
        cards.append(card)
        entries.append({"path": name, "weight": _weight(weights.get(name, 1.0), f"member {name!r}"),
                        "architecture": card["architecture"]})
    for key, get in (("classes", lambda c: c["classes"]), ("leads", record_leads)):
        values = {json.dumps(get(c)) for c in cards}
        if len(values) > 1:
            raise ModelError(f"the members disagree on {key}: {sorted(values)}",
                             fix="ensemble members must share classes and record leads")
    rule = None
    if premature_rule == "first":
        rule = next((c["premature_rule"] for c in cards if c.get("premature_rule")), None)
    elif premature_rule is not None:
        raise ModelError(f"premature_rule={premature_rule!r}", fix="use 'first' or None")
    card = {"kind": ENSEMBLE_KIND, "classes": cards[0]["classes"], "leads": record_leads(cards[0]),
            "members": entries, "premature_rule": rule, "shape_rule": dict(shape_rule) if shape_rule else None,
            "training": {"data": {"records": list(dict.fromkeys(r for c in cards for r in card_records(c)))}, **dict(training or {})},
            "metrics": dict(metrics or {}), "ecgscope_version": __version__,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    text = _to_json(card, directory / "card.json")
    _atomic_write(directory / "card.json", lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))
    read_ensemble_card(directory)
    return directory
