"""AAMI EC57 classes, paced records, DS1/DS2, rhythm episodes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ecgscope.datasets import (
    AAMI_CLASSES, AAMI_MAP, DS1, DS2, MITDB_PACED_RECORDS, aami_counts, aami_labels, beat_mask,
    exclude_paced, get_database, is_paced_record, mitdb_patient, rhythm_episodes,
)

EC57 = {"N": "N L R e j", "S": "A a J S", "V": "V E", "F": "F", "Q": "/ f Q"}
NON_BEATS = ["+", "~", "|", "x", "[", "]", "!", '"', "(", ")", "p", "t", "u", "T", "*", "D", "=", "@", "^",
             "s", "B"]


def test_aami_map_is_exactly_ec57():
    expected = {code: cls for cls, codes in EC57.items() for code in codes.split()}
    assert AAMI_MAP == expected
    assert AAMI_CLASSES == ("N", "S", "V", "F", "Q")


def test_non_beats_are_filtered():
    symbols = ["N", "+", "V", "~", "A", "|", "/", "x", "F", "Q"]
    labels = aami_labels(symbols)
    assert labels.tolist() == ["N", "", "V", "", "S", "", "Q", "", "F", "Q"]
    assert beat_mask(symbols).tolist() == [bool(x) for x in labels]
    assert aami_labels(symbols, non_beat="-")[1] == "-"
    assert aami_labels([]).size == 0
    assert aami_counts(symbols) == {"N": 1, "S": 1, "V": 1, "F": 1, "Q": 2}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(sorted(AAMI_MAP) + NON_BEATS), max_size=300))
def test_vectorised_labels_equal_elementwise_lookup(symbols):
    labels = aami_labels(np.array(symbols, dtype=object))
    assert labels.tolist() == [AAMI_MAP.get(s, "") for s in symbols]
    assert int(beat_mask(symbols).sum()) == sum(aami_counts(symbols).values())


def test_paced_records_are_excluded():
    assert MITDB_PACED_RECORDS == ("102", "104", "107", "217")
    records = get_database("mitdb").records
    kept = exclude_paced(records)
    assert len(kept) == 44 and not set(kept) & set(MITDB_PACED_RECORDS)
    assert is_paced_record("mitdb/217") and is_paced_record("/x/104.hea") and not is_paced_record("101")


def test_ds1_ds2_are_the_de_chazal_partition():
    assert len(DS1) == len(DS2) == 22
    assert not set(DS1) & set(DS2)
    assert not (set(DS1) | set(DS2)) & set(MITDB_PACED_RECORDS)
    assert set(DS1) | set(DS2) | set(MITDB_PACED_RECORDS) == set(get_database("mitdb").records)


def test_mitdb_patients():
    assert mitdb_patient("202") == "201" == mitdb_patient("201")
    assert mitdb_patient("mitdb/100") == "100"


def test_rhythm_episodes():
    sample = [0, 10, 50, 80, 120]
    aux = ["(N", "", "(AFIB\x00", "", "(N"]
    assert rhythm_episodes(sample, aux, 200) == [(0, 50, "N"), (50, 120, "AFIB"), (120, 200, "N")]
    assert rhythm_episodes([5], [""], 100) == []
