"""Where local copies live and which records a local copy holds.

The data root comes from, in order: the ``root`` argument (``--root`` on the
command line), the ``ECGSCOPE_DATA`` environment variable, then the user
cache folder (``platformdirs.user_cache_path("ecgscope") / "datasets"``).
Database ``name`` lives in ``<root>/<name>`` with PhysioNet's own layout
(``mitdb/101.hea``, ``ludb/data/1.hea``, ``cinc2017/training/A00/A00001.hea``);
flat copies such as ``cinc2017/A00001.hea`` work too.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import DatasetError
from .registry import Database, get_database

__all__ = [
    "ENV_DATA",
    "data_root",
    "database_dir",
    "parse_records_file",
    "local_records",
    "select_records",
    "natural_key",
]

#: Environment variable naming the data root.
ENV_DATA = "ECGSCOPE_DATA"


def data_root(root=None) -> Path:
    """The data root: ``root``, else ``$ECGSCOPE_DATA``, else the user cache folder."""
    if root is not None and str(root) != "":
        return Path(root).expanduser()
    env = os.environ.get(ENV_DATA, "").strip()
    if env:
        return Path(env).expanduser()
    import platformdirs

    return platformdirs.user_cache_path("ecgscope") / "datasets"


def database_dir(name: str, root=None) -> Path:
    """``<root>/<name>`` for registry database ``name`` (not checked for existence)."""
    return data_root(root) / get_database(name).name


_NUM = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple:
    """Sort key putting ``data/2`` before ``data/10``."""
    return tuple(int(p) if p.isdigit() else p for p in _NUM.split(str(text)))


def parse_records_file(path: Path, _depth: int = 0) -> list[str]:
    """Record paths listed in a WFDB ``RECORDS`` file, relative to its folder.

    Entries ending in ``/`` name sub-folders with their own RECORDS file
    (PhysioNet's multi-level layout); they are expanded when present.
    """
    out: list[str] = []
    folder = path.parent
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        if entry.endswith("/"):
            sub = folder / entry / "RECORDS"
            if sub.is_file() and _depth < 8:
                out.extend(entry + r for r in parse_records_file(sub, _depth + 1))
            continue
        out.append(entry)
    return out


def local_records(db: Database | str, directory: Path) -> list[str]:
    """Record paths (relative to ``directory``, no extension) of a local copy.

    Uses ``<records_dir>/RECORDS``, then ``RECORDS``, then every ``*.hea``
    found below ``directory``; the registry's ``record_filter`` applies.
    Only records whose header exists are returned.
    """
    db = get_database(db) if isinstance(db, str) else db
    directory = Path(directory)
    candidates: list[str] | None = None
    for rel in dict.fromkeys((db.records_file, "RECORDS")):
        rec_file = directory / rel
        if rec_file.is_file():
            prefix = str(Path(rel).parent.as_posix())
            prefix = "" if prefix == "." else prefix + "/"
            candidates = [prefix + r for r in parse_records_file(rec_file)] or None
            break
    if candidates is None:  # no RECORDS file, or one whose sub-folder lists are missing
        candidates = sorted(
            (p.relative_to(directory).with_suffix("").as_posix() for p in directory.rglob("*.hea")),
            key=natural_key,
        )
    if db.record_filter:
        pattern = re.compile(db.record_filter)
        candidates = [r for r in candidates if pattern.search(r)]
    return [r for r in candidates if (directory / (r + ".hea")).is_file()]


def select_records(available: list[str], wanted, *, what: str = "records", path=None) -> list[str]:
    """The entries of ``available`` named in ``wanted`` (by full path or base name), in ``wanted`` order.

    ``wanted=None`` returns ``available``. Unknown names raise :class:`DatasetError`.
    """
    if wanted is None:
        return list(available)
    if isinstance(wanted, (str, int)):
        wanted = [wanted]
    by_name: dict[str, str] = {}
    for r in available:
        by_name.setdefault(r, r)
        by_name.setdefault(r.rsplit("/", 1)[-1], r)
    out, missing = [], []
    for w in wanted:
        key = str(w).strip().replace("\\", "/")
        if key.endswith(".hea"):
            key = key[:-4]
        if key in by_name:
            out.append(by_name[key])
        else:
            missing.append(str(w))
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise DatasetError(
            f"{len(missing)} of the requested {what} are not available: {shown}",
            path=path,
            fix="check the record names (see the RECORDS file) or download them first",
        )
    return list(dict.fromkeys(out))
