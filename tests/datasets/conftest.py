"""Fixtures for the datasets tests: a local PhysioNet-like HTTP server and small WFDB trees."""

from __future__ import annotations

import hashlib
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from ecgscope.datasets.registry import DATABASES, Database


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls between header and body

    def do_GET(self):  # noqa: N802 (http.server naming)
        srv = self.server
        rel = urllib.parse.unquote(self.path.split("?", 1)[0]).lstrip("/")
        rng = self.headers.get("Range")
        srv.log.append((rel, rng))
        path = srv.root / rel
        if not path.is_file():
            self._reply(404, b"")
            return
        data = path.read_bytes()
        start, status, extra = 0, 200, {}
        if rng and srv.ranges:
            m = re.fullmatch(r"bytes=(\d+)-", rng.strip())
            start = int(m.group(1))
            if start >= len(data):
                self._reply(416, b"", {"Content-Range": f"bytes */{len(data)}"})
                return
            status, extra = 206, {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"}
        body = data[start:]
        cut = srv.drop.pop(rel, None)
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        if cut is not None:  # simulate a dropped connection after `cut` bytes
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def _reply(self, status: int, body: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:  # keep test output quiet
        pass


class FileServer:
    """A threaded HTTP server on 127.0.0.1 serving ``root``, with Range support and a request log."""

    def __init__(self, root: Path):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.root = Path(root)
        self.httpd.log = []
        self.httpd.drop = {}
        self.httpd.ranges = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def root(self) -> Path:
        return self.httpd.root

    @property
    def log(self) -> list:
        return self.httpd.log

    @property
    def drop(self) -> dict:
        """``{relative path: n}``: the next GET of that file stops after n bytes."""
        return self.httpd.drop

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def file_server(tmp_path):
    server = FileServer(tmp_path / "server")
    (tmp_path / "server").mkdir()
    yield server
    server.close()


def _make_record(record_id: str, fs: float = 360.0, seconds: float = 10.0, n_leads: int = 2, seed: int = 0,
                symbols=("N", "V", "A", "+", "N"), aux=None, comments=()):
    """A small synthetic Record with an 'atr' annotator."""
    from ecgscope.record import Annotations, Metadata, Record

    rng = np.random.default_rng(seed)
    n = int(fs * seconds)
    signal = (rng.standard_normal((n_leads, n)) * 0.1).astype(np.float32)
    sample = np.linspace(fs * 0.5, n - fs * 0.5, len(symbols)).astype(np.int64)
    ann = Annotations(sample=sample, symbol=list(symbols), aux=aux, annotator="atr")
    return Record(signal=signal, fs=fs, original_leads=[f"ECG{i + 1}" for i in range(n_leads)],
                  annotations={"atr": ann}, metadata=Metadata(record_id=record_id, comments=list(comments)))


def _write_tree(directory: Path, records: dict, *, sums: bool = True, extra: dict | None = None,
               records_file: bool = True) -> dict[str, str]:
    """Write WFDB records (``{relative name: Record}``) plus RECORDS and SHA256SUMS.txt; return the sums."""
    from ecgscope import write

    directory.mkdir(parents=True, exist_ok=True)
    for rel, rec in records.items():
        write(rec, directory / rel)
    for rel, text in (extra or {}).items():
        (directory / rel).parent.mkdir(parents=True, exist_ok=True)
        (directory / rel).write_text(text)
    if records_file:
        (directory / "RECORDS").write_text("".join(f"{r}\n" for r in records))
    digests = {
        p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*")) if p.is_file() and p.name != "SHA256SUMS.txt"
    }
    if sums:
        (directory / "SHA256SUMS.txt").write_text("".join(f"{h} {rel}\n" for rel, h in digests.items()))
    return digests


@pytest.fixture
def make_record():
    """``make_record(record_id, fs=360, seconds=10, ...)`` -> a small synthetic Record."""
    return _make_record


@pytest.fixture
def write_tree():
    """``write_tree(directory, {name: Record}, sums=True, extra=None)`` -> {file: sha256}."""
    return _write_tree


@pytest.fixture
def fakedb(monkeypatch):
    """Register a small test database 'fakedb' (slug fakedb/1.0.0, records from RECORDS)."""
    db = Database(name="fakedb", title="test database", slug="fakedb", version="1.0.0", fs=360.0, n_leads=2,
                  leads=("ECG1", "ECG2"), n_records=3, annotators=("atr",),
                  extra_files=("RECORDS", "ANNOTATORS"),
                  labels="beats in atr", label_scheme="beats", citation="test")
    monkeypatch.setitem(DATABASES, "fakedb", db)
    return db


@pytest.fixture
def served_fakedb(file_server, fakedb):
    """The server publishes fakedb 1.0.0 with three records, ANNOTATORS and SHA256SUMS.txt."""
    # 101 is long (~170 kB of samples) so that an interrupted transfer leaves whole chunks behind.
    records = {rid: _make_record(rid, seed=i, seconds=120.0 if rid == "101" else 10.0)
               for i, rid in enumerate(("100", "101", "102"))}
    digests = _write_tree(file_server.root / "fakedb" / "1.0.0", records,
                         extra={"ANNOTATORS": "atr\treference beat annotations\n"})
    return file_server, digests
