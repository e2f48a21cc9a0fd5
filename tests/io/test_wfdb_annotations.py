"""The vectorised MIT annotation codec agrees with ``wfdb.rdann``/``wfdb.wrann`` both ways."""

from __future__ import annotations

import string

import numpy as np
import pytest
import wfdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecgscope.errors import CorruptFileError, FormatError
from ecgscope.io._wfdb_ann import read_annotation_file, write_annotation_file

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SYMBOLS = ["N", "V", "A", "+", "~", "|", "Q", "/", "f", '"', "p", "t", "(", ")", "x", "!", "[", "]"]


@st.composite
def annotation_sets(draw):
    k = draw(st.integers(0, 40))
    gaps = draw(st.lists(st.one_of(st.integers(0, 1023), st.integers(1024, 3_000_000)), min_size=k, max_size=k))
    sample = np.cumsum(np.asarray(gaps, dtype=np.int64))
    return {
        "sample": sample,
        "symbol": draw(st.lists(st.sampled_from(SYMBOLS), min_size=k, max_size=k)),
        "subtype": np.asarray(draw(st.lists(st.integers(-128, 127), min_size=k, max_size=k)), dtype=np.int64),
        "chan": np.asarray(draw(st.lists(st.integers(0, 255), min_size=k, max_size=k)), dtype=np.int64),
        "aux": draw(st.lists(st.one_of(st.just(""), st.text(string.ascii_letters + "()_ ", min_size=1, max_size=40)),
                             min_size=k, max_size=k)),
    }


def _without_start_notes(cols: dict) -> dict:
    """``cols`` less the NOTEs (``"``) at sample 0, which ``wfdb.rdann`` drops and we keep (module docstring)."""
    keep = ~((np.asarray(cols["sample"]) == 0) & (np.asarray(cols["symbol"], dtype=object) == '"'))
    return {**cols, **{k: np.asarray(cols[k])[keep] for k in ("sample", "subtype", "chan")},
            **{k: np.asarray(cols[k], dtype=object)[keep] for k in ("symbol", "aux")}}


def _same(cols: dict, ann) -> None:
    np.testing.assert_array_equal(cols["sample"], ann.sample)
    assert list(cols["symbol"]) == list(ann.symbol)
    np.testing.assert_array_equal(cols["subtype"], ann.subtype)
    np.testing.assert_array_equal(cols["chan"], ann.chan)
    assert list(cols["aux"]) == list(ann.aux_note)


@SETTINGS
@given(data=annotation_sets(), fs=st.sampled_from([None, 250, 360.5]))
def test_reader_matches_rdann_on_wrann_files(tmp_path_factory, data, fs):
    folder = tmp_path_factory.mktemp("ann")
    if len(data["sample"]) == 0:
        return  # wrann refuses empty annotation sets
    wfdb.wrann("rec", "atr", data["sample"], symbol=data["symbol"], subtype=data["subtype"], chan=data["chan"],
               aux_note=data["aux"], fs=fs, write_dir=str(folder))
    mine = read_annotation_file(folder / "rec.atr")
    _same(_without_start_notes(mine), wfdb.rdann(str(folder / "rec"), "atr"))
    start_notes = (data["sample"] == 0) & (np.asarray(data["symbol"], dtype=object) == '"')
    assert int(((mine["sample"] == 0) & (mine["symbol"] == '"')).sum()) == int(start_notes.sum())  # kept, not lost
    assert mine["fs"] == (None if fs is None else float(fs))


@SETTINGS
@given(data=annotation_sets())
def test_writer_output_reads_back_with_rdann_and_ours(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("ann")
    write_annotation_file(folder / "rec.v1", fs=500, **data)
    ours = read_annotation_file(folder / "rec.v1")
    for key in ("sample", "subtype", "chan"):
        np.testing.assert_array_equal(ours[key], data[key])
    assert list(ours["symbol"]) == data["symbol"] and list(ours["aux"]) == data["aux"]
    assert ours["fs"] == 500.0
    (folder / "rec.atr").write_bytes((folder / "rec.v1").read_bytes())  # wrann/rdann want letters-only extensions
    _same(_without_start_notes(ours), wfdb.rdann(str(folder / "rec"), "atr"))


def test_custom_symbols_are_declared_and_read_back(tmp_path):
    write_annotation_file(tmp_path / "r.atr", [1, 5, 9], ["N", "AFL", "Zz"], fs=250)
    back = read_annotation_file(tmp_path / "r.atr")
    assert list(back["symbol"]) == ["N", "AFL", "Zz"]
    assert list(wfdb.rdann(str(tmp_path / "r"), "atr").symbol) == ["N", "AFL", "Zz"]
    with pytest.raises(FormatError, match="non-standard"):
        write_annotation_file(tmp_path / "s.atr", list(range(12)), [f"X{i}" for i in range(12)])
    with pytest.raises(FormatError, match="spaces"):
        write_annotation_file(tmp_path / "s.atr", [1], ["two words"])
    with pytest.raises(FormatError, match="subtype"):
        write_annotation_file(tmp_path / "s.atr", [1], ["N"], subtype=[300])


def test_truncated_aux_is_a_corrupt_file(tmp_path):
    write_annotation_file(tmp_path / "r.atr", [1, 2], ["N", "+"], aux=["", "(AFIB and a long rhythm note"])
    data = (tmp_path / "r.atr").read_bytes()
    (tmp_path / "t.atr").write_bytes(data[:-12])
    with pytest.raises(CorruptFileError, match="AUX"):
        read_annotation_file(tmp_path / "t.atr")


def test_comment_notes_at_sample_zero_are_kept(tmp_path):
    """wfdb.rdann drops every NOTE at sample 0; ours drops only the ``##`` definitions."""
    wfdb.wrann("rec", "atr", np.array([0, 0, 0, 4]), symbol=["N", "N", '"', "N"], aux_note=["", "", "hello", ""],
               fs=250, write_dir=str(tmp_path))
    mine = read_annotation_file(tmp_path / "rec.atr")
    assert list(mine["symbol"]) == ["N", "N", '"', "N"] and list(mine["aux"]) == ["", "", "hello", ""]
    assert mine["fs"] == 250.0
    assert list(wfdb.rdann(str(tmp_path / "rec"), "atr").symbol) == ["N", "N", "N"]
