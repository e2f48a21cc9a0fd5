"""Fuzzing every reader: truncated, bit-flipped and random files raise only ECGScopeError, quickly.

Valid seeds come from the shared data when present (WFDB records of all three
databases) and from files this test writes (every writer, plus MATLAB files).
Each case runs under a wall-clock alarm, so a hang fails the test instead of
stalling the suite.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import time
import zlib
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io

import ecgscope
from ecgscope.errors import ECGScopeError

CASE_LIMIT_S = 5.0
N_MUTANTS = 12


class CaseTimeout(Exception):
    """A single read took longer than CASE_LIMIT_S."""


@contextlib.contextmanager
def time_limit(seconds: float):
    def _raise(signum, frame):
        raise CaseTimeout(f"read took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _read_safely(path: Path, **kwargs) -> None:
    """Read ``path``: a Record or an ECGScopeError are fine; anything else fails the test."""
    start = time.perf_counter()
    try:
        with time_limit(CASE_LIMIT_S):
            ecgscope.read(path, **kwargs)
    except ECGScopeError as exc:
        assert str(exc).startswith(str(path)) or str(path.parent) in str(exc) or path.stem in str(exc), str(exc)
    except CaseTimeout:
        pytest.fail(f"{path.name}: read hung for more than {CASE_LIMIT_S} s")
    except Exception as exc:  # noqa: BLE001 - the point of the test
        pytest.fail(f"{path.name}: {type(exc).__name__} escaped: {exc}")
    assert time.perf_counter() - start < CASE_LIMIT_S + 1


def _mutants(data: bytes, rng: np.random.Generator):
    """Truncations, byte flips, a scrambled block and an empty file."""
    n = len(data)
    yield "empty", b""
    for cut in sorted(set(rng.integers(1, max(n, 2), size=4).tolist()) | {min(n, 10), n // 2}):
        yield f"cut{cut}", data[:cut]
    for i in range(N_MUTANTS - 6):
        buf = bytearray(data)
        for pos in rng.integers(0, max(n, 1), size=1 + i):
            if n:
                buf[pos] = int(rng.integers(0, 256))
        yield f"flip{i}", bytes(buf)
    if n > 16:
        buf = bytearray(data)
        start = int(rng.integers(0, max(1, min(n - 8, 400))))
        buf[start:start + 64] = rng.integers(0, 256, size=len(buf[start:start + 64])).astype(np.uint8).tobytes()
        yield "block", bytes(buf)


def _seed_files(folder: Path, record) -> dict[str, list[Path]]:
    """Valid files per format written by this test (each a list: first file is read)."""
    out = {}
    for ext in (".csv", ".json", ".npz", ".edf", ".bdf"):
        out[ext] = ecgscope.write(record, folder / f"seed{ext}")
    out[".npy"] = ecgscope.write(record, folder / "seed.npy")
    out[".hea"] = ecgscope.write(record, folder / "seedw")
    scipy.io.savemat(folder / "seed5.mat", {"val": record.signal, "fs": record.fs, "leads": record.leads})
    scipy.io.savemat(folder / "seed4.mat", {"val": record.signal}, format="4")
    with h5py.File(folder / "seed73.mat", "w") as f:
        f.create_dataset("val", data=record.signal.T)
        f.create_dataset("fs", data=np.array([[record.fs]]))
    out[".mat"] = [folder / "seed5.mat"]
    out[".mat4"] = [folder / "seed4.mat"]
    out[".mat73"] = [folder / "seed73.mat"]
    return out


HINTS = {".npy": {"fs": 250}, ".mat4": {"fs": 250}}


@pytest.mark.parametrize("kind", [".csv", ".json", ".npz", ".npy", ".edf", ".bdf", ".mat", ".mat4", ".mat73"])
def test_single_file_formats_survive_corruption(tmp_path, small_record, kind):
    (tmp_path / "seeds").mkdir()
    source = _seed_files(tmp_path / "seeds", small_record)[kind][0]
    data = source.read_bytes()
    rng = np.random.default_rng(zlib.crc32(kind.encode()))
    suffix = source.suffix
    for label, blob in _mutants(data, rng):
        case = tmp_path / f"{label}{suffix}"
        case.write_bytes(blob)
        _read_safely(case, **HINTS.get(kind, {}))


def _wfdb_cases(tmp_path: Path, base: Path, rng: np.random.Generator, part_suffixes: list[str]):
    """Copies of a WFDB record with one part (header, signal or annotation file) damaged."""
    for suffix in part_suffixes:
        original = base.with_name(base.name + suffix).read_bytes()
        for label, blob in _mutants(original, rng):
            folder = tmp_path / f"{suffix.strip('.')}_{label}"
            folder.mkdir()
            for part in base.parent.glob(base.name + ".*"):
                shutil.copy(part, folder / part.name)
            (folder / (base.name + suffix)).write_bytes(blob)
            yield folder / base.name


def test_wfdb_written_record_survives_corruption(tmp_path, small_record):
    (tmp_path / "seed").mkdir()
    ecgscope.write(small_record, tmp_path / "seed" / "rec")
    rng = np.random.default_rng(7)
    for case in _wfdb_cases(tmp_path, tmp_path / "seed" / "rec", rng, [".hea", ".dat", ".atr"]):
        _read_safely(case)


@pytest.mark.data
@pytest.mark.parametrize(("parts", "suffixes"), [
    (("ludb", "data", "1"), [".hea", ".dat", ".ii"]),
    (("cinc2017", "A00001"), [".hea", ".mat"]),
])
def test_shared_records_survive_corruption(tmp_path, shared, parts, suffixes):
    base = shared(*parts)
    rng = np.random.default_rng(11)
    for case in _wfdb_cases(tmp_path, base, rng, suffixes):
        _read_safely(case)


@pytest.mark.data
def test_shared_mitdb_annotations_survive_corruption(tmp_path, shared):
    base = shared("mitdb", "101")
    rng = np.random.default_rng(13)
    for case in _wfdb_cases(tmp_path, base, rng, [".atr", ".hea"]):
        _read_safely(case)


@pytest.mark.parametrize("suffix", [".csv", ".json", ".npz", ".npy", ".edf", ".mat", ".hea", ".dat", ".txt", ""])
def test_random_bytes(tmp_path, suffix):
    rng = np.random.default_rng(zlib.crc32(suffix.encode()))
    magics = [b"", b"0       ", b"\x93NUMPY", b"PK\x03\x04", b"MATLAB 5.0 MAT-file", b"\x89HDF\r\n\x1a\n", b"{", b"["]
    for i, magic in enumerate(magics):
        size = int(rng.integers(0, 3000))
        path = tmp_path / f"r{i}{suffix}"
        path.write_bytes(magic + rng.integers(0, 256, size=size).astype(np.uint8).tobytes())
        _read_safely(path, fs=250)
        _read_safely(path)
