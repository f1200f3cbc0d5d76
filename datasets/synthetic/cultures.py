"""Naming cultures: their name lists, spellings, scripts and where their people register.

Each culture is one YAML file beside this module (``culture_<id>.yaml``), written from public
naming knowledge: common given names, surnames and places, never a real person's record.
This module turns a file into lookup tables built for fast weighted sampling, because the
generator draws tens of millions of names for a large dataset.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
import random
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from kinlink.datasets.synthetic.translit import SYSTEMS, transliterate

#: How strongly a spelling tagged for an agency's school (``@fr``, ``@so``...) is preferred.
SCHOOL_BOOST = 8.0

#: Base weights of the transliteration systems for Ukrainian names (before school boosts).
TRANSLIT_WEIGHTS: dict[str, float] = {
    "nat": 55.0,
    "bgn": 12.0,
    "ru": 14.0,
    "de": 3.0,
    "fr": 2.0,
    "pl": 3.0,
}

CULTURE_IDS: tuple[str, ...] = (
    "sudan_chad",
    "syrian",
    "somali",
    "ethiopian",
    "drc",
    "ukrainian",
    "afghan",
    "rohingya",
    "spanish",
)


def pick(rng: random.Random, items: tuple[Any, ...] | list[Any], cum: list[float]) -> Any:
    """One item drawn with cumulative weights ``cum``; cheaper than ``random.choices``."""
    return items[bisect.bisect(cum, rng.random() * cum[-1])]


def _cum(weights: list[float]) -> list[float]:
    return list(itertools.accumulate(weights))


@dataclass(slots=True)
class NameEntry:
    """One canonical name (or place) with the ways people write it.

    ``key`` is the canonical Latin form and the identity used by the world model; the
    spellings are what ends up in records.
    """

    key: str
    spellings: tuple[str, ...]
    weights: tuple[float, ...]
    tags: tuple[str, ...]
    native: tuple[str, ...] = ()
    nicknames: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)
    _cum_by_school: dict[str, list[float]] = field(default_factory=dict)
    _by_tag: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def cum_for(self, school: str) -> list[float]:
        """Cumulative spelling weights as seen by an agency of ``school`` (cached)."""
        cum = self._cum_by_school.get(school)
        if cum is None:
            w = [
                x * (SCHOOL_BOOST if t == school else 1.0)
                for x, t in zip(self.weights, self.tags, strict=True)
            ]
            cum = self._cum_by_school[school] = _cum(w)
        return cum

    def tagged(self, tag: str) -> tuple[str, ...]:
        """Spellings that carry ``tag`` (e.g. the Somali official orthography)."""
        got = self._by_tag.get(tag)
        if got is None:
            got = self._by_tag[tag] = tuple(
                s for s, t in zip(self.spellings, self.tags, strict=True) if t == tag
            )
        return got

    def spell(self, rng: random.Random, school: str, tag: str = "") -> str:
        """One written form: the record's dominant system/orthography first, if it has one."""
        if tag:
            tagged = self.tagged(tag)
            if tagged and rng.random() < 0.9:
                return tagged[0] if len(tagged) == 1 else rng.choice(tagged)
        return pick(rng, self.spellings, self.cum_for(school))


@dataclass(slots=True)
class NameTable:
    """A list of names with Zipf-like popularity: a few names are very common."""

    entries: tuple[NameEntry, ...]
    cum: list[float]
    by_key: dict[str, NameEntry]

    def draw(self, rng: random.Random) -> NameEntry:
        return pick(rng, self.entries, self.cum)


@dataclass(frozen=True, slots=True)
class Operation:
    """A country where the culture's people are registered, with its sites and agencies."""

    country: str
    weight: float
    school: str
    native: float
    phone: str
    sites: tuple[str, ...]
    agencies: tuple[str, ...]


@dataclass(slots=True)
class Culture:
    """Everything the generator knows about one naming culture (see the YAML files)."""

    id: str
    label: str
    weight: float
    structure: str
    native_script: str
    translit: bool
    crisis: tuple[dt.date, dt.date]
    dob_known: float
    national_id: float
    drop_grandfather: float | None
    surname_rate: float
    pools: dict[str, NameTable]
    operations: tuple[Operation, ...]
    operations_cum: list[float]
    nationality: tuple[tuple[str, ...], list[float]]
    ethnicity: tuple[tuple[str, ...], list[float]]
    language: tuple[tuple[str, ...], list[float]]
    nicknames: tuple[str, ...]
    twins: tuple[tuple[str, str, str, str], ...]
    transit: tuple[str, ...]

    def pool(self, kind: str) -> NameTable:
        return self.pools[kind]

    def draw_operation(self, rng: random.Random) -> Operation:
        return pick(rng, self.operations, self.operations_cum)


def _parse_spellings(text: str, key: str) -> tuple[list[str], list[float], list[str]]:
    spellings: list[str] = []
    weights: list[float] = []
    tags: list[str] = []
    for part in (p.strip() for p in (text or "").split("|")):
        if not part:
            continue
        tag = ""
        if "@" in part:
            part, tag = part.rsplit("@", 1)
        spelling, _, weight = part.rpartition(":")
        if not spelling:
            spelling, weight = weight, "10"
        spellings.append(spelling.strip())
        weights.append(float(weight))
        tags.append(tag.strip())
    if not spellings:
        spellings, weights, tags = [key], [1.0], [""]
    return spellings, weights, tags


def _with_article(
    spellings: list[str], weights: list[float], tags: list[str]
) -> tuple[list[str], list[float], list[str]]:
    """Expand Arabic family names with the article: Al-Hassan, Al Hassan, Alhassan, El..."""
    forms = (("Al-", 0.35), ("Al ", 0.15), ("Al", 0.1), ("El-", 0.08), ("El ", 0.05), ("", 0.27))
    out_s: list[str] = []
    out_w: list[float] = []
    out_t: list[str] = []
    for s, w, t in zip(spellings, weights, tags, strict=True):
        for prefix, share in forms:
            out_s.append(prefix + (s.lower() if prefix == "Al" else s))
            out_w.append(w * share)
            out_t.append(t)
    return out_s, out_w, out_t


def _translit_spellings(
    native: tuple[str, ...], spellings: list[str], weights: list[float], tags: list[str]
) -> tuple[list[str], list[float], list[str]]:
    """Latin spellings of a Cyrillic name: one per transliteration system, tagged by system."""
    uk = native[0]
    ru = native[1] if len(native) > 1 else uk
    out_s, out_w, out_t = [], [], []
    for system in SYSTEMS:
        out_s.append(transliterate(ru if system == "ru" else uk, system))
        out_w.append(TRANSLIT_WEIGHTS[system])
        out_t.append(system)
    if spellings and weights:
        out_s += spellings
        out_w += weights
        out_t += tags
    return out_s, out_w, out_t


def _entry(row: list[Any], translit: bool) -> NameEntry:
    row = [*row, "", "", "", ""]
    key = str(row[0])
    native = tuple(n for n in str(row[2] or "").split("|") if n)
    raw = str(row[1] or "")
    spellings, weights, tags = _parse_spellings(raw, key) if raw else ([], [], [])
    extra: dict[str, str] = {}
    for item in str(row[4] or "").split(";"):
        if "=" in item:
            k, v = item.split("=", 1)
            extra[k.strip()] = v.strip()
        elif item.strip():
            extra[item.strip()] = "1"
    if translit and native:
        spellings, weights, tags = _translit_spellings(native, spellings, weights, tags)
    elif not spellings:
        spellings, weights, tags = [key], [1.0], [""]
    if "al" in extra:
        spellings, weights, tags = _with_article(spellings, weights, tags)
    nicknames = tuple(n for n in str(row[3] or "").split("|") if n)
    return NameEntry(
        key=key,
        spellings=tuple(spellings),
        weights=tuple(weights),
        tags=tuple(tags),
        native=native,
        nicknames=nicknames,
        extra=extra,
    )


def _table(rows: list[list[Any]], zipf: float, translit: bool) -> NameTable:
    entries = tuple(_entry(r, translit) for r in rows)
    cum = _cum([1.0 / (rank + 1) ** zipf for rank in range(len(entries))])
    return NameTable(entries=entries, cum=cum, by_key={e.key: e for e in entries})


def _weighted(mapping: dict[str, float]) -> tuple[tuple[str, ...], list[float]]:
    keys = tuple(str(k) for k in mapping)
    return keys, _cum([float(v) for v in mapping.values()])


_POOLS = (
    "male", "female", "surnames", "places",
    "male1", "male2", "female1", "female2", "burmese_male", "burmese_female",
)  # fmt: skip


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _load(culture_id: str) -> Culture:
    text = (
        resources.files("kinlink.datasets.synthetic")
        .joinpath(f"culture_{culture_id}.yaml")
        .read_text(encoding="utf-8")
    )
    data = yaml.safe_load(text)
    zipf = float(data.get("zipf", 1.0))
    translit = bool(data.get("translit", False))
    pools = {
        kind: _table(data[kind], zipf if kind != "places" else 0.6, translit)
        for kind in _POOLS
        if kind in data
    }
    ops = tuple(
        Operation(
            country=str(o["country"]),
            weight=float(o["weight"]),
            school=str(o.get("school", "en")),
            native=float(o.get("native", 0.0)),
            phone=str(o.get("phone", "")),
            sites=tuple(str(s) for s in o["sites"]),
            agencies=tuple(str(a) for a in o["agencies"]),
        )
        for o in data["operations"]
    )
    start, end = data["crisis"]
    dg = data.get("drop_grandfather")
    return Culture(
        id=str(data["id"]),
        label=str(data["label"]),
        weight=float(data["weight"]),
        structure=str(data["structure"]),
        native_script=str(data.get("native_script") or ""),
        translit=translit,
        crisis=(_date(start), _date(end)),
        dob_known=float(data.get("dob_known", 0.5)),
        national_id=float(data.get("national_id", 0.0)),
        drop_grandfather=None if dg is None else float(dg),
        surname_rate=float(data.get("surname_rate", 1.0)),
        pools=pools,
        operations=ops,
        operations_cum=_cum([o.weight for o in ops]),
        nationality=_weighted(data["nationality"]),
        ethnicity=_weighted(data["ethnicity"]),
        language=_weighted(data["language"]),
        nicknames=tuple(str(n) for n in data.get("nicknames") or ()),
        twins=tuple(tuple(str(x) for x in t) for t in data.get("twins") or ()),  # type: ignore[misc]
        transit=tuple(str(t) for t in data.get("transit") or ()),
    )


@functools.cache
def load_cultures() -> dict[str, Culture]:
    """All cultures, keyed by id, in :data:`CULTURE_IDS` order (parsed once per process)."""
    return {cid: _load(cid) for cid in CULTURE_IDS}
