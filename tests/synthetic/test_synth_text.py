"""Transliteration and typo helpers: known values and robustness on any text."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinlink.datasets.synthetic.cultures import load_cultures
from kinlink.datasets.synthetic.translit import SYSTEMS, strip_accents, transliterate
from kinlink.datasets.synthetic.variants import typo


@pytest.mark.parametrize(
    ("cyrillic", "system", "latin"),
    [
        ("Олександр", "nat", "Oleksandr"),
        ("Олександр", "de", "Olexandr"),
        ("Олександр", "pl", "Ołeksandr"),
        ("Александр", "ru", "Aleksandr"),
        ("Шевченко", "de", "Schewtschenko"),
        ("Шевченко", "pl", "Szewczenko"),
        ("Шевченко", "fr", "Chevtchenko"),
        ("Євген", "nat", "Yevhen"),
        ("Анастасія", "nat", "Anastasiia"),
        ("Анастасія", "bgn", "Anastasiya"),
        ("Запоріжжя", "nat", "Zaporizhzhia"),
        ("Юрій", "nat", "Yurii"),
    ],
)
def test_known_transliterations(cyrillic, system, latin):
    assert transliterate(cyrillic, system) == latin


def test_strip_accents():
    assert strip_accents("José Grâce Exaucé Ołeksandr") == "Jose Grace Exauce Oleksandr"


@given(st.text(max_size=40), st.sampled_from(SYSTEMS))
def test_transliterate_any_text(text, system):
    out = transliterate(text, system)
    assert isinstance(out, str)


@given(st.text(max_size=40), st.integers(0, 2**32))
def test_typo_any_text(text, seed):
    out = typo(random.Random(seed), text)
    assert isinstance(out, str)
    if len(text) >= 4:
        assert abs(len(out) - len(text)) <= 1
        assert out[:1] == text[:1]


def test_every_culture_file_is_well_formed():
    for culture in load_cultures().values():
        assert culture.operations and culture.pools["places"].entries
        for table in culture.pools.values():
            for entry in table.entries:
                assert entry.spellings and all(w > 0 for w in entry.weights), entry.key
                assert all(s.strip() == s and s for s in entry.spellings), entry.key
        for a_sex, _a, b_sex, _b in culture.twins:
            assert a_sex in ("male", "female") and b_sex in ("male", "female")
