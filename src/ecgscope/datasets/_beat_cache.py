"""On-disk cache of beat datasets: one uncompressed ``.npz`` per (config, records, file stats).

The key is the SHA-256 of the canonical JSON of the beat config, the record
list and each record file's size and modification time, plus a format
version, so editing a config, adding a record or touching a file is a miss.
Files are written atomically (temp file + rename) and read without pickle.
The folder is ``cache_dir``, else ``$ECGSCOPE_CACHE/beats``, else
``platformdirs.user_cache_path("ecgscope") / "beats"``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["CACHE_VERSION", "ENV_CACHE", "cache_dir_path", "cache_key", "cache_file", "load", "save"]

#: Bumped whenever the extraction or the file layout changes.
CACHE_VERSION = 2
#: Environment variable naming the ecgscope cache root.
ENV_CACHE = "ECGSCOPE_CACHE"
_ARRAYS = ("x", "rr", "y", "record_id", "patient_id", "sample", "symbol")


def cache_dir_path(cache_dir=None) -> Path:
    """The beat-cache folder (not created)."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get(ENV_CACHE, "").strip()
    if env:
        return Path(env).expanduser() / "beats"
    import platformdirs

    return platformdirs.user_cache_path("ecgscope") / "beats"


def cache_key(config: dict, records: list) -> str:
    """SHA-256 hex digest of the config, the records and their file stats."""
    text = json.dumps({"version": CACHE_VERSION, "config": config, "records": records}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def cache_file(key: str, cache_dir=None) -> Path:
    """Path of the cache file of ``key``."""
    return cache_dir_path(cache_dir) / f"beats-{key[:32]}.npz"


def load(key: str, cache_dir=None):
    """The cached :class:`~ecgscope.datasets.beats.BeatSet` of ``key``, or ``None`` on a miss or damaged file."""
    from .beats import BeatSet

    path = cache_file(key, cache_dir)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            head = json.loads(str(data["header"]))
            if head.get("key") != key:
                return None
            arrays = {name: data[name] for name in _ARRAYS}
    except (OSError, ValueError, KeyError, EOFError):
        return None
    return BeatSet(**arrays, classes=tuple(head["classes"]), rr_names=tuple(head["rr_names"]), meta=head["meta"])


def save(key: str, beats, cache_dir=None) -> Path | None:
    """Write ``beats`` under ``key``; returns the path (``None`` if the folder is not writable)."""
    path = cache_file(key, cache_dir)
    header = {"key": key, "classes": list(beats.classes), "rr_names": list(beats.rr_names), "meta": beats.meta}
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".beats-", suffix=".npz", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, header=np.array(json.dumps(header)), **{n: getattr(beats, n) for n in _ARRAYS})
        os.replace(tmp, path)
    except OSError:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        return None
    return path
