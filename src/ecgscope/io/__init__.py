"""Formats: ``read(path)`` and ``write(record, path)`` for every supported format.

Supported: WFDB (any wfdb signal format, annotations by extension, challenge
``.mat`` + ``.hea``), MATLAB v4/v5/v7.3, CSV/TSV, JSON, EDF/EDF+/BDF, NPY/NPZ.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import CorruptFileError, ECGScopeError, FormatError
from ..record import Record
from .registry import FORMATS, detect_format, format_module, resolve_path
from .validate import finalize

__all__ = ["read", "write", "detect_format", "FORMATS"]


def read(path, format: str | None = None, *, nonfinite: str = "raise", check_units: bool = True, **hints) -> Record:
    """Read any supported ECG file into a :class:`~ecgscope.record.Record` in mV.

    Args:
        path: the file, or a WFDB record name without extension.
        format: force a format (``"wfdb"``, ``"mat"``, ``"csv"``, ``"json"``,
            ``"edf"``, ``"npy"``); sniffed from content and extension if omitted.
        nonfinite: NaN/inf samples: ``"raise"`` (default), ``"keep"`` or
            ``"interpolate"``.
        check_units: raise :class:`~ecgscope.errors.UnitsError` when the
            amplitudes cannot be millivolts.
        **hints: what the file may not say: ``fs``, ``leads``, ``units``,
            ``gain``, ``orientation``, ``annotators``, ... (see
            ``docs/formats.md``); hints given as ``None`` are ignored.

    Raises:
        ECGScopeError: with a message naming the file, the problem and the fix.
    """
    p = resolve_path(path)
    name = format or detect_format(p)
    module = format_module(name)
    hints = {k: v for k, v in hints.items() if v is not None}
    try:
        record = module.read(p, **hints)
    except ECGScopeError:
        raise
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            raise FormatError(str(exc), path=p, fix=f"see help(ecgscope.io.{module.NAME}.read) for its options") from None
        raise CorruptFileError(f"cannot be read as {name}: {exc}", path=p) from exc
    except (OSError, ValueError, KeyError, IndexError, EOFError, AttributeError, MemoryError,
            OverflowError, UnicodeError, ZeroDivisionError, RuntimeError, AssertionError) as exc:
        raise CorruptFileError(f"cannot be read as {name} ({type(exc).__name__}: {exc})", path=p) from exc
    if not record.metadata.source:
        record.metadata.source = str(p)
    return finalize(record, nonfinite=nonfinite, check_units=check_units, path=p)


def write(record: Record, path, format: str | None = None, **options) -> list[Path]:
    """Write ``record`` to ``path``; the format comes from ``format`` or the extension.

    Returns the files written (WFDB writes a header, a signal file and one
    file per annotator).
    """
    p = Path(path).expanduser()
    name = format or _format_from_extension(p)
    module = format_module(name)
    if not hasattr(module, "write"):
        raise FormatError(f"writing {name} is not supported", path=p, fix="write wfdb, csv, json, npz or edf")
    p.parent.mkdir(parents=True, exist_ok=True)
    return module.write(record, p, **options)


def _format_from_extension(p: Path) -> str:
    suffix = p.suffix.lower()
    for name in FORMATS:
        try:
            if suffix in format_module(name).EXTENSIONS:
                return name
        except ImportError:
            continue
    if suffix == "":
        return "wfdb"
    raise FormatError(f"cannot tell the format from the extension {suffix!r}", path=p,
                      fix="use .hea/.dat, .csv, .tsv, .json, .npz, .npy or .edf, "
                          "or pass format='csv' (or another format name)")
