"""Which module reads and writes which format, and how a file's format is found.

A format is one module in :mod:`ecgscope.io` exposing::

    NAME: str                       # "wfdb"
    EXTENSIONS: tuple[str, ...]     # (".hea", ".dat")
    def sniff(path: Path, head: bytes) -> bool        # content check
    def read(path: Path, **hints) -> Record
    def write(record: Record, path: Path, **options) -> list[Path]   # optional

and one line in :data:`FORMATS` below.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from ..errors import MissingFileError, UnknownFormatError

__all__ = ["FORMATS", "format_module", "detect_format", "resolve_path"]

#: Format name -> module (imported lazily, so a missing optional reader
#: does not break the others).
FORMATS: dict[str, str] = {
    "wfdb": "ecgscope.io.wfdb",
    "mat": "ecgscope.io.mat",
    "csv": "ecgscope.io.csv",
    "json": "ecgscope.io.json",
    "edf": "ecgscope.io.edf",
    "npy": "ecgscope.io.npy",
}

_ALIASES = {"tsv": "csv", "txt": "csv", "npz": "npy", "bdf": "edf", "matlab": "mat", "hea": "wfdb"}

HEAD_BYTES = 4096


def format_module(name: str) -> ModuleType:
    """The module implementing format ``name`` (aliases such as ``tsv`` accepted)."""
    key = _ALIASES.get(name.lower().lstrip("."), name.lower().lstrip("."))
    if key not in FORMATS:
        raise UnknownFormatError(f"unknown format {name!r}; known: {', '.join(FORMATS)}")
    return importlib.import_module(FORMATS[key])


def resolve_path(path) -> Path:
    """The file to open: ``path`` itself, or a WFDB record given without extension."""
    p = Path(path).expanduser()
    if p.is_file():
        return p
    hea = p.with_name(p.name + ".hea")
    if hea.is_file():
        return hea
    if p.is_dir():
        raise MissingFileError(
            "is a directory, not a record", path=p,
            fix="give one record file (for WFDB: the record name without extension)",
        )
    raise MissingFileError("no such file or WFDB record", path=p, fix="check the path and spelling")


def detect_format(path: Path) -> str:
    """Format name of an existing file: by content first, then by extension."""
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    suffix = path.suffix.lower()
    # Extension-claimed formats get the first chance; then every sniffer.
    by_ext = [n for n in FORMATS if suffix in _module_extensions(n)]
    for name in by_ext + [n for n in FORMATS if n not in by_ext]:
        module = _try_module(name)
        if module is not None and module.sniff(path, head):
            return name
    if by_ext:
        return by_ext[0]
    raise UnknownFormatError(f"cannot tell the format of this file (extension {suffix or 'none'!r})", path=path)


def _module_extensions(name: str) -> tuple[str, ...]:
    module = _try_module(name)
    return tuple(getattr(module, "EXTENSIONS", ())) if module else ()


def _try_module(name: str) -> ModuleType | None:
    try:
        return format_module(name)
    except ImportError:
        return None
