"""The column-wise ``prepare_records`` equals the row-by-row reference, value for value.

``prepare_records`` computes each group of prepared columns once per distinct field
combination and blocking keys from caches (:class:`kinlink.blocking.rules.DefaultKeys`);
``_prepare_records_by_row`` is the straightforward ``prepare_row`` + ``block_keys`` per
record that the Spark workers and the real-time index use. They must never disagree.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinlink.blocking.rules import DefaultKeys, block_keys
from kinlink.ingest.columns import RECORD_COLUMNS
from kinlink.matching.prepare import (
    TokenFrequencies,
    _prepare_records_by_row,
    prepare_records,
    prepare_row,
)
from kinlink.phonetics import detect_script, split_name

SAMPLE = Path(__file__).parents[2] / "datasets" / "synthetic" / "sample" / "records.csv"


def _same(frame: pd.DataFrame, **kwargs) -> None:
    fast = prepare_records(frame, **kwargs)
    slow = _prepare_records_by_row(frame, **kwargs)
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    assert list(fast.dtypes) == list(slow.dtypes)


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)


def test_sample_matches_row_path(sample):
    _same(sample)


def test_sample_with_missing_values_and_odd_index(sample):
    frame = pd.read_csv(SAMPLE, dtype=str).iloc[:800]  # NaN for missing
    frame.index = np.arange(len(frame))[::-1] * 3
    _same(frame)


def test_subset_of_columns_and_given_frequencies(sample):
    frame = sample[["record_id", "name", "date_of_birth", "location_current"]].iloc[:500]
    freqs = TokenFrequencies.from_token_lists([["mohamed"], ["ali", "mohamed"]] * 10)
    _same(frame, token_frequencies=freqs)


def test_non_string_values_and_empty_frame():
    frame = pd.DataFrame(
        {
            "record_id": [1, 2.0, None, "x"],
            "name": ["Amina Yusuf", 12, float("nan"), True],
            "age": [7, "7", None, 3.5],
            "registration_date": ["2023-05-01"] * 4,
            "estimated": [True, "true", None, "no"],
        }
    )
    _same(frame)
    _same(pd.DataFrame(columns=list(RECORD_COLUMNS), dtype=str))


def test_default_keys_match_block_keys(sample):
    keys = DefaultKeys()
    for record in sample.head(300).to_dict("records"):
        row = prepare_row(record)
        expected = block_keys(row)
        got = keys.keys(
            ids=row["ids"],
            phones=row["phones"],
            given_keys=tuple(row["given_keys"]),
            name_all=tuple(row["name_all"]),
            name_keys=tuple(row["name_keys"]),
            sex=row["sex"],
            by_lo=row["by_lo"],
            by_hi=row["by_hi"],
            mother_first=row["mother_tokens"][0] if row["mother_tokens"] else None,
            father_first=row["father_tokens"][0] if row["father_tokens"] else None,
            place_tokens=tuple(row["place_tokens"]),
            place_history=tuple(row["place_history"] or ()),
            dob=row["dob"],
        )
        assert got == expected


_TEXT = st.text(max_size=25) | st.sampled_from(["", " ", "Amina Yusuf", "KAMBALE Sarah", "a;b"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.dictionaries(st.sampled_from(RECORD_COLUMNS), _TEXT), min_size=1, max_size=6))
def test_arbitrary_unicode_records_match_row_path(records):
    frame = pd.DataFrame(records, columns=list(RECORD_COLUMNS))
    _same(frame)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_cached_phonetics_helpers_agree_with_uncached(text):
    from kinlink.phonetics.scripts import _detect_script
    from kinlink.phonetics.structure import _split_name

    assert detect_script(text) == _detect_script(text)
    assert split_name(text) == _split_name.__wrapped__(text, None)
