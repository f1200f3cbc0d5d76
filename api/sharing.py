"""What a reviewer may see, and what a probability means in words.

Bands are fixed cut-offs on the engine's match probability, not ranks or
ratios, so "very likely" means the same thing on every screen and every day
(documented in docs/review-api.md). Other agencies' records are shown only
with the fields their agency shares (default: what is needed to judge a
match; no telephone numbers, no identity document numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kinlink.ingest import RECORD_COLUMNS


@dataclass(frozen=True)
class Band:
    code: str
    label: str
    min_probability: float


#: Highest first; a probability gets the first band whose minimum it reaches.
BANDS: tuple[Band, ...] = (
    Band("very_likely", "very likely", 0.90),
    Band("possible", "possible", 0.30),
    Band("unlikely", "unlikely", 0.0),
)


def band_for(probability: float) -> Band:
    for band in BANDS:
        if probability >= band.min_probability:
            return band
    return BANDS[-1]


#: Never shared across agencies, whatever an agency configures.
NEVER_SHARED: frozenset[str] = frozenset(
    {"telephone", "inquirer_telephone", "unhcr_individual_no", "icrc_ref_no", "national_id_no"}
)
#: Fields of another agency's record a reviewer sees on a candidate, unless that
#: agency configured its own list. Contact details and document numbers stay
#: with the agency that holds them (a match is decided without them); the
#: inquiry id and consent flag are bookkeeping, not evidence.
DEFAULT_SHARED_FIELDS: tuple[str, ...] = tuple(
    c
    for c in RECORD_COLUMNS
    if c not in NEVER_SHARED and c not in {"inquiry_id", "consent_for_tracing"}
)
#: Always present on a shared view (needed to address the pair).
ALWAYS_SHARED: tuple[str, ...] = ("record_id", "record_type", "agency")


def shared_fields(configured: list[str] | None) -> tuple[str, ...]:
    chosen = DEFAULT_SHARED_FIELDS if configured is None else tuple(configured)
    keep = set(chosen) - NEVER_SHARED | set(ALWAYS_SHARED)
    return tuple(c for c in RECORD_COLUMNS if c in keep)


def redact(data: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k in allowed}


#: Which record fields each engine comparison reads, for hiding explanation values
#: of fields the viewer may not see and for colouring the side-by-side rows.
COMPARISON_FIELDS: dict[str, tuple[str, ...]] = {
    "given_name": ("name", "name_first", "name_nickname", "name_other"),
    "name": ("name", "name_first", "name_middle", "name_last", "name_nickname", "name_other"),
    "birth": ("date_of_birth", "age", "estimated"),
    "sex": ("sex",),
    "mother": ("mother_name",),
    "father": ("father_name",),
    "other_relative": ("caregiver_name", "inquirer_name"),
    "patronymic": ("father_name", "name"),
    "place": ("location_origin", "location_separation", "location_current"),
    "separation_date": ("date_of_separation",),
    "identifier": ("unhcr_individual_no", "icrc_ref_no", "national_id_no"),
    "telephone": ("telephone", "inquirer_telephone"),
    "nationality": ("nationality",),
    # Family context, counted once (matching/comparisons.family_comparison): parents,
    # another relative, the patronymic chain, the separation date, the family's phone.
    "family": (
        "name",
        "mother_name",
        "father_name",
        "caregiver_name",
        "inquirer_name",
        "inquirer_relation",
        "date_of_separation",
        "telephone",
        "inquirer_telephone",
    ),
}

#: Which record fields each value the engine puts in an explanation is derived from
#: (the prepared columns of matching/prepare.py). Another agency's value is shown only
#: when the viewer may see *every* field it comes from: a combined comparison such as
#: ``family`` reads shared fields (the mother's name) and never-shared ones (telephone
#: numbers), and must show the first without leaking the second.
_NAME = ("name", "name_first", "name_middle", "name_last", "name_nickname", "name_other")
VALUE_FIELDS: dict[str, tuple[str, ...]] = {
    "name_all": _NAME,
    "name_tokens": _NAME,
    "name_sorted": _NAME,
    "name_keys": _NAME,
    "name_rare": _NAME,
    "given": _NAME,
    "given_first": _NAME,
    "given_keys": _NAME,
    "given_known": _NAME,
    "rest_tokens": _NAME,
    "rest_keys": _NAME,
    "rest_sorted": _NAME,
    "lineage": _NAME,
    "sex": ("sex",),
    "dob": ("date_of_birth", "estimated"),
    "dob_ym": ("date_of_birth", "estimated"),
    "by_lo": ("date_of_birth", "age", "estimated", "registration_date"),
    "by_hi": ("date_of_birth", "age", "estimated", "registration_date"),
    "mother_tokens": ("mother_name", "inquirer_name", "inquirer_relation"),
    "mother_keys": ("mother_name", "inquirer_name", "inquirer_relation"),
    "father_tokens": ("father_name", "inquirer_name", "inquirer_relation"),
    "father_keys": ("father_name", "inquirer_name", "inquirer_relation"),
    "father_given": ("father_name", "inquirer_name", "inquirer_relation"),
    "caregiver_tokens": ("caregiver_name", "inquirer_name", "inquirer_relation"),
    "relatives_tokens": (
        "mother_name",
        "father_name",
        "caregiver_name",
        "inquirer_name",
        "inquirer_relation",
    ),
    "relatives_keys": (
        "mother_name",
        "father_name",
        "caregiver_name",
        "inquirer_name",
        "inquirer_relation",
    ),
    "place_tokens": ("location_origin", "location_separation", "location_current"),
    "place_keys": ("location_origin", "location_separation", "location_current"),
    "origin": ("location_origin",),
    "place_history": ("location_origin", "location_separation"),
    "sep_date": ("date_of_separation",),
    "ids": ("unhcr_individual_no", "icrc_ref_no", "national_id_no"),
    "id_types": ("unhcr_individual_no", "icrc_ref_no", "national_id_no"),
    "phones": ("telephone", "inquirer_telephone"),
    "nationality": ("nationality",),
}


def shared_values(
    comparison: str, values: dict[str, Any], allowed: tuple[str, ...] | None
) -> dict[str, Any]:
    """The explanation values of another agency's record that ``allowed`` lets through.

    ``None`` means the viewer's own record (everything). A value column this module
    does not know is judged by its comparison's fields, all of which must be allowed,
    so a new engine column is hidden rather than leaked until it is mapped here.
    """
    if allowed is None:
        return dict(values)
    visible = set(allowed)
    fallback = COMPARISON_FIELDS.get(comparison, ())
    out = {}
    for column, value in values.items():
        fields = VALUE_FIELDS.get(column) or fallback
        if fields and all(f in visible for f in fields):
            out[column] = value
    return out


def agreement(level: str, gamma: int, max_gamma: int) -> str:
    """The colour class of a comparison level: exact, close, phonetic, different, missing."""
    if gamma < 0:
        return "missing"
    if gamma == 0:
        return "different"
    if gamma >= max_gamma:
        return "exact"
    lowered = level.lower()
    if "sound" in lowered or "phonetic" in lowered:
        return "phonetic"
    return "close"
