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

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pandas as pd

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


@dataclass(frozen=True)
class _Name:
    """One name field, encoded: canonical tokens (order kept) and their phonetic keys."""

    tokens: tuple[str, ...]
    keys: frozenset[str]


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
    tokens: list[str] = []
    keys: set[str] = set()
    for raw in phonetics.name_tokens(text):
        canon, tkeys = _token(raw)
        if canon and canon not in tokens:
            tokens.append(canon)
        keys |= tkeys
    return _Name(tuple(tokens), frozenset(keys))


@lru_cache(maxsize=200_000)
def _place(text: str | None) -> _Name:
    """Places are tokenised like names but without nickname resolution."""
    if not text:
        return _EMPTY
    tokens = tuple(dict.fromkeys(phonetics.name_tokens(text)))
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
        after = _given_after_surname(text.split())
        given = after or given
    return phonetics.canonical_token(given) if given else None


#: Endings of East Slavic family names as written or romanised (Kravchenko, Tkachuk,
#: Kovalskyi, Ivanov, Petrova, Ivaniv, Shvets, Boiko). Read on the word as written
#: (romanised, not normalised: normalising turns Matthew into "mathev"). Given names
#: with these endings are rare, and a known given name is never read as a family name.
_SLAVIC_FAMILY = re.compile(
    r"(?:enko|chuk|czuk|tschuk|uk|ko|ov|ova|ev|eva|iv|yv|skyi|skiy|skyj|ski|sky|ska|skaya"
    r"|ets|iak|yak)$"
)


def _known_given(word: str) -> bool:
    return phonetics.nicknames.is_known(phonetics.canonical_token(word))


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
    out: list[str] = []
    sources = [_clean(row.get("name")), _clean(row.get("name_first"))]
    sources += _split_multi(_clean(row.get("name_other")))
    for i, text in enumerate(sources):
        if i == 1 and text:
            toks = encode(text).tokens
            given = toks[0] if toks else None
        else:
            given = given_of_name(text)
        if given and given not in out:
            out.append(given)
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
    if age_value is None or reg is None or age_value < 0 or age_value > 120:
        return None, None
    lo = reg[0] - int(age_value) - 1
    hi = reg[0] - int(age_value)
    if is_estimated:
        margin = _estimate_margin(age_value)
        lo, hi = lo - margin, hi + margin
    return lo, hi


def _ids(row: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    values: list[str] = []
    types: list[str] = []
    for column, kind in _ID_COLUMNS.items():
        raw = _clean(row.get(column))
        if raw is None:
            continue
        norm = _NON_ALNUM.sub("", raw).upper()
        if norm:
            values.append(f"{kind}:{norm}")
            types.append(kind)
    return values, types


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
    tokens: list[str] = []
    keys: set[str] = set()
    for name in names:
        for tok in name.tokens:
            if tok not in tokens:
                tokens.append(tok)
        keys |= name.keys
    return _Name(tuple(tokens), frozenset(keys))


def _joined(row: Mapping[str, Any]) -> str | None:
    parts = [_clean(row.get(c)) for c in ("name_first", "name_middle", "name_last")]
    return " ".join(p for p in parts if p) or None


def _split_multi(text: str | None) -> list[str]:
    return [part for part in (text or "").split(";") if part.strip()]


def prepare_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Prepared columns of one record (without ``name_rare`` and ``block_keys``).

    Used both for whole frames and for the single new record of the real-time path,
    so the two can never disagree.
    """
    get = row.get
    record_type = _clean(get("record_type")) or "case"
    # The child's name: the full name as written plus the structured parts, so a
    # record with only name_first/name_last (FEBRL, some agencies) still has tokens.
    main = _merge(
        encode(_clean(get("name"))),
        encode(_clean(get("name_first"))),
        encode(_clean(get("name_middle"))),
        encode(_clean(get("name_last"))),
    )
    alt = _merge(
        encode(_clean(get("name_nickname"))),
        *(encode(part) for part in _split_multi(_clean(get("name_other")))),
    )
    every = _merge(main, alt)
    given = _given(row)
    given_keys: set[str] = set()
    for tok in given:
        given_keys |= token_keys(tok)
    # The rest of the name (father, grandfather, family name): what siblings share.
    rest = [t for t in every.tokens if t not in given]
    rest_keys: set[str] = set()
    for tok in rest:
        rest_keys |= token_keys(tok)

    # Relatives: the inquirer of a tracing request is the relative named by
    # inquirer_relation, so their name fills that slot (and is compared with the
    # case's mother/father/caregiver accordingly).
    slots = {
        "mother": encode(_clean(get("mother_name"))),
        "father": encode(_clean(get("father_name"))),
        "caregiver": encode(_clean(get("caregiver_name"))),
    }
    inquirer = encode(_clean(get("inquirer_name")))
    if inquirer.tokens:
        slot = _relation_slot(_clean(get("inquirer_relation")))
        slots[slot] = _merge(slots[slot], inquirer)
    relatives = _merge(*slots.values())

    places = [_place(_clean(get(col))) for col in _LOCATION_COLUMNS]
    place = _merge(*places)
    origin = " ".join(places[0].tokens) or None

    dob_text = _clean(get("date_of_birth"))
    dob_text = _drop_placeholder_day(dob_text, _clean(get("estimated")))
    parsed = parse_date(dob_text)
    dob = dob_ym = None
    if parsed is not None:
        y, m, d = parsed
        if m is not None:
            dob_ym = f"{y:04d}-{m:02d}"
            if d is not None:
                dob = f"{y:04d}-{m:02d}-{d:02d}"
    by_lo, by_hi = birth_interval(
        dob_text, _clean(get("age")), _clean(get("registration_date")), _clean(get("estimated"))
    )
    sep = parse_date(_clean(get("date_of_separation")))
    sep_date = f"{sep[0]:04d}-{sep[1]:02d}-{sep[2]:02d}" if sep and sep[1] and sep[2] else None

    ids, id_types = _ids(row)
    phones = sorted(
        {
            p
            for p in (
                normalise_phone(_clean(get("telephone"))),
                normalise_phone(_clean(get("inquirer_telephone"))),
            )
            if p
        }
    )
    sex = (_clean(get("sex")) or "").lower()
    sex = (
        {"m": "male", "f": "female"}.get(sex, sex) if sex in {"m", "f", "male", "female"} else None
    )
    consent = (_clean(get("consent_for_tracing")) or "").lower() not in {"false", "0", "no", "n"}
    nationality = _nationality(_clean(get("nationality")))

    return {
        "record_id": str(get("record_id")),
        "record_type": record_type,
        "agency": _clean(get("agency")),
        "consent": consent,
        "name_tokens": list(main.tokens),
        "name_all": list(every.tokens),
        "name_sorted": " ".join(sorted(main.tokens)) or None,
        "name_keys": sorted(every.keys),
        "given": given,
        "given_first": given[0] if given else None,
        "given_keys": sorted(given_keys),
        "rest_tokens": rest,
        "rest_keys": sorted(rest_keys),
        "rest_sorted": " ".join(sorted(t for t in main.tokens if t not in given)) or None,
        "sex": sex,
        "dob": dob,
        "dob_ym": dob_ym,
        "by_lo": by_lo,
        "by_hi": by_hi,
        "mother_tokens": list(slots["mother"].tokens),
        "mother_keys": sorted(slots["mother"].keys),
        "father_tokens": list(slots["father"].tokens),
        "father_keys": sorted(slots["father"].keys),
        "father_given": slots["father"].tokens[0] if slots["father"].tokens else None,
        "lineage": list(lineage(_clean(get("name")) or _joined(row))),
        "caregiver_tokens": list(slots["caregiver"].tokens),
        "relatives_tokens": list(relatives.tokens),
        "relatives_keys": sorted(relatives.keys),
        "place_tokens": list(place.tokens),
        "place_keys": sorted(place.keys),
        "origin": origin,
        "sep_date": sep_date,
        "ids": ids,
        "id_types": id_types,
        "phones": phones,
        "nationality": nationality,
    }


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
    """
    from kinlink.blocking.rules import block_keys

    records = _as_records(frame)
    if progress:
        from tqdm import tqdm

        records_iter: Iterable[dict[str, Any]] = tqdm(
            records, desc="prepare", unit="rec", mininterval=1.0, disable=None
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
    out = pd.DataFrame(rows, columns=list(PREPARED_COLUMNS))
    out["by_lo"] = out["by_lo"].astype("Int64")
    out["by_hi"] = out["by_hi"].astype("Int64")
    out["consent"] = out["consent"].astype(bool)
    return out
