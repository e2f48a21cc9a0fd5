"""ECG as JSON: the ``ecgscope-json`` schema (see ``docs/formats.md``).

::

    {"format": "ecgscope-json", "version": 1,
     "fs": 360, "units": "mV", "leads": ["MLII", "V1"],
     "layout": "leads_x_samples",            # or "samples_x_leads"; optional
     "signal": [[...], [...]],
     "annotations": {"atr": {"sample": [...], "symbol": [...],
                             "subtype": [...], "chan": [...], "aux": [...]}},
     "metadata": {"record_id": "101", "age": 75, "sex": "F", ...}}

Only ``signal`` is required (``fs`` may come from the ``fs=`` hint). Without
``layout`` the orientation follows ``leads`` (the dimension of that length),
else the smaller dimension is the leads. A bare array ``[[...], ...]`` or a
1-D list is read as a signal too. ``null`` samples are NaN. Optional:
``gain`` (ADC units per unit, scalar or per lead), ``units`` per lead,
``original_leads``.
"""

from __future__ import annotations

import json as _json
from pathlib import Path

import numpy as np

from ..errors import CorruptFileError, FormatError
from ..record import Annotations, Metadata, Record
from ._util import check_lead_names, orient_signal, record_id_from_path, resolve_fs, to_millivolts

__all__ = ["NAME", "EXTENSIONS", "SCHEMA_NAME", "SCHEMA_VERSION", "sniff", "read", "write"]

NAME = "json"
EXTENSIONS = (".json",)
SCHEMA_NAME = "ecgscope-json"
SCHEMA_VERSION = 1

_LAYOUTS = {"leads_x_samples": "leads_first", "samples_x_leads": "samples_first"}


def sniff(path: Path, head: bytes) -> bool:
    """Text starting with ``{`` (an object) or ``[`` followed by a number or ``[``."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{"):
        return True
    if text.startswith(b"["):
        rest = text[1:].lstrip()
        return rest[:1] in (b"[", b"-", b"n") or rest[:1].isdigit()
    return False


def read(path: Path, *, fs: float | None = None, leads: list[str] | None = None, units: str | None = None,
         gain: float | list[float] | None = None, orientation: str | None = None) -> Record:
    """Read an ``ecgscope-json`` document (or a bare JSON array of samples).

    Hints override or complete the document: ``fs``, ``leads``, ``units``,
    ``gain``, ``orientation`` (``"leads_first"``/``"samples_first"``).
    """
    path = Path(path)
    try:
        doc = _json.loads(path.read_bytes())
    except (UnicodeDecodeError, ValueError) as exc:
        raise CorruptFileError(f"is not valid JSON ({exc})", path=path,
                               fix="check that the file was fully written, or re-export it") from None
    except RecursionError:
        raise CorruptFileError("JSON nesting is too deep", path=path) from None
    if isinstance(doc, list):
        doc = {"signal": doc}
    if not isinstance(doc, dict):
        raise FormatError(f"the JSON top level is a {type(doc).__name__}, not an object", path=path,
                          fix=f"use the {SCHEMA_NAME} schema (docs/formats.md)")
    if "signal" not in doc:
        raise FormatError("the JSON object has no 'signal' entry", path=path,
                          fix=f"use the {SCHEMA_NAME} schema: {{'fs': ..., 'leads': [...], 'signal': [[...]]}}")
    fmt = doc.get("format")
    if fmt not in (None, SCHEMA_NAME):
        raise FormatError(f"unknown JSON format {fmt!r}", path=path, fix=f"expected format {SCHEMA_NAME!r}")
    version = doc.get("version", SCHEMA_VERSION)
    if not isinstance(version, (int, float)) or version > SCHEMA_VERSION:
        raise FormatError(f"{SCHEMA_NAME} version {version!r} is newer than this reader ({SCHEMA_VERSION})",
                          path=path, fix="upgrade ecgscope")

    raw = _numeric(doc["signal"], path)
    names = leads if leads is not None else doc.get("original_leads") or doc.get("leads")
    if names is not None and not isinstance(names, list):
        raise FormatError("'leads' must be a list of names", path=path)
    layout = doc.get("layout")
    if orientation is None and layout is not None:
        if layout not in _LAYOUTS:
            raise FormatError(f"layout {layout!r} is not one of {list(_LAYOUTS)}", path=path)
        orientation = _LAYOUTS[layout]
    signal = orient_signal(raw, orientation, len(names) if names else None, path)
    rate = resolve_fs(doc.get("fs"), fs, path, where="the document's 'fs'")
    signal = to_millivolts(signal, units=units if units is not None else doc.get("units"),
                           gain=gain if gain is not None else doc.get("gain"), path=path)
    if names is not None:
        names = check_lead_names(names, signal.shape[0], path)
    canonical = doc.get("leads") if (leads is None and doc.get("original_leads")) else None
    if canonical is not None:
        canonical = check_lead_names(canonical, signal.shape[0], path, source="'leads'")
    meta_doc = doc.get("metadata") or {}
    if not isinstance(meta_doc, dict):
        raise FormatError("'metadata' must be an object", path=path)
    try:
        metadata = Metadata.from_dict(meta_doc)
    except TypeError as exc:
        raise FormatError(f"'metadata' is not valid ({exc})", path=path) from None
    metadata.record_id = metadata.record_id or record_id_from_path(path)
    metadata.patient_id = metadata.patient_id or metadata.record_id
    return Record(signal=signal, fs=rate, leads=canonical or [], original_leads=names or [],
                  annotations=_annotations(doc.get("annotations"), path), metadata=metadata)


def _numeric(values, path: Path) -> np.ndarray:
    """Nested lists -> float64 array; ``null`` -> NaN; ragged or non-numeric -> error."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        try:
            arr = np.asarray(values, dtype=object)
            if arr.dtype == object and arr.ndim in (1, 2):
                arr = np.where(np.equal(arr, None), np.nan, arr).astype(np.float64)
            else:
                raise ValueError
        except (TypeError, ValueError):
            raise CorruptFileError(
                "'signal' is not a rectangular array of numbers (ragged rows or text values)", path=path,
                fix="give every lead the same number of numeric samples (null for missing)",
            ) from None
    if arr.ndim > 2:
        raise CorruptFileError(f"'signal' has shape {arr.shape}; expected (leads, samples)", path=path)
    return arr


def _annotations(table, path: Path) -> dict[str, Annotations]:
    if table is None:
        return {}
    if not isinstance(table, dict):
        raise FormatError("'annotations' must be an object {name: {sample: [...], symbol: [...]}}", path=path)
    out = {}
    for name, cols in table.items():
        if not isinstance(cols, dict) or "sample" not in cols:
            raise FormatError(f"annotations[{name!r}] needs a 'sample' list", path=path)
        try:
            out[str(name)] = Annotations.from_dict(cols, annotator=str(name))
        except (TypeError, ValueError, OverflowError) as exc:
            raise CorruptFileError(f"annotations[{name!r}] is not valid ({exc})", path=path) from None
    return out


def _signal_text(signal: np.ndarray, layout: str) -> str:
    """Rows of ``%.9g`` numbers (float32-exact); NaN/inf -> ``null``."""
    rows = signal if layout == "leads_x_samples" else signal.T
    parts = []
    for row in rows:
        if row.size == 0:
            parts.append("[]")
            continue
        text = ("[" + ",".join(["%.9g"] * row.size) + "]") % tuple(row.tolist())
        if not np.isfinite(row).all():
            text = text.replace("-inf", "null").replace("inf", "null").replace("nan", "null")
        parts.append(text)
    return "[" + ",\n".join(parts) + "]"


def write(record: Record, path: Path, *, layout: str = "leads_x_samples", indent: int | None = None) -> list[Path]:
    """Write the ``ecgscope-json`` schema (version 1); samples in mV with 9 significant digits.

    ``layout="samples_x_leads"`` writes one row per sample instead of one
    row per lead.
    """
    if layout not in _LAYOUTS:
        raise FormatError(f"layout {layout!r} is not one of {list(_LAYOUTS)}", path=path)
    head = {
        "format": SCHEMA_NAME,
        "version": SCHEMA_VERSION,
        "fs": record.fs,
        "units": "mV",
        "leads": list(record.leads),
        "original_leads": list(record.original_leads),
        "layout": layout,
        "annotations": {k: a.to_dict() for k, a in record.annotations.items()},
        "metadata": record.metadata.to_dict(),
    }
    body = _json.dumps(head, indent=indent, ensure_ascii=False, default=_default)
    text = body[:-1].rstrip() + ',\n"signal": ' + _signal_text(record.signal, layout) + "\n}\n"
    Path(path).write_text(text, encoding="utf-8")
    return [Path(path)]


def _default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)
