"""Versioned patient-wise stratified splits: shipped files, generator, invariants."""

from __future__ import annotations

import csv

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecgscope.datasets import DS1, available_splits, load_split
from ecgscope.datasets.splits import Split
from ecgscope.datasets.splits.generate import assign_folds, generate_split, main, write_split
from ecgscope.errors import DatasetError

SHIPPED = ("mitdb-ds1", "cinc2017", "ludb")


def test_shipped_splits_are_listed():
    splits = available_splits()
    assert all(1 in splits.get(name, []) for name in SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_split_invariants(name):
    split = load_split(name, version=1)
    assert split.name == name and split.version == 1 and split.k == 5
    assert {"generator", "command", "inputs", "counts"} <= set(split.info)
    assert split.info["inputs"]["n_records"] == len(split.records)
    folds = split.folds
    # every record exactly once
    flat = [r for f in folds for r in f]
    assert sorted(flat) == sorted(split.records) and len(flat) == len(set(flat))
    # no patient in two folds
    seen: dict[str, int] = {}
    for rec, a in split.assignments.items():
        assert seen.setdefault(a["patient"], a["fold"]) == a["fold"], f"patient {a['patient']} spans folds"
    # class-balanced: per stratum, fold counts differ by at most one
    for stratum, counts in split.strata().items():
        assert max(counts) - min(counts) <= 1, (stratum, counts)
    sizes = [len(f) for f in folds]
    assert max(sizes) - min(sizes) <= max(2, len(flat) // 50)


def test_mitdb_ds1_split_covers_ds1():
    split = load_split("mitdb-ds1")
    assert set(split.records) == set(DS1)
    counts = split.info["inputs"]["aami_beat_counts"]
    for rec, a in split.assignments.items():  # strata follow the recorded beat counts
        s, v = counts[rec]["S"] >= 30, counts[rec]["V"] >= 30
        expected = {(True, True): "S+V", (True, False): "S", (False, True): "V"}.get((s, v), "none")
        assert a["stratum"] == expected


def test_split_api():
    split = load_split("ludb")
    train, test = split.train_test(2)
    assert set(train).isdisjoint(test) and sorted(train + test) == sorted(split.records)
    assert all(split.fold_of(r) == 2 for r in test)
    assert split.patients(2).isdisjoint(split.patients(3))
    assert Split.from_dict(split.to_dict()).to_dict() == split.to_dict()
    with pytest.raises(DatasetError, match="not in split"):
        split.fold_of("nope")
    with pytest.raises(DatasetError, match="fold 9 does not exist"):
        split.train_test(9)
    with pytest.raises(DatasetError, match="no split 'ludb' version 7"):
        load_split("ludb", version=7)


@settings(max_examples=40, deadline=None)
@given(
    st.dictionaries(st.text("abcdefgh0123456789", min_size=1, max_size=6),
                    st.sampled_from(["N", "A", "O", "~", "S+V"]), min_size=1, max_size=60),
    st.integers(2, 6),
    st.integers(0, 2**31),
)
def test_assign_folds_properties(strata, k, seed):
    folds = assign_folds(strata, k, seed)
    assert set(folds) == set(strata) and all(0 <= f < k for f in folds.values())
    for s in set(strata.values()):
        counts = [sum(1 for p, f in folds.items() if strata[p] == s and f == i) for i in range(k)]
        assert max(counts) - min(counts) <= 1
    # deterministic and independent of input order
    assert assign_folds(dict(reversed(list(strata.items()))), k, seed) == folds


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.sampled_from(["N", "A", "O"]), min_size=2, max_size=40),
    st.lists(st.sampled_from(["N", "A", "O"]), min_size=1, max_size=20),
)
def test_adding_records_keeps_existing_folds(old, new):
    strata = {f"p{i}": s for i, s in enumerate(old)}
    before = assign_folds(strata, 5, 7)
    more = {**strata, **{f"q{i}": s for i, s in enumerate(new)}}
    after = assign_folds(more, 5, 7, fixed=before)
    assert {p: after[p] for p in before} == before and set(after) == set(more)


@pytest.mark.data
def test_generator_reproduces_shipped_files(shared):
    root = shared()
    for name in SHIPPED:
        assert generate_split(name, root).to_dict() == load_split(name).to_dict(), name


@pytest.mark.data
def test_cinc2017_split_lists_every_reference_record(shared):
    with open(shared("cinc2017", "REFERENCE.csv")) as fh:
        reference = {row[0]: row[1] for row in csv.reader(fh) if row}
    split = load_split("cinc2017")
    assert set(split.records) == set(reference)
    assert all(split.assignments[r]["stratum"] == label for r, label in reference.items())


@pytest.mark.data
def test_generator_cli_writes_and_extends(shared, tmp_path, capsys):
    root = str(shared())
    assert main(["generate", "--root", root, "--name", "ludb", "--out", str(tmp_path)]) == 0
    assert load_split("ludb", 1, tmp_path).to_dict() == load_split("ludb").to_dict()
    assert main(["generate", "--root", root, "--name", "ludb", "--check"]) == 0
    # an extended version keeps every fold of v1
    base = load_split("ludb")
    partial = Split(base.name, 1, base.database, base.k, base.seed,
                    {r: a for i, (r, a) in enumerate(base.assignments.items()) if i % 2 == 0})
    write_split(partial, tmp_path)
    extended = generate_split("ludb", root, version=2, base=partial)
    assert all(extended.fold_of(r) == a["fold"] for r, a in partial.assignments.items())
    assert len(extended.records) == len(base.records)
    assert "ludb v1: identical" in capsys.readouterr().out
