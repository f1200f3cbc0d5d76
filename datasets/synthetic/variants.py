"""How field staff write names: spellings, scripts, name order, dropped parts, typos.

A :class:`Writer` is one record's author: an agency with its habits (francophone spellings in
Chad, Somali official orthography in Somalia, Polish transliteration in Poland, Arabic script
in Egypt, surname first in Congo) plus the choices made for this record. Every record of the
same child is written by a different writer, which is where most variation comes from;
typos, dropped grandfathers, swapped fields and nicknames come on top.

Nothing here imports :mod:`kinlink.phonetics`: the variants must not be made by the code that
is later graded on undoing them.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

from kinlink.datasets.synthetic.cultures import (
    SCHOOL_BOOST,
    TRANSLIT_WEIGHTS,
    Culture,
    NameEntry,
    Operation,
    pick,
)
from kinlink.datasets.synthetic.families import Person
from kinlink.datasets.synthetic.params import NoiseParams
from kinlink.datasets.synthetic.translit import strip_accents, transliterate

_SIMILAR: dict[str, str] = {
    "a": "eo", "e": "ai", "i": "ey", "o": "ua", "u": "oi", "y": "ie",
    "b": "p", "p": "b", "d": "t", "t": "d", "k": "cq", "c": "k", "q": "k", "g": "kj",
    "j": "gy", "s": "zc", "z": "s", "m": "n", "n": "m", "l": "r", "r": "l", "h": "",
    "f": "v", "v": "wf", "w": "v", "x": "ks",
}  # fmt: skip


def typo(rng: random.Random, text: str) -> str:
    """One slip of hand or ear: drop, double, swap or replace a letter (never the first)."""
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text))
    ch = text[i]
    r = rng.random()
    if r < 0.3:
        return text[:i] + text[i + 1 :]
    if r < 0.5:
        return text[:i] + ch + text[i:]
    if r < 0.7 and i >= 2:
        return text[: i - 1] + ch + text[i - 1] + text[i + 1 :]
    alts = _SIMILAR.get(ch.lower())
    if not alts:
        return text[:i] + text[i + 1 :]
    rep = rng.choice(alts)
    return text[:i] + (rep.upper() if ch.isupper() else rep) + text[i + 1 :]


@dataclass(frozen=True, slots=True)
class _AgencyHabit:
    strip_accents: float
    surname_first: float
    upper_surname: float
    latin_order_surname_first: float


@functools.cache
def _habit(agency: str, school: str) -> _AgencyHabit:
    """An agency's stable habits, derived from its name so every dataset agrees on them."""
    r = random.Random(f"habit:{agency}")
    return _AgencyHabit(
        strip_accents=(0.85 if school == "en" else 0.25) * (0.6 + 0.8 * r.random()),
        surname_first=(0.65 if school == "fr" else 0.2) * (0.6 + 0.8 * r.random()),
        upper_surname=0.4 + 0.5 * r.random(),
        latin_order_surname_first=0.1 * r.random(),
    )


@dataclass(frozen=True, slots=True)
class Writer:
    """Who writes this record and how: the agency's habits plus this record's choices."""

    agency: str
    operation: Operation
    school: str
    #: Dominant spelling system of this record (a transliteration system, ``fr``, ``so``...).
    tag: str
    native: bool
    #: Use the alternative native form (Russian Cyrillic for a Ukrainian name).
    native_alt: bool
    strip: bool
    surname_first: bool
    upper_surname: bool
    noise: NoiseParams


def _translit_tag(rng: random.Random, school: str) -> str:
    systems = tuple(TRANSLIT_WEIGHTS)
    weights = [TRANSLIT_WEIGHTS[s] * (SCHOOL_BOOST if s == school else 1.0) for s in systems]
    return rng.choices(systems, weights)[0]


def make_writer(
    rng: random.Random, culture: Culture, operation: Operation, agency: str, noise: NoiseParams
) -> Writer:
    """The writer of one record at ``agency`` in ``operation``."""
    school = operation.school
    habit = _habit(agency, school)
    if culture.translit:
        tag = _translit_tag(rng, school)
    elif rng.random() < 0.7:
        tag = school
    else:
        tag = ""
    native = bool(culture.native_script) and rng.random() < operation.native
    return Writer(
        agency=agency,
        operation=operation,
        school=school,
        tag=tag,
        native=native,
        native_alt=native and rng.random() < (0.15 if operation.country != "Moldova" else 0.5),
        strip=rng.random() < habit.strip_accents,
        surname_first=rng.random() < habit.surname_first,
        upper_surname=rng.random() < habit.upper_surname,
        noise=noise,
    )


def latin_copy(wr: Writer) -> Writer:
    """The same writer, writing in Latin script (for the Latin name some native records add)."""
    return Writer(
        agency=wr.agency,
        operation=wr.operation,
        school=wr.school,
        tag=wr.tag,
        native=False,
        native_alt=False,
        strip=wr.strip,
        surname_first=wr.surname_first,
        upper_surname=wr.upper_surname,
        noise=wr.noise,
    )


def write(entry: NameEntry, wr: Writer, rng: random.Random) -> str:
    """One name token as this writer writes it."""
    if wr.native and entry.native:
        n = entry.native
        return n[1] if wr.native_alt and len(n) > 1 else n[0]
    s = entry.spell(rng, wr.school, wr.tag)
    if wr.strip:
        s = strip_accents(s)
    if rng.random() < wr.noise.typo_rate:
        s = typo(rng, s)
    return s


def write_text(text: str, wr: Writer, rng: random.Random, cyrillic: bool = False) -> str:
    """A free-text name part (nickname, patronymic) in the writer's script and system."""
    if cyrillic and not wr.native:
        text = transliterate(text, wr.tag if wr.tag else "nat")
    if wr.strip:
        text = strip_accents(text)
    return text


def _patronymic(person: Person, wr: Writer, rng: random.Random) -> str:
    father = person.father
    if father is None:
        return ""
    extra = father.given[0].extra
    use_ru = (wr.native and wr.native_alt) or (not wr.native and wr.tag == "ru")
    forms = extra.get("rupat" if use_ru else "pat") or extra.get("pat", "")
    if not forms:
        return ""
    male, _, female = forms.partition("/")
    return write_text(male if person.sex == "male" else female, wr, rng, cyrillic=True)


def _surname(person: Person, entry: NameEntry, wr: Writer, rng: random.Random) -> str:
    fem = entry.extra.get("fem")
    if fem and person.sex == "female":
        return write_text(fem, wr, rng, cyrillic=True)
    return write(entry, wr, rng)


def _upper(text: str, wr: Writer) -> str:
    return text.upper() if wr.upper_surname else text


def _burmese(person: Person, wr: Writer, rng: random.Random) -> str:
    syllables = [write(e, wr, rng) for e in person.alt]
    if wr.native:
        return ("မောင်" if person.sex == "male" else "မ") + "".join(syllables)
    honorific = rng.choice(("Maung", "Maung", "Mg", "Mg.")) if person.sex == "male" else "Ma"
    return " ".join([honorific, *syllables])


#: (name, first, middle, last, other) as written.
Parts = tuple[str, str, str, str, str]


def child_name(
    person: Person, culture: Culture, wr: Writer, rng: random.Random, drop_gf: float
) -> Parts:
    """The child's name fields as one writer fills them in."""
    s = culture.structure
    given = " ".join(write(e, wr, rng) for e in person.given)
    first, middle, last, other = given, "", "", ""
    full: list[str]
    if s == "chain":
        father = person.father
        f = write(father.given[0], wr, rng) if father else ""
        gf_person = father.father if father else None
        gf = write(gf_person.given[0], wr, rng) if gf_person else ""
        if gf and rng.random() < drop_gf:
            gf = ""
        if gf:
            middle, last = f, gf
        else:
            last = f
        full = [given, f, gf]
    elif s == "syrian":
        f = write(person.father.given[0], wr, rng) if person.father else ""
        sur = write(person.surname[0], wr, rng) if person.surname else ""
        if rng.random() < 0.35:
            f = ""
        middle, last = f, sur
        full = [given, f, sur]
    elif s == "ukrainian":
        pat = _patronymic(person, wr, rng)
        sur = _surname(person, person.surname[0], wr, rng) if person.surname else ""
        if wr.native:
            if rng.random() < 0.15:
                pat = ""
            full = [sur, given, pat] if rng.random() < 0.7 else [given, pat, sur]
        else:
            if rng.random() < 0.75:
                pat = ""
            full = [given, pat, sur]
        middle, last = pat, sur
    elif s == "afghan":
        sur = write(person.surname[0], wr, rng) if person.surname else ""
        f = write(person.father.given[0], wr, rng) if person.father else ""
        full = [given]
        if sur and rng.random() < 0.85:
            last = sur
            full.append(sur)
        elif f and rng.random() < 0.45:
            # Forms that demand a last name get the father's given name.
            last = f
            full.append(f)
        elif f and rng.random() < 0.1:
            full += ["s/o" if person.sex == "male" else "d/o", f]
            middle = f
    elif s == "drc":
        sur = write(person.surname[0], wr, rng) if person.surname else ""
        post = write(person.postnom, wr, rng) if person.postnom else ""
        if rng.random() < 0.2:
            post = ""
        if wr.surname_first:
            full = [_upper(sur, wr), _upper(post, wr), given]
            if rng.random() < 0.15:
                # Nom taken for the first name by a form that expects "first last".
                first, last = _upper(sur, wr), given
                middle = post
            else:
                middle, last = post, sur
        else:
            full = [given, sur, post]
            middle, last = post, sur
    elif s == "rohingya":
        words = given.split(" ")
        if rng.random() < 0.5 or len(words) == 1:
            first = given
        else:
            first, last = words[0], " ".join(words[1:])
        full = [given]
        if person.alt:
            alt = _burmese(person, wr, rng)
            if wr.native:
                # Myanmar documents: the Burmese name is the name; the other goes to name_other.
                latin = " ".join(write(e, latin_copy(wr), rng) for e in person.given)
                full, first, last, other = [alt], alt, "", latin
            elif rng.random() < 0.5:
                other = alt
            elif rng.random() < 0.15:
                full, first, last, other = [alt], alt, "", given
    elif s == "spanish":
        names = [write(e, wr, rng) for e in person.given]
        if len(names) > 1 and rng.random() < 0.3:
            names = names[:1]
        pat = write(person.surname[0], wr, rng)
        mat = write(person.surname[1], wr, rng) if len(person.surname) > 1 else ""
        if rng.random() < (0.5 if wr.school == "en" else 0.2):
            mat = ""
        if mat and wr.school == "en" and rng.random() < 0.3:
            surnames = f"{pat}-{mat}"
        else:
            surnames = " ".join(x for x in (pat, mat) if x)
        if len(names) > 1 and rng.random() < 0.3:
            first, middle = names[0], names[1]
        else:
            first = " ".join(names)
        last = surnames
        full = [*names, surnames]
    else:  # pragma: no cover - cultures are validated by the tests
        raise ValueError(f"unknown name structure {s!r}")
    name = " ".join(p for p in full if p)
    return name, first, middle, last, other


def adult_name(person: Person, culture: Culture, wr: Writer, rng: random.Random) -> str:
    """A parent's, inquirer's or caregiver's full name as one writer writes it."""
    s = culture.structure
    given = " ".join(write(e, wr, rng) for e in person.given)
    if s == "chain":
        parts = [given]
        if person.father:
            parts.append(write(person.father.given[0], wr, rng))
            if person.father.father and rng.random() < 0.4:
                parts.append(write(person.father.father.given[0], wr, rng))
        return " ".join(parts)
    if s in ("syrian", "afghan"):
        parts = [given]
        if person.father and rng.random() < (0.4 if s == "syrian" else 0.3):
            parts.append(write(person.father.given[0], wr, rng))
        if person.surname:
            parts.append(write(person.surname[0], wr, rng))
        return " ".join(parts)
    if s == "ukrainian":
        sur = _surname(person, person.surname[0], wr, rng) if person.surname else ""
        if wr.native:
            pat = _patronymic(person, wr, rng)
            return " ".join(p for p in (sur, given, pat) if p)
        return " ".join(p for p in (given, sur) if p)
    if s == "drc":
        sur = write(person.surname[0], wr, rng) if person.surname else ""
        post = write(person.postnom, wr, rng) if person.postnom else ""
        if wr.surname_first:
            return " ".join(p for p in (_upper(sur, wr), _upper(post, wr), given) if p)
        return " ".join(p for p in (given, sur) if p)
    if s == "rohingya":
        return given
    if s == "spanish":
        parts = [given] + [write(e, wr, rng) for e in person.surname[:1]]
        if len(person.surname) > 1 and rng.random() < 0.6:
            parts.append(write(person.surname[1], wr, rng))
        return " ".join(parts)
    raise ValueError(f"unknown name structure {s!r}")  # pragma: no cover


def nickname(person: Person, culture: Culture, wr: Writer, rng: random.Random) -> str:
    """The child's nickname as written (Ukrainian diminutives are Cyrillic at source)."""
    nick = person.nickname
    if not nick:
        return ""
    return write_text(nick, wr, rng, cyrillic=culture.translit)


def place(entry: NameEntry, wr: Writer, rng: random.Random) -> str:
    """A village or town as written: spelling variants, sometimes native script."""
    return write(entry, wr, rng)


def weighted(rng: random.Random, table: tuple[tuple[str, ...], list[float]]) -> str:
    """A value from a (values, cumulative weights) table of a culture file."""
    return pick(rng, table[0], table[1])
