"""The prepare step: every piece of per-record Python work, done once.

Comparisons and blocking are SQL over the columns produced here, so that the same
prepared table can be scored by Splink on DuckDB today and on Spark later (issue 8)
without re-running phonetics inside the database. All name handling (romanisation,
normalisation, nickname resolution, phonetic keys) comes from ``kinlink.phonetics``;
this module only decides *which* record fields feed which prepared column.

Input contract: a DataFrame of record-format-v1 columns as strings, ``None`` or ``""``
for missing (what ``kinlink.ingest`` produces, or ``pandas.read_csv(dtype=str)``).
Missing columns are treated as empty, so FEBRL-shaped inputs mapped to v1 work too.
"""

from __future__ import annotations

import gc
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from pandas.core.dtypes.cast import maybe_box_native

from kinlink import phonetics
from kinlink.ingest.columns import RECORD_COLUMNS

#: Prepared columns, in order. Lists are arrays of strings; ``*_lo``/``*_hi`` are ints.
PREPARED_COLUMNS: tuple[str, ...] = (
    "record_id",
    "record_type",
    "agency",
    "consent",
    "name_tokens",
    "name_all",
    "name_sorted",
    "name_keys",
    "name_rare",
    "given",
    "given_first",
    "given_keys",
    "given_known",
    "rest_tokens",
    "rest_keys",
    "rest_sorted",
    "sex",
    "dob",
    "dob_ym",
    "by_lo",
    "by_hi",
    "mother_tokens",
    "mother_keys",
    "father_tokens",
    "father_keys",
    "father_given",
    "lineage",
    "caregiver_tokens",
    "relatives_tokens",
    "relatives_keys",
    "place_tokens",
    "place_keys",
    "origin",
    "place_history",
    "sep_date",
    "ids",
    "id_types",
    "phones",
    "nationality",
    "block_keys",
)

#: A name token is "common" (its agreement is worth little) when at least this share
#: of records carry it, and at least ``RARE_MIN_COUNT`` do.
COMMON_TOKEN_SHARE = 0.002
RARE_MIN_COUNT = 5

#: inquirer_relation values that name the sought child's mother or father; any other
#: relation (aunt, grandmother, brother, neighbour...) goes to the caregiver slot.
_MOTHER = {"mother", "mom", "mum", "mama", "stepmother", "step-mother", "step mother"}
_FATHER = {"father", "dad", "papa", "baba", "stepfather", "step-father", "step father"}

#: Nationality as agencies write it (demonym, country, ISO code, French/German/
#: Spanish/Polish forms) -> ISO 3166 alpha-3, so "Somali", "Somalia", "SOM" and
#: "Soomaali" agree. Unknown values compare as written (normalised).
_NATIONALITY = {
    "AFG": "afghan afghanistan afg afghanisch afghane",
    "COD": "congolese congolaise congolais rdc drc cod drcongo",
    "ETH": "ethiopian ethiopia eth ethiopienne ethiopien",
    "ERI": "eritrean eritrea eri erythreenne",
    "MMR": "myanmar mmr burmese rohingya forciblydisplacedmyanmarnational",
    "SOM": "somali somalia som soomaali somalienne",
    "VEN": "venezuelan venezolana venezolano venezuela ven",
    "SDN": "sudanese sudan sdn soudanaise soudanais",
    "TCD": "chadian chad tchad tchadienne tchadien tcd",
    "SYR": "syrian syria syr syrienne syrien",
    "UKR": "ukrainian ukraine ukr ukrainska ukrainisch ukrainienne",
}
_NATIONALITY_OF = {form: iso for iso, forms in _NATIONALITY.items() for form in forms.split()}
#: Written where a nationality is unknown or contested: says nothing about the child.
_NO_NATIONALITY = {"stateless", "unknown", "none", "na", "nk"}

_ID_COLUMNS = {"unhcr_individual_no": "unhcr", "icrc_ref_no": "icrc", "national_id_no": "nid"}
_LOCATION_COLUMNS = ("location_origin", "location_separation", "location_current")
_NON_ALNUM = re.compile(r"[^0-9A-Za-z]")
_DIGITS = re.compile(r"\D")
_NUMBER = re.compile(r"(\d+)")  # any script's digits (Arabic-Indic too)


@dataclass(frozen=True)
class _Name:
    """One name field, encoded: canonical tokens (order kept) and their phonetic keys.

    ``spelled`` pairs each canonical token with the keys of the spellings written for
    it ("Osman" keeps DM ``ASMN``, which its canonical "uthman" loses).
    """

    tokens: tuple[str, ...]
    keys: frozenset[str]
    spelled: tuple[tuple[str, frozenset[str]], ...] = ()


_EMPTY = _Name((), frozenset())


@lru_cache(maxsize=200_000)
def _token(token: str) -> tuple[str, frozenset[str]]:
    canon = phonetics.canonical_token(token)
    keys = phonetics.token_keys(canon)
    if canon != token:
        keys = keys | phonetics.token_keys(token)
    return canon, frozenset(keys)


def token_keys(canonical: str) -> frozenset[str]:
    """Phonetic keys of one canonical token (cached), for blocking rules."""
    return _token(canonical)[1]


@lru_cache(maxsize=500_000)
def encode(text: str | None) -> _Name:
    """Canonical tokens and phonetic keys of one name (cached: names repeat a lot)."""
    if not text:
        return _EMPTY
    spelled: dict[str, frozenset[str]] = {}
    keys: set[str] = set()
    for raw in phonetics.name_tokens(text):
        canon, tkeys = _token(raw)
        if canon:
            spelled[canon] = spelled.get(canon, frozenset()) | tkeys
        keys |= tkeys
    return _Name(tuple(spelled), frozenset(keys), tuple(spelled.items()))


@lru_cache(maxsize=200_000)
def _place(text: str | None) -> _Name:
    """Places are tokenised like names but without nickname resolution, and their
    numbers are kept as tokens (leading zeros dropped), where they stand: a street
    number, a camp ("Camp 4" is not "Camp 14") or a block is what tells two addresses
    in one street apart, and it survives the typos that break the street's name."""
    if not text:
        return _EMPTY
    parts: list[str] = []
    for i, segment in enumerate(_NUMBER.split(text)):
        if i % 2:
            digits = "".join(str(unicodedata.digit(c, 0)) for c in segment)
            parts.append(digits.lstrip("0") or "0")
        elif segment.strip():
            parts.extend(phonetics.name_tokens(segment))
    tokens = tuple(dict.fromkeys(parts))
    keys: set[str] = set()
    for tok in tokens:
        keys |= phonetics.token_keys(tok)
    return _Name(tokens, frozenset(keys))


@lru_cache(maxsize=200_000)
def lineage(text: str | None) -> tuple[str, ...]:
    """Father's and grandfather's given names carried in the child's own name.

    ``kinlink.phonetics.split_name`` knows the naming conventions (Somali/Arabic name
    chains, Slavic patronymics such as Petrovich -> petro); this is what lets a
    tracing request naming the father "Petro" meet a case registered as "Ivan
    Petrovich".
    """
    if not text:
        return ()
    try:
        structure = phonetics.split_name(text)
    except Exception:  # a name phonetics cannot structure: no lineage evidence
        return ()
    out = []
    for given in (structure.father, structure.grandfather):
        if given:
            canon = phonetics.canonical_token(given)
            if canon not in out:
                out.append(canon)
    return tuple(out)


_CASED = re.compile(r"[A-Za-z\u00c0-\u024f]")


@lru_cache(maxsize=1 << 16)
def _is_capitals(word: str) -> bool:
    """A written word in capitals (``KAMBALE``): the family part in DRC/Ukrainian forms."""
    letters = _CASED.findall(word)
    return len(letters) >= 2 and all(c.isupper() for c in letters)


@lru_cache(maxsize=200_000)
def given_of_name(text: str | None) -> str | None:
    """The canonical given name of a full name as written, or None.

    Forms that write the family part in CAPITALS (DRC ``KAMBALE KASONGO Sarah``,
    Ukrainian ``TKACHUK Anastasiya``) give it away: the given name is among the
    other words. Otherwise ``kinlink.phonetics.split_name`` knows the convention
    (name chains start with the given name; a Slavic patronymic follows it, so
    ``Бондаренко Андрій Андрійович`` gives Andrii).
    """
    if not text:
        return None
    words = text.split()
    caps = [_is_capitals(w) for w in words]
    if any(caps) and not all(caps):
        text = " ".join(w for w, c in zip(words, caps, strict=True) if not c)
    try:
        structure = phonetics.split_name(text)
    except Exception:  # a name phonetics cannot structure
        return None
    given = structure.given
    tokens = structure.tokens
    if given and structure.convention != "chain" and len(tokens) > 1 and given == tokens[0]:
        words = text.split()
        after = _given_after_surname(words) or _prenom_last(words)
        given = after or given
    return phonetics.canonical_token(given) if given else None


def _prenom_last(words: list[str]) -> str | None:
    """The prénom of a Congolese NOM POSTNOM Prénom name typed without capitals.

    Only when the last word is a given name of the curated table's DRC section (a
    French, Christian or Swahili prénom: ``Tshimanga Cirhuza Emmanuel``) and the first
    word is no known given name: "Fama Abdallah" stays Fama.
    """
    if len(words) < 2 or _known_given(words[0]):
        return None
    tokens = encode(words[-1]).tokens  # "Jean-Pierre": its first part, jean
    if not tokens:
        return None
    last = tokens[0]
    if phonetics.nicknames.is_known(last) and phonetics.nicknames.culture_of(last) == "drc":
        return last
    return None


#: Endings of East Slavic family names as written or romanised (Kravchenko, Tkachuk,
#: Kovalskyi, Ivanov, Petrova, Ivaniv, Shvets, Boiko). Read on the word as written
#: (romanised, not normalised: normalising turns Matthew into "mathev"). Given names
#: with these endings are rare, and a known given name is never read as a family name.
_SLAVIC_FAMILY = re.compile(
    r"(?:enko|chuk|czuk|tschuk|uk|ko|ov|ova|ev|eva|iv|yv|skyi|skiy|skyj|ski|sky|ska|skaya"
    r"|ets|iak|yak)$"
)


@lru_cache(maxsize=1 << 16)
def _known_given(word: str) -> bool:
    return phonetics.nicknames.is_known(phonetics.canonical_token(word))


@lru_cache(maxsize=1 << 16)
def _slavic_family(word: str) -> bool:
    letters = "".join(c for c in phonetics.romanize(word).lower() if c.isalpha())
    return len(letters) >= 4 and bool(_SLAVIC_FAMILY.search(letters)) and not _known_given(word)


def _given_after_surname(words: list[str]) -> str | None:
    """The given name of a surname-first name (``Кравченко Назар``), or None.

    Only when the first word looks like an East Slavic family name and is not a known
    given name: then the first later word that is a known given name, else (in Cyrillic
    only, where a Latin name's typo cannot look like a family name) the first later
    word that does not look like a family name.
    """
    if len(words) < 2 or not _slavic_family(words[0]):
        return None
    later = words[1:]
    for word in later:
        if _known_given(word):
            return word
    if phonetics.detect_script(" ".join(words)) != "Cyrillic":
        return None
    for word in later:
        if not _slavic_family(word):
            return word
    return None


def _given(row: Mapping[str, Any]) -> list[str]:
    """The child's given-name candidates, primary first (canonical tokens).

    Siblings share everything but the given name (parents, village, and in name-chain
    cultures two of three name tokens), so the given name is compared on its own.
    Candidates: the given name read from ``name``, the first token of ``name_first``
    (agencies that fill the structured fields), and the given name of each
    alternative writing in ``name_other`` (a Latin rendering of a native-script name).
    """
    return _given_of(
        _clean(row.get("name")), _clean(row.get("name_first")), _clean(row.get("name_other"))
    )


def _given_of(name: str | None, first: str | None, other: str | None) -> list[str]:
    """:func:`_given` of the cleaned ``name``, ``name_first`` and ``name_other``."""
    out: list[str] = []
    sources = [name, first]
    sources += _split_multi(other)
    for i, text in enumerate(sources):
        if i == 1 and text:
            if _is_family_in_capitals(text, name):
                # A form that writes family names in CAPITALS, with the family name
                # typed into name_first (``KAMBALE`` / ``Jean-Pierre``): not a given name.
                continue
            toks = encode(text).tokens
            given = toks[0] if toks else None
        else:
            given = given_of_name(text)
        if given and given not in out:
            out.append(given)
    return out


def _is_family_in_capitals(first: str, name: str | None) -> bool:
    """``first`` holds only words the full ``name`` writes in CAPITALS (its family part).

    ``name`` must mix capitals and other words, as DRC and Ukrainian forms do
    (``ILUNGA Jean-Pierre``); then a ``name_first`` of ``Ilunga`` or ``ILUNGA`` is the
    family name typed into the wrong field.
    """
    if not name:
        return False
    words = [w for w in name.split() if _CASED.search(w)]
    caps = [w for w in words if _is_capitals(w)]
    if not caps or len(caps) == len(words):
        return False
    family = set(encode(" ".join(caps)).tokens)
    mine = encode(first).tokens
    return bool(mine) and all(t in family for t in mine)


def _compound_words(given: Sequence[str], *texts: str | None) -> list[str]:
    """Hyphenated words of ``texts`` that hold a given name (``Jean-Pierre``)."""
    return [
        word
        for text in texts
        if text and "-" in text
        for word in text.split()
        if "-" in word and any(t in given for t in encode(word).tokens)
    ]


def _compound_given(given: Sequence[str], *texts: str | None) -> set[str]:
    """Tokens of hyphenated words that hold a given name (``Jean-Pierre``: jean, piere).

    The second part of a compound given name is the given name too, not the family
    part: read as family, "KAMBALE Jean-Pierre" and "ILUNGA Jean-Pierre" would agree
    on their "family name" piere.
    """
    return {t for word in _compound_words(given, *texts) for t in encode(word).tokens}


def _joined_compounds(given: Sequence[str], *texts: str | None) -> list[str]:
    """The joined spelling of each hyphenated given name (``Jean-Pierre``: jeanpierre).

    Caseworkers write a compound given name with the hyphen, with a space or as one
    word ("Jeanpierre"); the one-word form is one token that shares nothing with
    "jean" or "piere", so the joined form is kept as one more given-name candidate.
    """
    out: list[str] = []
    for word in _compound_words(given, *texts):
        joined = given_of_name(word.replace("-", ""))
        if joined and joined not in given and joined not in out:
            out.append(joined)
    return out


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    text = str(value).strip()
    return text or None


def parse_date(text: str | None) -> tuple[int, int | None, int | None] | None:
    """(year, month, day) from ISO full/partial dates or FEBRL's YYYYMMDD; else None."""
    if not text:
        return None
    digits = text.strip()
    m = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", digits)
    if m is None:
        m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", digits)
    if m is None:
        m2 = re.fullmatch(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})", digits)
        if m2 is None:
            return None
        return int(m2.group(3)), int(m2.group(2)), int(m2.group(1))
    year = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else None
    day = int(m.group(3)) if m.group(3) else None
    if year < 1800 or year > 2200:
        return None
    return year, month, day


def _estimate_margin(age: float) -> int:
    """How many years either side an *estimated* age may be wrong.

    Caseworkers estimate young children's ages within a year or so and teenagers'
    within two to three; the interval widens with age accordingly.
    """
    if age < 5:
        return 1
    if age < 12:
        return 2
    return 3


def birth_interval(
    dob: str | None, age: str | None, registration_date: str | None, estimated: str | None
) -> tuple[int | None, int | None]:
    """The birth-year interval a record supports, or (None, None).

    An exact date of birth gives one year. An age at registration gives two years (the
    birthday may or may not have passed), widened when the age is ``estimated``. A
    year-only date of birth that is marked estimated is widened like an age.
    """
    is_estimated = (estimated or "").strip().lower() in {"true", "1", "yes", "y"}
    parsed = parse_date(dob)
    if parsed is not None:
        year, month, _ = parsed
        if is_estimated and month is None:
            return year - 1, year + 1
        return year, year
    try:
        age_value = float(age) if age else None
    except ValueError:
        age_value = None
    reg = parse_date(registration_date)
    # "nan" and "inf" parse as floats but are no age (not (0 <= nan <= 120) is true).
    if age_value is None or reg is None or not 0 <= age_value <= 120:
        return None, None
    lo = reg[0] - int(age_value) - 1
    hi = reg[0] - int(age_value)
    if is_estimated:
        margin = _estimate_margin(age_value)
        lo, hi = lo - margin, hi + margin
    return lo, hi


def _ids(row: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    return _ids_of(_id_value(_clean(row.get(c))) for c in _ID_COLUMNS)


@lru_cache(maxsize=200_000)
def normalise_phone(text: str | None) -> str | None:
    """A phone number's comparison key: the last 9 digits of its national number.

    Agencies write the same number as ``+256 772 123456``, ``0772123456`` or
    ``00256772123456``; without knowing each agency's default region, the national
    significant number's tail is what they have in common. ``phonenumbers`` parses the
    international forms (E.164) so the country code never leaks into the tail.
    """
    if not text:
        return None
    raw = text.strip()
    digits = _DIGITS.sub("", raw)
    if raw.startswith("00"):
        raw = "+" + digits[2:]
    if raw.startswith("+"):
        try:
            import phonenumbers

            num = phonenumbers.parse(raw, None)
            digits = str(num.national_number)
        except Exception:  # unparseable: fall back to the digits
            pass
    digits = digits.lstrip("0")
    if len(digits) < 6:
        return None
    return digits[-9:]


def _drop_placeholder_day(dob: str | None, estimated: str | None) -> str | None:
    """An *estimated* date of birth on 1 January is a year written as a date.

    Registration forms demand a full date, so estimated births are entered as
    ``YYYY-01-01``; comparing those as exact dates would make every child "born" on
    New Year's Day agree. Keep the year only (an estimated year, widened later).
    """
    if dob and (estimated or "").strip().lower() == "true":
        parsed = parse_date(dob)
        if parsed is not None and parsed[1] == 1 and parsed[2] == 1:
            return f"{parsed[0]:04d}"
    return dob


@lru_cache(maxsize=10_000)
def _nationality(text: str | None) -> str | None:
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    norm = _NON_ALNUM.sub("", folded).lower()
    if not norm or norm in _NO_NATIONALITY:
        return None
    return _NATIONALITY_OF.get(norm, norm)


def _relation_slot(relation: str | None) -> str:
    rel = (relation or "").strip().lower()
    if rel in _MOTHER:
        return "mother"
    if rel in _FATHER:
        return "father"
    return "caregiver"


def _merge(*names: _Name) -> _Name:
    """Tokens in order without repeats, and the union of keys, of several names."""
    filled = [name for name in names if name.tokens or name.keys]
    if not filled:
        return _EMPTY
    if len(filled) == 1:
        return filled[0]
    tokens = tuple(dict.fromkeys([tok for name in filled for tok in name.tokens]))
    spelled: dict[str, frozenset[str]] = {}
    for name in filled:
        for canon, keys in name.spelled:
            spelled[canon] = spelled.get(canon, frozenset()) | keys
    return _Name(
        tokens,
        filled[0].keys.union(*[name.keys for name in filled[1:]]),
        tuple(spelled.items()),
    )


def _joined(row: Mapping[str, Any]) -> str | None:
    parts = [_clean(row.get(c)) for c in ("name_first", "name_middle", "name_last")]
    return " ".join(p for p in parts if p) or None


def _split_multi(text: str | None) -> list[str]:
    if not text:
        return []
    return [part for part in (text or "").split(";") if part.strip()]


# The prepared columns come in groups, each a function of a few cleaned fields (the
# ``_*_part`` functions below, each returning a tuple of its columns' values, lists as
# tuples). ``prepare_row`` calls them once per record; ``prepare_records`` calls them
# once per distinct combination of their fields, which repeat a lot across records.

#: Columns of :func:`_name_part`, in the order of its tuple.
_NAME_PART = (
    "name_tokens",
    "name_all",
    "name_sorted",
    "name_keys",
    "given",
    "given_first",
    "given_keys",
    "given_known",
    "rest_tokens",
    "rest_keys",
    "rest_sorted",
    "lineage",
)
_NAME_FIELDS = ("name", "name_first", "name_middle", "name_last", "name_nickname", "name_other")


def _name_part(
    name: str | None,
    first: str | None,
    middle: str | None,
    last: str | None,
    nickname: str | None,
    other: str | None,
) -> tuple[Any, ...]:
    """The child's name columns (see ``_NAME_PART``) from the cleaned name fields."""
    # The child's name: the full name as written plus the structured parts, so a
    # record with only name_first/name_last (FEBRL, some agencies) still has tokens.
    main = _merge(encode(name), encode(first), encode(middle), encode(last))
    others = _merge(*(encode(part) for part in _split_multi(other)))
    nick = encode(nickname)
    every = _merge(main, nick, others)
    given = _given_of(name, first, other)
    given += _joined_compounds(given, name, first)
    # A nickname stands for the given name (Sasha for Oleksandr): when it resolves to
    # a known given name it is one more given-name candidate; it never joins the rest
    # of the name, where it would read as a family name the other record lacks (a
    # nickname that is also a word of the name, e.g. the father's, stays where it is).
    for tok in nick.tokens:
        if tok not in given and tok not in main.tokens and phonetics.nicknames.is_known(tok):
            given.append(tok)
    # Keys of the spellings as written as well as of the canonical form: "Osman" and
    # Somali "Cismaan" share DM ASMN, which the canonical "uthman" (ATMN) loses.
    surface = dict(every.spelled)
    given_keys: set[str] = set()
    for tok in given:
        given_keys |= token_keys(tok) | surface.get(tok, frozenset())
    # The rest of the name (father, grandfather, family name): what siblings share.
    in_given = set(given) | _compound_given(given, name, first, middle, last)
    rest = [t for t in _merge(main, others).tokens if t not in in_given]
    rest_keys: set[str] = set()
    for tok in rest:
        rest_keys |= token_keys(tok) | surface.get(tok, frozenset())
    joined = " ".join(p for p in (first, middle, last) if p) or None
    return (
        main.tokens,
        every.tokens,
        " ".join(sorted(main.tokens)) or None,
        tuple(sorted(every.keys)),
        tuple(given),
        given[0] if given else None,
        tuple(sorted(given_keys)),
        # Given names found in the curated table: two records whose given names are
        # both known names, and different ones (Hassan / Hussein, one skeleton), name
        # two different children however alike they sound.
        tuple(t for t in given if phonetics.nicknames.is_known(t)),
        tuple(rest),
        tuple(sorted(rest_keys)),
        " ".join(sorted(t for t in main.tokens if t not in in_given)) or None,
        lineage(name or joined),
    )


_RELATIVES_PART = (
    "mother_tokens",
    "mother_keys",
    "father_tokens",
    "father_keys",
    "father_given",
    "caregiver_tokens",
    "relatives_tokens",
    "relatives_keys",
)
_RELATIVES_FIELDS = (
    "mother_name",
    "father_name",
    "caregiver_name",
    "inquirer_name",
    "inquirer_relation",
)


def _relatives_part(
    mother: str | None,
    father: str | None,
    caregiver: str | None,
    inquirer_name: str | None,
    inquirer_relation: str | None,
) -> tuple[Any, ...]:
    """The relatives' columns (see ``_RELATIVES_PART``) from the cleaned fields.

    The inquirer of a tracing request is the relative named by inquirer_relation, so
    their name fills that slot (and is compared with the case's mother/father/caregiver
    accordingly).
    """
    slots = {"mother": encode(mother), "father": encode(father), "caregiver": encode(caregiver)}
    inquirer = encode(inquirer_name)
    if inquirer.tokens:
        slot = _relation_slot(inquirer_relation)
        slots[slot] = _merge(slots[slot], inquirer)
    relatives = _merge(*slots.values())
    return (
        slots["mother"].tokens,
        tuple(sorted(slots["mother"].keys)),
        slots["father"].tokens,
        tuple(sorted(slots["father"].keys)),
        slots["father"].tokens[0] if slots["father"].tokens else None,
        slots["caregiver"].tokens,
        relatives.tokens,
        tuple(sorted(relatives.keys)),
    )


_PLACE_PART = ("place_tokens", "place_keys", "origin", "place_history")


_PLACE_FIELDS = ("record_type", *_LOCATION_COLUMNS)


def _place_part(
    record_type: str | None, origin: str | None, separation: str | None, current: str | None
) -> tuple[Any, ...]:
    """The place columns (see ``_PLACE_PART``) from the cleaned location fields.

    A tracing request's ``location_current`` is where the *inquirer* registered, not
    where the child is (record format v1), so it says nothing about the child and is
    left out: kept, it made look-alike cases in the inquirer's camp agree on place.
    """
    if record_type == "tracing_request":
        current = None
    places = [_place(origin), _place(separation), _place(current)]
    place = _merge(*places)
    # Where the child came from and was separated (not where the child is now): a
    # case that only records its current camp says nothing about a request's village.
    history = _merge(*places[:2])
    return (
        place.tokens,
        tuple(sorted(place.keys)),
        " ".join(places[0].tokens) or None,
        history.tokens,
    )


_BIRTH_PART = ("dob", "dob_ym", "by_lo", "by_hi")
_BIRTH_FIELDS = ("date_of_birth", "estimated", "age", "registration_date")


def _birth_part(
    dob_text: str | None, estimated: str | None, age: str | None, registration: str | None
) -> tuple[Any, ...]:
    """The birth columns (see ``_BIRTH_PART``) from the cleaned fields."""
    dob_text = _drop_placeholder_day(dob_text, estimated)
    parsed = parse_date(dob_text)
    dob = dob_ym = None
    if parsed is not None:
        y, m, d = parsed
        if m is not None:
            dob_ym = f"{y:04d}-{m:02d}"
            if d is not None:
                dob = f"{y:04d}-{m:02d}-{d:02d}"
    by_lo, by_hi = birth_interval(dob_text, age, registration, estimated)
    return dob, dob_ym, by_lo, by_hi


def _sep_date(text: str | None) -> str | None:
    sep = parse_date(text)
    return f"{sep[0]:04d}-{sep[1]:02d}-{sep[2]:02d}" if sep and sep[1] and sep[2] else None


def _id_value(raw: str | None) -> str | None:
    """An identifier's comparison form (alphanumerics, upper case), or None."""
    if raw is None:
        return None
    return _NON_ALNUM.sub("", raw).upper() or None


def _ids_of(values: Iterable[str | None]) -> tuple[list[str], list[str]]:
    """``ids`` and ``id_types`` from the normalised ``_ID_COLUMNS`` values, in order."""
    ids: list[str] = []
    types: list[str] = []
    for kind, norm in zip(_ID_COLUMNS.values(), values, strict=True):
        if norm:
            ids.append(f"{kind}:{norm}")
            types.append(kind)
    return ids, types


def _phones(telephone: str | None, inquirer_telephone: str | None) -> list[str]:
    return sorted(
        {p for p in (normalise_phone(telephone), normalise_phone(inquirer_telephone)) if p}
    )


def _sex(text: str | None) -> str | None:
    sex = (text or "").lower()
    return (
        {"m": "male", "f": "female"}.get(sex, sex) if sex in {"m", "f", "male", "female"} else None
    )


def _consent(text: str | None) -> bool:
    return (text or "").lower() not in {"false", "0", "no", "n"}


def prepare_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Prepared columns of one record (without ``name_rare`` and ``block_keys``).

    Used for the single new record of the real-time path and by the Spark workers;
    :func:`prepare_records` computes the same values (tested) with caches per
    distinct field combination.
    """
    get = row.get
    out: dict[str, Any] = {
        "record_id": str(get("record_id")),
        "record_type": _clean(get("record_type")) or "case",
        "agency": _clean(get("agency")),
        "consent": _consent(_clean(get("consent_for_tracing"))),
    }
    for groups, part in (
        (_NAME_PART, _name_part(*(_clean(get(c)) for c in _NAME_FIELDS))),
        (_RELATIVES_PART, _relatives_part(*(_clean(get(c)) for c in _RELATIVES_FIELDS))),
        (_PLACE_PART, _place_part(*(_clean(get(c)) for c in _PLACE_FIELDS))),
        (_BIRTH_PART, _birth_part(*(_clean(get(c)) for c in _BIRTH_FIELDS))),
    ):
        for column, value in zip(groups, part, strict=True):
            out[column] = list(value) if isinstance(value, tuple) else value
    out["sep_date"] = _sep_date(_clean(get("date_of_separation")))
    out["ids"], out["id_types"] = _ids_of(_id_value(_clean(get(c))) for c in _ID_COLUMNS)
    out["phones"] = _phones(_clean(get("telephone")), _clean(get("inquirer_telephone")))
    out["sex"] = _sex(_clean(get("sex")))
    out["nationality"] = _nationality(_clean(get("nationality")))
    return {column: out[column] for column in _ROW_COLUMNS}


#: prepare_row's keys: every prepared column but the two of the second pass.
_ROW_COLUMNS = tuple(c for c in PREPARED_COLUMNS if c not in ("name_rare", "block_keys"))


class TokenFrequencies:
    """How many records carry each canonical name token: what makes a token common.

    Kept as an object so the real-time index can hold the stored records' counts and
    judge a new record's tokens by the same yardstick as batch prediction.
    """

    def __init__(self, counts: Counter[str], n_records: int) -> None:
        self.counts = counts
        self.n_records = max(n_records, 1)
        self.threshold = max(RARE_MIN_COUNT, COMMON_TOKEN_SHARE * self.n_records)

    @classmethod
    def from_token_lists(cls, token_lists: Iterable[list[str]]) -> TokenFrequencies:
        counts: Counter[str] = Counter()
        n = 0
        for tokens in token_lists:
            counts.update(set(tokens))
            n += 1
        return cls(counts, n)

    def rare(self, tokens: Iterable[str]) -> list[str]:
        """The tokens whose agreement is informative (seen on few records)."""
        return [t for t in tokens if self.counts.get(t, 0) < self.threshold]


def _as_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    cols = [c for c in RECORD_COLUMNS if c in frame.columns]
    sub = frame[cols].astype(object).where(frame[cols].notna(), None)
    return sub.to_dict("records")


def prepare_records(
    frame: pd.DataFrame,
    token_frequencies: TokenFrequencies | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """The prepared table for a frame of v1 records (one row per record).

    ``token_frequencies`` defaults to the frame's own; pass the stored records' counts
    when preparing a few new records against a large store.

    The same table as :func:`prepare_row` and :func:`kinlink.blocking.rules.block_keys`
    row by row (see :func:`_prepare_records_by_row`; tested), computed column-wise:
    each group of columns once per distinct combination of the fields it reads (names,
    places and dates repeat a lot), blocking keys from caches of their pieces.

    Treat the table as read-only: rows with the same field values share their list
    objects (a million records would otherwise hold some twenty million small lists).
    """
    if frame.columns.has_duplicates or len(frame) == 0:  # the row path types these alike
        return _prepare_records_by_row(frame, token_frequencies, progress)

    was_enabled = gc.isenabled()
    gc.disable()  # many small acyclic objects: see kinlink.phonetics.encode_names
    try:
        return _prepare_columns(frame, token_frequencies, progress)
    finally:
        if was_enabled:
            gc.enable()


def _prepare_columns(
    frame: pd.DataFrame, token_frequencies: TokenFrequencies | None, progress: bool
) -> pd.DataFrame:
    from kinlink.blocking.rules import DefaultKeys

    n = len(frame)
    field = {
        c: _clean_column(frame[c]) if c in frame.columns else [None] * n for c in RECORD_COLUMNS
    }
    out: dict[str, Any] = {
        "record_id": [str(v) for v in _raw_column(frame, "record_id", n)],
        "record_type": [t or "case" for t in field["record_type"]],
        "agency": field["agency"],
        "consent": _distinct(_consent, [field["consent_for_tracing"]], single=True),
    }
    # Each group once per distinct combination of its fields; rows holding the same
    # combination share its values (lists included, hence "read-only" below).
    tuples: dict[str, Any] = {}
    for fn, fields, columns in (
        (_name_part, _NAME_FIELDS, _NAME_PART),
        (_relatives_part, _RELATIVES_FIELDS, _RELATIVES_PART),
        (_place_part, _PLACE_FIELDS, _PLACE_PART),
        (_birth_part, _BIRTH_FIELDS, _BIRTH_PART),
    ):
        parts = _distinct(
            _with_lists(fn),
            [field[c] for c in fields],
            progress=progress and fn is _name_part,
            total=n,
        )
        for i, column in enumerate(columns):
            out[column] = [part[1][i] for part in parts]
            if column in _KEY_INPUTS:
                tuples[column] = [part[0][i] for part in parts]
        del parts
    out["sep_date"] = _distinct(_sep_date, [field["date_of_separation"]], single=True)
    id_values = [_distinct(_id_value, [field[c]], single=True) for c in _ID_COLUMNS]
    ids = _distinct(lambda *v: _ids_of(v), id_values)
    out["ids"] = [i for i, _ in ids]
    out["id_types"] = [t for _, t in ids]
    del ids, id_values
    phones = [_distinct(normalise_phone, [field[c]], single=True) for c in _PHONE_COLUMNS]
    out["phones"] = _distinct(lambda a, b: sorted({p for p in (a, b) if p}), phones)
    del phones
    out["sex"] = _distinct(_sex, [field["sex"]], single=True)
    out["nationality"] = _distinct(_nationality, [field["nationality"]], single=True)
    del field

    name_all = tuples["name_all"]
    freqs = token_frequencies or TokenFrequencies.from_token_lists(name_all)
    out["name_rare"] = _distinct(lambda tokens: freqs.rare(tokens), [name_all], single=True)
    keys = DefaultKeys().keys
    out["block_keys"] = [
        keys(
            ids=i,
            phones=p,
            given_keys=gk,
            name_all=na,
            name_keys=nk,
            sex=sx,
            by_lo=lo,
            by_hi=hi,
            mother_first=mt[0] if mt else None,
            father_first=ft[0] if ft else None,
            place_tokens=pt,
            place_history=ph,
            dob=db,
        )
        for i, p, gk, na, nk, sx, lo, hi, mt, ft, pt, ph, db in zip(
            out["ids"],
            out["phones"],
            tuples["given_keys"],
            name_all,
            tuples["name_keys"],
            out["sex"],
            out["by_lo"],
            out["by_hi"],
            tuples["mother_tokens"],
            tuples["father_tokens"],
            tuples["place_tokens"],
            tuples["place_history"],
            out["dob"],
            strict=True,
        )
    ]
    del keys, tuples, name_all
    arrays: dict[str, Any] = {}
    for column in PREPARED_COLUMNS:  # one column at a time: the lists go as they are copied
        values = out.pop(column)
        if column in ("by_lo", "by_hi"):
            arrays[column] = pd.array(values, dtype="Int64")
        elif column == "consent":
            arrays[column] = np.fromiter(values, dtype=bool, count=n)
        else:
            arrays[column] = np.fromiter(values, dtype=object, count=n)
        del values
    return _typed(pd.DataFrame(arrays, columns=list(PREPARED_COLUMNS)))


#: Group columns that blocking keys are computed from (as tuples: cache keys).
_KEY_INPUTS = (
    "name_all",
    "name_keys",
    "given_keys",
    "mother_tokens",
    "father_tokens",
    "place_tokens",
    "place_history",
)
_PHONE_COLUMNS = ("telephone", "inquirer_telephone")


def _with_lists(fn: Any) -> Any:
    """``fn`` returning (its tuple, the same with each tuple in it as a list)."""

    def both(*args: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        part = fn(*args)
        return part, tuple([list(v) if isinstance(v, tuple) else v for v in part])

    return both


def _raw_column(frame: pd.DataFrame, column: str, n: int) -> list[Any]:
    """A column's values as ``_as_records`` hands them to ``prepare_row``."""
    if column not in frame.columns:
        return [None] * n
    series = frame[column]
    values = series.astype(object).where(series.notna(), None).tolist()
    return [v if v is None or type(v) is str else maybe_box_native(v) for v in values]


def _clean_column(series: pd.Series) -> list[str | None]:
    """``_clean`` of every value of a column, as ``prepare_row`` sees them."""
    values = series.astype(object).where(series.notna(), None).to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        # Only strings (and None): clean each distinct value once.
        codes, uniques = pd.factorize(values)
        cleaned = np.empty(len(uniques) + 1, dtype=object)
        cleaned[:-1] = [_clean(u) for u in uniques]
        cleaned[-1] = None  # code -1: None
        return cleaned[codes].tolist()
    return [_clean(v if v is None or type(v) is str else maybe_box_native(v)) for v in values]


def _distinct(
    fn: Any,
    columns: list[list[Any]],
    *,
    single: bool = False,
    progress: bool = False,
    total: int = 0,
) -> list[Any]:
    """``fn`` of each row's values of ``columns``, called once per distinct combination."""
    cache: dict[Any, Any] = {}
    keys: Iterable[Any] = columns[0] if single else zip(*columns, strict=True)
    if progress:
        from tqdm import tqdm

        # progress=True is the caller's decision (the CLI's --progress, or "stderr is a
        # terminal" by default): tqdm's own TTY check (disable=None) would overrule it.
        keys = tqdm(keys, desc="prepare", unit="rec", mininterval=1.0, disable=False, total=total)
    out = []
    append = out.append
    get = cache.get
    for key in keys:
        value = get(key, _MISSING)
        if value is _MISSING:
            value = cache[key] = fn(key) if single else fn(*key)
        append(value)
    return out


_MISSING = object()


def _prepare_records_by_row(
    frame: pd.DataFrame,
    token_frequencies: TokenFrequencies | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """:func:`prepare_records` the straightforward way: ``prepare_row`` per record.

    The reference the column-wise path is tested against (and the path for frames
    with duplicate column names, whose reading ``to_dict`` decides).
    """
    from kinlink.blocking.rules import block_keys

    records = _as_records(frame)
    if progress:
        from tqdm import tqdm

        records_iter: Iterable[dict[str, Any]] = tqdm(
            records, desc="prepare", unit="rec", mininterval=1.0, disable=False
        )
    else:
        records_iter = records
    rows = [prepare_row(r) for r in records_iter]
    freqs = token_frequencies or TokenFrequencies.from_token_lists(r["name_all"] for r in rows)
    for row in rows:
        row["name_rare"] = freqs.rare(row["name_all"])
        row["block_keys"] = block_keys(row)
    return prepared_frame(rows)


def prepared_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Prepared rows as a frame with the prepared columns' types, in their order.

    Shared with the Spark engine's workers, so both engines type the table alike.
    """
    return _typed(pd.DataFrame(rows, columns=list(PREPARED_COLUMNS)))


def _typed(out: pd.DataFrame) -> pd.DataFrame:
    out["by_lo"] = out["by_lo"].astype("Int64")
    out["by_hi"] = out["by_hi"].astype("Int64")
    out["consent"] = out["consent"].astype(bool)
    return out
