"""The sweep's columnar ``rare_lists`` is ``TokenFrequencies.rare`` list by list, for any
Arrow list column."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from kinlink.matching.prepare import RARE_MIN_COUNT, TokenFrequencies
from kinlink.matching.sweep.inprocess_scoring import rare_lists

tokens = st.sampled_from(["mohamed", "ali", "amina", "oleksandr", "", "محمد", "x"]) | st.text(
    max_size=4
)
token_lists = st.lists(st.none() | st.lists(tokens, max_size=6), max_size=40)


@settings(max_examples=200, deadline=None)
@given(
    lists=token_lists,
    counts=st.dictionaries(tokens, st.integers(0, 3 * RARE_MIN_COUNT), max_size=8),
    cut=st.integers(0, 40),
    offset=st.integers(0, 5),
)
def test_rare_lists_is_rare_of_each_list(lists, counts, cut, offset):
    frequencies = TokenFrequencies(Counter(counts), n_records=10)
    column = pa.array(lists, type=pa.list_(pa.string()))
    # chunked, and chunks that are slices of a larger array (offsets not from zero)
    chunked = (
        pa.chunked_array([column.slice(0, cut), column.slice(cut)], type=column.type)
        if lists
        else pa.chunked_array([column])
    )
    for source in (chunked, column.slice(min(offset, len(lists)))):
        got = rare_lists(frequencies, source).to_pylist()
        want = [frequencies.rare(t or []) for t in source.to_pylist()]
        assert got == want


def test_common_tokens_are_dropped():
    frequencies = TokenFrequencies(Counter({"mohamed": 10_000, "tesfaye": 2}), n_records=20_000)
    column = pa.array([["mohamed", "tesfaye", "mohamed"], None, [], ["zzz"]])
    assert rare_lists(frequencies, column).to_pylist() == [["tesfaye"], [], [], ["zzz"]]
