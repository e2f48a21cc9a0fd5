"""Format detection by content, the module protocol, and dispatch-level errors."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import ecgscope
from ecgscope.errors import FormatError, MissingFileError, UnknownFormatError
from ecgscope.io import FORMATS, detect_format
from ecgscope.io.registry import format_module


@pytest.mark.parametrize("name", list(FORMATS))
def test_every_module_implements_the_protocol(name):
    module = format_module(name)
    assert module.NAME == name
    assert all(ext.startswith(".") for ext in module.EXTENSIONS)
    assert callable(module.sniff) and callable(module.read)
    assert module.read.__doc__ and module.sniff.__doc__


@pytest.mark.parametrize(("written", "renamed", "expected"), [
    ("r.csv", "r.txt", "csv"),
    ("r.csv", "r.data", "csv"),
    ("r.json", "r.txt", "json"),
    ("r.npz", "r.bin", "npy"),
    ("r.npy", "r.raw", "npy"),
    ("r.edf", "r.rec", "edf"),
    ("r.edf", "r.xyz", "edf"),
])
def test_content_beats_extension(tmp_path, small_record, written, renamed, expected):
    src = ecgscope.write(small_record, tmp_path / written)[0]
    target = tmp_path / renamed
    shutil.copy(src, target)
    assert detect_format(target) == expected
    hints = {"fs": small_record.fs} if written.endswith(".npy") else {}
    assert ecgscope.read(target, **hints).n_leads == small_record.n_leads


def test_wfdb_parts_and_record_name(tmp_path, small_record):
    ecgscope.write(small_record, tmp_path / "rec")
    for part in ("rec.hea", "rec.dat", "rec.atr"):
        assert detect_format(tmp_path / part) == "wfdb"
    np.testing.assert_array_equal(ecgscope.read(tmp_path / "rec").signal, ecgscope.read(tmp_path / "rec.dat").signal)
    lonely = tmp_path / "lonely.dat"
    lonely.write_bytes(b"\x00\x01" * 50)
    with pytest.raises(MissingFileError, match="lonely.hea"):
        ecgscope.read(lonely)


def test_unknown_and_unwritable(tmp_path, small_record):
    junk = tmp_path / "junk.xyz"
    junk.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(UnknownFormatError):
        ecgscope.read(junk)
    with pytest.raises(FormatError, match="extension"):
        ecgscope.write(small_record, tmp_path / "out.xyz")
    with pytest.raises(FormatError, match="not supported"):
        ecgscope.write(small_record, tmp_path / "out.mat")
    path = ecgscope.write(small_record, tmp_path / "ok.csv")[0]
    with pytest.raises(FormatError, match="unexpected keyword"):
        ecgscope.read(path, colour="red")


def test_leads_hint_renames_in_every_reader_and_none_hints_are_ignored(tmp_path, small_record):
    for ext in (".hea", ".csv", ".json", ".npz", ".edf"):
        path = ecgscope.write(small_record, tmp_path / f"n{ext}")[0]
        back = ecgscope.read(path, leads=["V1", "V2", "V3"], fs=None, gain=None, orientation=None)
        assert back.leads == ["V1", "V2", "V3"], ext
        with pytest.raises(ecgscope.errors.LeadCountError):
            ecgscope.read(path, leads=["V1"])
