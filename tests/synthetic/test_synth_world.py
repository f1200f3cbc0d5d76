"""The world model: twins, siblings, cousins and name chains, checked on people directly."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from kinlink.datasets.synthetic import CULTURE_IDS, WorldParams, load_cultures
from kinlink.datasets.synthetic.families import kin_group

REF = dt.date(2023, 6, 1)


def _groups(culture_id: str, n: int, **world: float):
    culture = load_cultures()[culture_id]
    params = WorldParams(**world)
    return [kin_group(random.Random(f"t:{i}"), culture, REF, params) for i in range(n)]


@pytest.mark.parametrize("culture_id", CULTURE_IDS)
def test_twins_share_birth_date_and_parents(culture_id):
    seen = 0
    for families in _groups(culture_id, 40, twin_rate=0.5):
        for fam in families:
            twins = [c for c in fam.children if c.twin]
            by_dob: dict[dt.date, list] = {}
            for c in twins:
                by_dob.setdefault(c.dob, []).append(c)
            for pair in by_dob.values():
                assert len(pair) == 2
                assert pair[0].father is pair[1].father is fam.father
                seen += 1
    assert seen > 5


@pytest.mark.parametrize("culture_id", CULTURE_IDS)
def test_children_are_minors_with_their_parents(culture_id):
    for families in _groups(culture_id, 30):
        for fam in families:
            assert fam.children
            for c in fam.children:
                assert c.father is fam.father
                assert c.dob is not None and 0 <= (REF - c.dob).days < 18 * 366


def test_cousins_share_grandfather_and_village_mostly():
    shared_village = total = 0
    for families in _groups("sudan_chad", 200, families_per_kin_group_mean=1.5):
        if len(families) < 2:
            continue
        gf = families[0].grandfather
        for fam in families:
            # patronymic chain: the cousins' third name is the same grandfather
            assert fam.father.father is gf
            for c in fam.children:
                assert c.father.father is gf
        total += 1
        shared_village += len({id(f.village) for f in families}) == 1
    assert total > 20 and shared_village / total > 0.5


@pytest.mark.parametrize("culture_id", ["syrian", "ukrainian", "spanish"])
def test_surname_cultures_pass_the_family_name_on(culture_id):
    for families in _groups(culture_id, 30):
        for fam in families:
            for c in fam.children:
                assert c.surname[0] is fam.father.surname[0]
                if culture_id == "spanish":
                    assert c.surname[1] is fam.mother.surname[0]


def test_rohingya_children_may_have_two_names():
    alt = sum(bool(c.alt) for fs in _groups("rohingya", 60) for f in fs for c in f.children)
    assert alt > 10


def test_name_popularity_is_zipf_like():
    culture = load_cultures()["somali"]
    rng = random.Random(1)
    counts: dict[str, int] = {}
    for _ in range(5000):
        key = culture.pool("male").draw(rng).key
        counts[key] = counts.get(key, 0) + 1
    ranked = sorted(counts.values(), reverse=True)
    assert ranked[0] > 4 * ranked[-1]
    assert max(counts, key=counts.get) == "Mohamed"
