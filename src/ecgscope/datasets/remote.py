"""Resumable, verified downloads of PhysioNet databases.

Files come from ``<base>/<slug>/<version>/`` where ``<base>`` is
``https://physionet.org/files`` unless given (argument or the
``ECGSCOPE_PHYSIONET_URL`` environment variable; tests point it at a local
server). The published ``SHA256SUMS.txt`` says which files exist and what
they must hash to; without one, each record's header is fetched to learn its
signal files. Every file is streamed into ``<file>.part`` (resuming with an
HTTP ``Range`` request when a ``.part`` is already there), checked against its
SHA-256, then renamed into place. Files already present and verified are
skipped, so an interrupted download is finished by running it again.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable

from .. import __version__
from ..errors import ChecksumError, DatasetError, DownloadError
from .paths import data_root, natural_key, select_records
from .registry import Database, get_database

__all__ = [
    "PHYSIONET_URL",
    "ENV_URL",
    "SUMS_FILE",
    "MANIFEST_FILE",
    "physionet_url",
    "parse_sha256sums",
    "sha256_file",
    "fetch_file",
    "DownloadItem",
    "DownloadPlan",
    "DownloadReport",
    "plan_download",
    "run_download",
    "download",
]

PHYSIONET_URL = "https://physionet.org/files"
ENV_URL = "ECGSCOPE_PHYSIONET_URL"
SUMS_FILE = "SHA256SUMS.txt"
#: Written into the database folder: the files a download asked for, with hashes.
MANIFEST_FILE = ".ecgscope-download.json"
_CHUNK = 1 << 16
_URL_FIX = f"check the database name/version and the base URL ({ENV_URL} or --base-url)"


def physionet_url(base_url: str | None = None) -> str:
    """The files URL: ``base_url``, else ``$ECGSCOPE_PHYSIONET_URL``, else PhysioNet's."""
    url = base_url or os.environ.get(ENV_URL, "").strip() or PHYSIONET_URL
    return url.rstrip("/")


def parse_sha256sums(text: str, source=None) -> dict[str, str]:
    """``{relative path: sha256 hex}`` from ``sha256sum``-style lines (``HASH  path``)."""
    out: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(maxsplit=1)
        digest = parts[0].lower()
        if len(parts) != 2 or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise DatasetError(
                f"line {n} of {SUMS_FILE} is not '<sha256> <path>': {line[:80]!r}",
                path=source, fix="delete the file and download again",
            )
        rel = parts[1].strip()
        rel = rel[1:] if rel.startswith("*") else rel
        rel = rel[2:] if rel.startswith("./") else rel
        out[_safe_rel(rel, source)] = digest
    return out


def _safe_rel(rel: str, source=None) -> str:
    """A relative POSIX path that cannot escape the download folder."""
    p = PurePosixPath(rel.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise DatasetError(f"refusing unsafe file path {rel!r}", path=source,
                           fix="check the server's SHA256SUMS.txt / RECORDS")
    return p.as_posix()


def sha256_file(path) -> str:
    """SHA-256 hex digest of a file (streamed)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _session():
    import requests

    s = requests.Session()
    s.headers["User-Agent"] = f"ecgscope/{__version__} (+https://physionet.org)"
    s.headers["Accept-Encoding"] = "identity"  # byte ranges must address the file itself
    return s


def fetch_file(session, url: str, dest: Path, sha256: str | None = None, *, optional: bool = False,
               retries: int = 3, timeout: float = 60.0, backoff: float = 0.5) -> str:
    """Download ``url`` to ``dest`` via ``dest.part``, resuming and verifying.

    Returns ``"present"`` (already there and verified), ``"downloaded"``,
    ``"resumed"`` (finished a ``.part`` left by an earlier run) or, when
    ``optional`` and the server answers 404, ``"absent"``.

    Raises:
        DownloadError: HTTP error, or the connection failed ``retries + 1`` times
            (the ``.part`` file is kept; running again resumes it).
        ChecksumError: the finished file does not hash to ``sha256`` (it is deleted).
    """
    import requests

    dest = Path(dest)
    if dest.is_file():
        if sha256 is None or sha256_file(dest) == sha256:
            return "present"
        dest.unlink()  # damaged or outdated copy: fetch it again
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    resumed = part.is_file() and part.stat().st_size > 0
    failures, restarted = 0, False
    while True:
        offset = part.stat().st_size if part.is_file() else 0
        try:
            status = _get_into(session, url, part, offset, timeout)
        except (requests.RequestException, _Retry) as exc:
            failures += 1
            if failures > retries:
                kept = part.stat().st_size if part.is_file() else 0
                raise DownloadError(
                    f"download interrupted ({type(exc).__name__}: {str(exc)[:120]}); "
                    f"{kept} bytes kept in {part.name}",
                    path=url,
                ) from None
            time.sleep(backoff * failures)
            continue
        if status == 404:
            if optional:
                return "absent"
            raise DownloadError("HTTP 404: no such file on the server", path=url, fix=_URL_FIX)
        if sha256 is not None:
            got = sha256_file(part)
            if got != sha256:
                part.unlink()
                if offset and not restarted:
                    restarted = True  # a stale .part (e.g. another version): start over once
                    continue
                raise ChecksumError(
                    f"SHA-256 is {got[:16]}..., {SUMS_FILE} says {sha256[:16]}...", path=dest,
                    fix="run the download again; if it repeats, the server copy or the "
                        "published checksum is wrong",
                )
        os.replace(part, dest)
        return "resumed" if resumed else "downloaded"


class _Retry(Exception):
    """A transient failure worth another attempt (5xx, a bad resume)."""


def _get_into(session, url: str, part: Path, offset: int, timeout: float) -> int:
    """One GET of ``url`` appended to (206) or written over (200) ``part``; returns the status."""
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    with session.get(url, headers=headers, stream=True, timeout=timeout) as resp:
        code = resp.status_code
        if code == 404:
            if offset:
                part.unlink()
            return code
        if code == 416 and offset:
            return code  # the .part already holds the whole file; the caller verifies it
        if code == 206 and offset:
            start = _content_range_start(resp.headers.get("Content-Range", ""))
            if start != offset:
                part.unlink()
                raise _Retry(f"server resumed at byte {start}, expected {offset}")
            _stream_to(resp, part, "ab")
        elif code in (200, 206):
            _stream_to(resp, part, "wb")
        elif code >= 500 or code == 429:
            raise _Retry(f"HTTP {code}")
        else:
            raise DownloadError(
                f"HTTP {code} {resp.reason or ''}".strip(),
                path=url,
                fix=_URL_FIX,
            )
        return code


def _content_range_start(value: str) -> int | None:
    """Start byte of ``Content-Range: bytes START-END/TOTAL``."""
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _stream_to(resp, part: Path, mode: str) -> None:
    with open(part, mode) as fh:
        for chunk in resp.iter_content(_CHUNK):
            if chunk:
                fh.write(chunk)


@dataclass
class DownloadItem:
    """One file to fetch: path relative to the version root, hash, optional."""

    rel: str
    sha256: str | None = None
    optional: bool = False


@dataclass
class DownloadPlan:
    """What :func:`run_download` will fetch, made by :func:`plan_download`."""

    database: Database
    url: str
    dest: Path
    records: list[str]
    items: list[DownloadItem]
    has_sums: bool


@dataclass
class DownloadReport:
    """Outcome of a download: status per file (``present``, ``downloaded``, ``resumed``, ``absent``)."""

    dest: Path
    records: list[str]
    status: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Number of files per status."""
        out: dict[str, int] = {}
        for s in self.status.values():
            out[s] = out.get(s, 0) + 1
        return out


def _get_text(session, url: str, *, optional: bool, timeout: float = 60.0) -> str | None:
    import requests

    try:
        resp = session.get(url, timeout=timeout)
    except requests.RequestException as exc:
        raise DownloadError(f"cannot connect ({type(exc).__name__})", path=url) from None
    if resp.status_code == 404 and optional:
        return None
    if resp.status_code != 200:
        raise DownloadError(f"HTTP {resp.status_code}", path=url, fix=_URL_FIX)
    return resp.text


def _remote_records(session, url: str, rel_file: str, target: Path, seen: list[str],
                    depth: int = 0) -> list[str] | None:
    """Record paths (relative to the version root) from a RECORDS file; None if absent.

    A copy already fetched into ``target`` (with the metadata files) is read
    instead; every RECORDS file read is appended to ``seen`` (to be downloaded).
    """
    local = target / rel_file
    text = local.read_text(encoding="utf-8", errors="replace") if local.is_file() else \
        _get_text(session, url + rel_file, optional=True)
    if text is None:
        return None
    seen.append(rel_file)
    folder = str(PurePosixPath(rel_file).parent)
    prefix = "" if folder == "." else folder + "/"
    out: list[str] = []
    for line in text.splitlines():
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        if entry.endswith("/"):
            if depth < 8:
                sub = prefix + entry + "RECORDS"
                out.extend(_remote_records(session, url, sub, target, seen, depth + 1) or [])
            continue
        out.append(_safe_rel(prefix + entry, url + rel_file))
    return out


def _available_records(db: Database, session, url: str, sums: dict | None, target: Path,
                       seen: list[str]) -> list[str]:
    if db.records:
        return list(db.records)
    for rel in dict.fromkeys((db.records_file, "RECORDS")):
        found = _remote_records(session, url, rel, target, seen)
        if found:
            recs = found
            break
    else:
        if not sums:
            raise DownloadError(f"the server publishes neither RECORDS nor {SUMS_FILE}", path=url,
                                fix="check the database version and the base URL")
        prefix = db.records_dir + "/" if db.records_dir else ""
        recs = sorted((p[:-4] for p in sums if p.endswith(".hea") and p.startswith(prefix)), key=natural_key)
    if db.record_filter:
        import re

        pattern = re.compile(db.record_filter)
        recs = [r for r in recs if pattern.search(r)]
    return recs


def _header_files(header: Path) -> list[str]:
    """Signal file names a WFDB header refers to (relative to its folder)."""
    lines = [ln.strip() for ln in header.read_text(encoding="utf-8", errors="replace").splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    if not lines:
        raise DownloadError("header is empty", path=header, fix="delete it and download again")
    try:
        n_signals = int(lines[0].split()[1]) if len(lines[0].split()) > 1 else 0
    except ValueError:
        raise DownloadError(f"header line 1 {lines[0][:60]!r} is not a WFDB record line", path=header,
                            fix="delete it and download again") from None
    files = [ln.split()[0] for ln in lines[1:1 + n_signals] if ln.split()]
    return list(dict.fromkeys(f for f in files if f != "~"))


def plan_download(name: str, dest=None, records=None, base_url: str | None = None, *,
                  session=None) -> DownloadPlan:
    """Work out which files a download needs (fetches SHA256SUMS.txt and RECORDS).

    Args:
        name: registry name (``"mitdb"``) or PhysioNet slug.
        dest: data root; files go to ``<dest>/<name>`` (see :func:`~ecgscope.datasets.data_root`).
        records: record names to fetch (default: all).
        base_url: files URL instead of PhysioNet's.
    """
    db = get_database(name)
    session = session or _session()
    url = f"{physionet_url(base_url)}/{db.url_path}"
    target = data_root(dest) / db.name
    target.mkdir(parents=True, exist_ok=True)
    sums_text = _get_text(session, url + SUMS_FILE, optional=True)
    sums = parse_sha256sums(sums_text, url + SUMS_FILE) if sums_text is not None else None
    if sums_text is not None:
        (target / SUMS_FILE).write_text(sums_text, encoding="utf-8")
    # Metadata first: RECORDS may be needed to list the records.
    for rel in db.extra_files:
        if sums is None or rel in sums:
            fetch_file(session, url + rel, target / rel, (sums or {}).get(rel), optional=True)
    records_files: list[str] = []
    chosen = select_records(_available_records(db, session, url, sums, target, records_files), records,
                            what=f"{db.name} records", path=url)
    items = [DownloadItem(rel, (sums or {}).get(rel), optional=True)
             for rel in dict.fromkeys([*db.extra_files, *records_files])]
    if sums is not None:
        by_record: dict[str, list[str]] = {}
        for rel in sums:
            stem = rel.rsplit(".", 1)[0] if "." in PurePosixPath(rel).name else None
            if stem is not None:
                by_record.setdefault(stem, []).append(rel)
        for rec in chosen:
            files = sorted(f for f in by_record.get(rec, []) if not f.endswith(".part"))
            if not files:
                raise DownloadError(f"record {rec} is listed but {SUMS_FILE} has no {rec}.* files", path=url,
                                    fix="check the database version")
            items.extend(DownloadItem(f, sums[f]) for f in files)
    else:
        for rec in chosen:
            header = rec + ".hea"
            fetch_file(session, url + header, target / header)
            folder = str(PurePosixPath(rec).parent)
            prefix = "" if folder == "." else folder + "/"
            items.append(DownloadItem(header))
            signal_files = _header_files(target / header)
            items.extend(DownloadItem(_safe_rel(prefix + f, target / header)) for f in signal_files)
            items.extend(DownloadItem(f"{rec}.{ext}", optional=True) for ext in db.annotators)
    unique = list({it.rel: it for it in items}.values())
    return DownloadPlan(database=db, url=url, dest=target, records=chosen, items=unique,
                        has_sums=sums is not None)


def _write_manifest(plan: DownloadPlan, report: DownloadReport) -> None:
    path = plan.dest / MANIFEST_FILE
    try:
        old = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError):
        old = {}
    files = dict(old.get("files", {})) if old.get("url") == plan.url else {}
    for it in plan.items:
        if report.status.get(it.rel) in ("present", "downloaded", "resumed"):
            files[it.rel] = it.sha256
    manifest = {
        "database": plan.database.name,
        "slug": plan.database.slug,
        "version": plan.database.version,
        "url": plan.url,
        "verified_with": SUMS_FILE if plan.has_sums else None,
        "files": dict(sorted(files.items())),
    }
    path.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")


def run_download(plan: DownloadPlan, progress: Callable[[str, str], None] | None = None, *, session=None,
                 retries: int = 3, timeout: float = 60.0) -> DownloadReport:
    """Fetch every file of ``plan``; ``progress(rel, status)`` is called after each file.

    The manifest (``.ecgscope-download.json``) records what was fetched, so
    ``ecgscope data verify`` knows which files to expect after a partial download.
    """
    session = session or _session()
    report = DownloadReport(dest=plan.dest, records=list(plan.records))
    try:
        for it in plan.items:
            status = fetch_file(session, plan.url + it.rel, plan.dest / it.rel, it.sha256,
                                optional=it.optional, retries=retries, timeout=timeout)
            report.status[it.rel] = status
            if progress is not None:
                progress(it.rel, status)
    finally:
        _write_manifest(plan, report)
    return report


def download(name: str, dest=None, records=None, base_url: str | None = None, *,
             progress: Callable[[str, str], None] | None = None, retries: int = 3) -> DownloadReport:
    """Download database ``name`` (or some ``records``) into ``<dest>/<name>``; resumable and verified.

    Example::

        download("mitdb", records=["100", "101"])   # into the user cache folder
    """
    session = _session()
    plan = plan_download(name, dest, records, base_url, session=session)
    return run_download(plan, progress, session=session, retries=retries)
