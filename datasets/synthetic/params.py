"""The generator's knobs: how the world behaves and how records go wrong, with defaults.

Every rate lives here, named and documented, so an evaluation can say which noise it was run
under and a harder or easier dataset is one ``dataclasses.replace`` away. The defaults aim at
"realistic but not absurd": a true pair usually keeps enough in common (canonical name,
approximate age, village, a parent's name) for a good matcher to find it, while look-alikes
(common names, siblings, twins, cousins, same village) make precision hard.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WorldParams:
    """Who exists, who is separated, who is registered and who is looked for."""

    #: Children per nuclear family are 1 + Poisson(mean); large families make look-alike siblings.
    children_per_family_mean: float = 2.6
    #: Chance that a birth is twins (same date of birth). Boosted above the ~1.5 % natural rate
    #: so that a few thousand records contain enough twin pairs to test on.
    twin_rate: float = 0.03
    #: Nuclear families per kin group (brothers' families: their children are cousins sharing a
    #: grandfather's name, often a surname, and a village) is 1 + Poisson(mean).
    families_per_kin_group_mean: float = 0.8
    #: Chance that a kin group lives in the same village as the previous one of its culture:
    #: villages are small, so many unrelated children share a place of origin.
    same_village_rate: float = 0.35
    #: Chance that a given child of a family is among those separated (at least one always is).
    child_separated_rate: float = 0.55
    #: Chance that a separated child is registered as a case somewhere.
    case_rate: float = 0.72
    #: Chance that a family looks for its separated children (files a tracing request).
    sought_rate: float = 0.45
    #: Given one case, chance of a second case registration (another agency, site or year).
    duplicate_case_rate: float = 0.10
    #: Chance of a third registration of the same child, given a second one.
    third_case_rate: float = 0.15
    #: Given a tracing request, chance that a second relative files another one elsewhere.
    second_request_rate: float = 0.12
    #: Chance that a duplicate case or second request is filed in another country.
    other_country_rate: float = 0.45
    #: Mean days from separation to first case registration (exponential; long tail of years).
    case_delay_days: float = 75.0
    #: Mean days from separation to a tracing request.
    request_delay_days: float = 140.0
    #: Mean extra days before a duplicate registration.
    duplicate_delay_days: float = 240.0
    #: The "today" of the simulated world: no registration is dated after it.
    as_of: dt.date = dt.date(2025, 10, 31)


@dataclass(frozen=True, slots=True)
class NoiseParams:
    """How field staff, children and relatives make a record differ from the truth."""

    #: Per written Latin name token: one keyboard/hearing typo (swap, drop, double, substitute).
    typo_rate: float = 0.03
    #: Chance that a record knows only the child's first name (and maybe a nickname).
    first_name_only_rate: float = 0.04
    #: Chance that a record that knows a nickname writes it (name_nickname or in the name).
    nickname_rate: float = 0.25
    #: Chance that the whole record is written in Latin even though the agency uses native
    #: script, multiplied per agency: see the culture files' ``native`` rates.
    native_with_latin_rate: float = 0.5
    #: Chance that the parts are put in the wrong fields (first/last swapped).
    field_swap_rate: float = 0.05
    #: Chance that a patronymic chain drops the grandfather's name (cultures may raise it).
    drop_grandfather_rate: float = 0.3
    #: Chance that the recorded sex is missing / wrong.
    sex_missing_rate: float = 0.03
    sex_wrong_rate: float = 0.01
    #: Chance that an estimated age is heaped on a multiple of five (or on 10 for teenagers).
    age_heaping_rate: float = 0.35
    #: Standard deviation of an age estimate, in years, plus this fraction of the true age.
    age_error_sd: float = 0.8
    age_error_sd_per_year: float = 0.08
    #: Chance that an unknown date of birth is written as 1 January of the estimated year.
    dob_jan1_rate: float = 0.3
    #: Chance that day and month of a known date of birth are swapped (when both <= 12).
    dob_swap_rate: float = 0.03
    #: Chance that a known date of birth is off by one year (a wrong calendar conversion).
    dob_year_off_rate: float = 0.03
    #: Chance that a case record leaves out the mother's / father's name even when the child
    #: is old enough to know it (younger children know less: see registration.py).
    parent_name_missing_rate: float = 0.2
    #: Chance that the place of origin is missing from a record.
    origin_missing_rate: float = 0.12
    #: Chance that a record's place of origin is a neighbouring place instead (the district
    #: town, where the family last lived).
    origin_wrong_rate: float = 0.06
    #: Chance that a sibling's name is written instead of the child's own (copying errors
    #: between siblings' forms in one session).
    sibling_mixup_rate: float = 0.003
