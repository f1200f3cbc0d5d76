"""Daitch-Mokotoff Soundex: published examples and totality."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinlink.phonetics.dmsoundex import dm_soundex


@pytest.mark.parametrize(
    ("word", "codes"),
    [
        # Examples from the Daitch-Mokotoff description (Avotaynu; Wikipedia).
        ("peters", ("734000", "739400")),
        ("auerbach", ("097400", "097500")),
        ("ohrbach", ("097400", "097500")),
        ("lipshitz", ("874400",)),
        ("moskowitz", ("645740",)),
        ("moskovitz", ("645740",)),
        ("jackson", ("145460", "154600", "445460", "454600")),
        ("szczepanski", ("276450",)),
        ("", ()),
    ],
)
def test_known_codes(word, codes):
    assert dm_soundex(word) == codes


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_total_and_deterministic(text):
    codes = dm_soundex(text)
    assert codes == dm_soundex(text)
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) <= 4
