"""The world the records come from: kin groups, families, children, twins and cousins.

Records are generated from people, not the other way round, so the hard cases of real data
appear by themselves: siblings share parents' names and a village, twins share a date of
birth, cousins share a grandfather's name (patronymic cultures) or a surname and a village,
and unrelated children share common names because names follow Zipf-like popularity.

A kin group is a grandfather, a grandmother, their sons' nuclear families and a few
daughters (the children's aunts). Each person holds references to canonical name entries;
how a name is *written* is decided later, per record, in :mod:`variants`.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field

from kinlink.datasets.synthetic.cultures import Culture, NameEntry
from kinlink.datasets.synthetic.params import WorldParams


@dataclass(slots=True, eq=False)
class Person:
    """Someone with a name: a child, a parent, a relative, an ancestor known only by name."""

    sex: str
    given: tuple[NameEntry, ...]
    father: Person | None = None
    #: Family name(s). Spanish: (paternal, maternal). DRC: the "nom".
    surname: tuple[NameEntry, ...] = ()
    #: DRC "postnom".
    postnom: NameEntry | None = None
    #: A second, Burmese-style name (Rohingya children): syllables after the honorific.
    alt: tuple[NameEntry, ...] = ()
    nickname: str = ""
    dob: dt.date | None = None
    phone: str = ""


@dataclass(slots=True, eq=False)
class Child(Person):
    """A child of a nuclear family; ``uid`` is set once the child appears in a record."""

    uid: int = -1
    twin: bool = False
    national_id: str = ""
    unhcr_no: str = ""


@dataclass(slots=True, eq=False)
class Family:
    """Father, mother and their children, from one village; part of a kin group."""

    culture: Culture
    father: Person
    mother: Person
    children: list[Child]
    village: NameEntry
    grandfather: Person
    grandmother: Person
    uncles: list[Person] = field(default_factory=list)
    aunts: list[Person] = field(default_factory=list)


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: the means used here are small.
    limit = math.exp(-mean)
    k, p = 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _given(rng: random.Random, culture: Culture, sex: str) -> tuple[NameEntry, ...]:
    if culture.structure == "rohingya":
        first = culture.pool(f"{sex}1").draw(rng)
        second = culture.pool(f"{sex}2").draw(rng)
        while second.key == first.key:
            second = culture.pool(f"{sex}2").draw(rng)
        if rng.random() < 0.1:
            return (first, culture.pool(f"{sex}1").draw(rng), second)
        return (first, second)
    pool = culture.pool(sex)
    first = pool.draw(rng)
    if culture.structure == "spanish" and rng.random() < 0.4:
        second = pool.draw(rng)
        if second.key != first.key:
            return (first, second)
    return (first,)


def _ancestor(rng: random.Random, culture: Culture, depth: int) -> Person:
    """A man known only as part of someone's name chain (father's father's ...)."""
    father = _ancestor(rng, culture, depth - 1) if depth > 1 else None
    return Person(
        sex="male",
        given=(culture.pool("male" if "male" in culture.pools else "male1").draw(rng),),
        father=father,
    )


def _surname(rng: random.Random, culture: Culture) -> tuple[NameEntry, ...]:
    if "surnames" not in culture.pools:
        return ()
    if culture.structure == "afghan" and rng.random() >= culture.surname_rate:
        return ()
    return (culture.pool("surnames").draw(rng),)


def _adult(
    rng: random.Random,
    culture: Culture,
    sex: str,
    father: Person | None,
    surname: tuple[NameEntry, ...],
) -> Person:
    s = culture.structure
    postnom = culture.pool("surnames").draw(rng) if s == "drc" else None
    if s == "drc" and surname and rng.random() < 0.5:
        surname = (culture.pool("surnames").draw(rng),)
    return Person(
        sex=sex, given=_given(rng, culture, sex), father=father, surname=surname, postnom=postnom
    )


def _spouse(rng: random.Random, culture: Culture, husband: Person) -> Person:
    """A wife: her own father's chain, her own surname (Ukrainians take the husband's)."""
    her_father = _ancestor(rng, culture, 2)
    s = culture.structure
    if s == "ukrainian":
        surname = husband.surname if rng.random() < 0.85 else _surname(rng, culture)
    elif s == "spanish":
        surname = (culture.pool("surnames").draw(rng), culture.pool("surnames").draw(rng))
    elif s == "afghan":
        surname = husband.surname if rng.random() < 0.6 else ()
    else:
        surname = _surname(rng, culture)
    return _adult(rng, culture, "female", her_father, surname)


def _child_surname(
    rng: random.Random, culture: Culture, father: Person, mother: Person
) -> tuple[NameEntry, ...]:
    s = culture.structure
    if s == "spanish":
        return (father.surname[0], mother.surname[0])
    if s == "drc":
        # A Congolese child's nom is often chosen for them, not inherited.
        if father.surname and rng.random() < 0.5:
            return father.surname
        return (culture.pool("surnames").draw(rng),)
    return father.surname


def _nickname(rng: random.Random, culture: Culture, given: tuple[NameEntry, ...]) -> str:
    if rng.random() >= 0.45:
        return ""
    own = given[0].nicknames
    if own and (not culture.nicknames or rng.random() < 0.75):
        return rng.choice(own)
    return rng.choice(culture.nicknames) if culture.nicknames else ""


def _children(
    rng: random.Random,
    culture: Culture,
    father: Person,
    mother: Person,
    reference: dt.date,
    params: WorldParams,
) -> list[Child]:
    """Children with realistic spacing; ages at ``reference`` (the separation) are 0-17."""
    n = 1 + _poisson(rng, params.children_per_family_mean)
    age_days = int(rng.random() * 18 * 365.25)
    kids: list[Child] = []
    twin_entries: tuple[str, str, str, str] | None = None
    while len(kids) < n and age_days >= 0:
        dob = reference - dt.timedelta(days=age_days)
        births = 2 if rng.random() < params.twin_rate else 1
        if births == 2 and culture.twins and rng.random() < 0.25:
            twin_entries = rng.choice(culture.twins)
        for b in range(births):
            if twin_entries is not None:
                sex = twin_entries[2 * b]
                key = twin_entries[2 * b + 1]
                entry = culture.pool(sex).by_key.get(key) if sex in culture.pools else None
                given = (entry,) if entry else _given(rng, culture, sex)
            else:
                sex = "male" if rng.random() < 0.51 else "female"
                given = _given(rng, culture, sex)
            # Siblings rarely share a first name; redraw once if they do.
            if any(k.given[0] is given[0] for k in kids):
                given = _given(rng, culture, sex)
            child = Child(
                sex=sex,
                given=given,
                father=father,
                surname=_child_surname(rng, culture, father, mother),
                postnom=culture.pool("surnames").draw(rng) if culture.structure == "drc" else None,
                dob=dob,
                twin=births == 2,
            )
            if culture.structure == "rohingya" and rng.random() < 0.4:
                pool = culture.pool(f"burmese_{sex}")
                child.alt = tuple(pool.draw(rng) for _ in range(1 + (rng.random() < 0.7)))
            child.nickname = _nickname(rng, culture, given)
            if rng.random() < culture.national_id:
                child.national_id = str(rng.randrange(10**9, 10**10))
            kids.append(child)
        twin_entries = None
        age_days -= int(365.25 * (1.2 + rng.random() * 3.0))
    return kids


def kin_group(
    rng: random.Random,
    culture: Culture,
    reference: dt.date,
    params: WorldParams,
) -> list[Family]:
    """One grandfather's descendants: 1+ sons' families (cousins) and the sons' sisters."""
    grandfather = _adult(rng, culture, "male", _ancestor(rng, culture, 2), _surname(rng, culture))
    if culture.structure == "spanish":
        grandfather.surname = (
            culture.pool("surnames").draw(rng),
            culture.pool("surnames").draw(rng),
        )
    grandmother = _spouse(rng, culture, grandfather)
    home = culture.pool("places").draw(rng)
    n_sons = 1 + _poisson(rng, params.families_per_kin_group_mean)

    def son_surname() -> tuple[NameEntry, ...]:
        if culture.structure == "spanish":
            return (grandfather.surname[0], grandmother.surname[0])
        return grandfather.surname

    sons = [_adult(rng, culture, "male", grandfather, son_surname()) for _ in range(n_sons)]
    aunts = [
        _adult(rng, culture, "female", grandfather, son_surname())
        for _ in range(_poisson(rng, 1.0))
    ]
    families: list[Family] = []
    for son in sons:
        wife = _spouse(rng, culture, son)
        village = home if rng.random() < 0.8 else culture.pool("places").draw(rng)
        kids = _children(rng, culture, son, wife, reference, params)
        families.append(
            Family(
                culture=culture,
                father=son,
                mother=wife,
                children=kids,
                village=village,
                grandfather=grandfather,
                grandmother=grandmother,
                uncles=[s for s in sons if s is not son],
                aunts=aunts,
            )
        )
    return families
