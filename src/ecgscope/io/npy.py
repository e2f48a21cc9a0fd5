"""NumPy ``.npy`` arrays and ``.npz`` archives.

A ``.npy`` file is a bare array: pass ``fs=`` (and optionally ``leads=``,
``units=``, ``gain=``, ``orientation=``). A ``.npz`` archive may carry
``signal``, ``fs``, ``leads``, ``original_leads``, ``units``, ``metadata`` (a
JSON string) and ``annotations`` (a JSON string ``{name: {sample, symbol,
subtype, chan, aux}}``); the writer stores all of them, so a write/read round
trip is lossless. Nothing is unpickled: object arrays are refused.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from ..errors import CorruptFileError, ECGScopeError, FormatError, SamplingRateError
from ..record import Annotations, Metadata, Record
from ._util import check_lead_names, orient_signal, record_id_from_path, resolve_fs, to_millivolts

__all__ = ["NAME", "EXTENSIONS", "sniff", "read", "write"]

NAME = "npy"
EXTENSIONS = (".npy", ".npz")

_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"


def sniff(path: Path, head: bytes) -> bool:
    """NPY magic, or a ZIP archive holding ``.npy`` members."""
    if head.startswith(_NPY_MAGIC):
        return True
    if head.startswith(_ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except Exception:  # zipfile raises BadZipFile, NotImplementedError, ... on odd archives
            return False
        return bool(names) and all(n.endswith(".npy") for n in names)
    return False


def read(path: Path, *, fs: float | None = None, leads: list[str] | None = None, units: str | None = None,
         gain: float | list[float] | None = None, orientation: str | None = None,
         variable: str | None = None) -> Record:
    """Read a ``.npy`` array (needs ``fs=``) or an ``.npz`` archive.

    Args:
        fs: sampling rate in Hz (required for ``.npy`` and for archives
            without an ``fs`` entry).
        leads: lead names, one per lead.
        units: units of the stored values (default mV).
        gain: ADC units per unit, for raw integer data.
        orientation: ``"leads_first"`` or ``"samples_first"`` (default: the
            smaller dimension is the leads).
        variable: archive member holding the signal (default ``signal``, else
            the largest numeric array).
    """
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(8)
    try:
        if head.startswith(_NPY_MAGIC):
            arrays = {"signal": np.load(path, allow_pickle=False)}
            if fs is None:
                raise SamplingRateError(
                    "a .npy file stores no sampling rate", path=path,
                    fix="pass fs=... (in Hz), e.g. ecgscope.read(path, fs=500), or save an .npz with an 'fs' entry",
                )
        elif head.startswith(_ZIP_MAGIC):
            with np.load(path, allow_pickle=False) as archive:
                arrays = {k: archive[k] for k in archive.files}
        else:
            raise CorruptFileError("is neither a .npy array nor an .npz archive (bad magic bytes)", path=path,
                                   fix="save it with numpy.save / numpy.savez")
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise CorruptFileError("holds Python objects (pickled), which are not loaded for safety", path=path,
                                   fix="save plain numeric arrays (and strings) only") from None
        raise CorruptFileError(f"cannot be read as NumPy data ({exc})", path=path) from None
    except ECGScopeError:
        raise
    except Exception as exc:  # numpy's header parser and zipfile/zlib raise many types on damaged files
        raise CorruptFileError(f"truncated or damaged NumPy file ({type(exc).__name__}: {exc})", path=path) from None
    return _record_from_arrays(arrays, path, fs=fs, leads=leads, units=units, gain=gain,
                               orientation=orientation, variable=variable)


def _pick_signal(arrays: dict, variable: str | None, path: Path) -> tuple[str, np.ndarray]:
    if variable is not None:
        if variable not in arrays:
            raise FormatError(f"no member {variable!r}; the archive has {', '.join(arrays)}", path=path,
                              fix="pass variable=... naming one of them")
        return variable, arrays[variable]
    if "signal" in arrays:
        return "signal", arrays["signal"]
    numeric = {k: v for k, v in arrays.items() if np.issubdtype(v.dtype, np.number) and v.ndim in (1, 2)}
    if not numeric:
        raise FormatError("holds no numeric 1-D or 2-D array", path=path,
                          fix="store the samples under the name 'signal'")
    name = max(numeric, key=lambda k: numeric[k].size)
    return name, numeric[name]


def _text(value) -> str:
    return str(np.asarray(value).reshape(-1)[0]) if np.asarray(value).size else ""


def _record_from_arrays(arrays: dict, path: Path, *, fs, leads, units, gain, orientation, variable) -> Record:
    name, raw = _pick_signal(arrays, variable, path)
    stored_leads = [str(x) for x in arrays["leads"].reshape(-1)] if "leads" in arrays else None
    original = [str(x) for x in arrays["original_leads"].reshape(-1)] if "original_leads" in arrays else None
    names = leads if leads is not None else (original or stored_leads)
    signal = orient_signal(raw, orientation, len(names) if names else None, path)
    stored_fs = float(np.asarray(arrays["fs"]).reshape(-1)[0]) if "fs" in arrays and np.asarray(arrays["fs"]).size else None
    rate = resolve_fs(stored_fs, fs, path, where="the archive's 'fs'")
    if units is None and "units" in arrays:
        stored_units = [str(u) for u in arrays["units"].reshape(-1)]
        units = stored_units[0] if len(stored_units) == 1 else stored_units
    signal = to_millivolts(signal, units=units, gain=gain, path=path)
    metadata = Metadata()
    if "metadata" in arrays:
        try:
            metadata = Metadata.from_dict(json.loads(_text(arrays["metadata"])))
        except (json.JSONDecodeError, TypeError) as exc:
            raise CorruptFileError(f"the 'metadata' entry is not valid JSON ({exc})", path=path) from None
    if metadata.record_id is None:
        metadata.record_id = record_id_from_path(path)
    if metadata.patient_id is None:
        metadata.patient_id = metadata.record_id
    annotations: dict[str, Annotations] = {}
    if "annotations" in arrays:
        try:
            table = json.loads(_text(arrays["annotations"]))
            annotations = {k: Annotations.from_dict(v, annotator=k) for k, v in table.items()}
        except (json.JSONDecodeError, TypeError, AttributeError, ValueError) as exc:
            raise CorruptFileError(f"the 'annotations' entry is not valid ({exc})", path=path) from None
    if names is not None:
        names = check_lead_names(names, signal.shape[0], path)
    canonical = stored_leads if (leads is None and original and stored_leads
                                 and len(stored_leads) == len(original)) else None
    if variable is None and name != "signal":
        metadata.extra.setdefault("npz_member", name)
    return Record(signal=signal, fs=rate, leads=canonical or [], original_leads=names or [],
                  annotations=annotations, metadata=metadata)


def write(record: Record, path: Path, *, compress: bool = False) -> list[Path]:
    """Write ``.npz`` (everything, lossless) or ``.npy`` (the float32 signal only).

    ``compress=True`` uses ``numpy.savez_compressed`` (smaller, slower).
    """
    path = Path(path)
    if path.suffix.lower() == ".npy":
        np.save(path, record.signal)
        return [path]
    if path.suffix.lower() != ".npz":
        path = path.with_name(path.name + ".npz")
    payload = {
        "signal": record.signal,
        "fs": np.float64(record.fs),
        "leads": np.array(record.leads, dtype=str),
        "original_leads": np.array(record.original_leads, dtype=str),
        "units": np.array("mV"),
        "metadata": np.array(json.dumps(record.metadata.to_dict(), default=_json_default)),
        "annotations": np.array(json.dumps({k: a.to_dict() for k, a in record.annotations.items()})),
    }
    with open(path, "wb") as fh:
        (np.savez_compressed if compress else np.savez)(fh, **payload)
    return [path]


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)
