"""Separation, registration and tracing: how a family's misfortune becomes records.

For each family a separation event takes some of its children. A separated child may be
registered as a *case* by an agency where it ends up (sometimes twice or three times, by
other agencies, in other countries, years apart), and the family may file a *tracing
request* through a relative (mother, father, aunt, uncle, grandparent, adult sibling), often
at another agency or in another country, one row per sought child sharing an ``inquiry_id``.
Many children are registered and never looked for; some are looked for and never registered.

What each record knows depends on who gave the information: a four-year-old knows neither
its date of birth nor its father's full name; a mother knows both; an aunt knows less.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from kinlink.datasets.synthetic import variants as v
from kinlink.datasets.synthetic.cultures import Culture, NameEntry, Operation
from kinlink.datasets.synthetic.families import Child, Family, Person, _adult, _ancestor
from kinlink.datasets.synthetic.params import NoiseParams, WorldParams

Record = dict[str, str]

_RC_WORDS = ("Red Cross", "Red Crescent", "Croix-Rouge", "Cruz Roja")


def age_at(dob: dt.date, when: dt.date) -> int:
    """Completed years between ``dob`` and ``when``."""
    return when.year - dob.year - ((when.month, when.day) < (dob.month, dob.day))


def _days(rng: random.Random, mean: float) -> dt.timedelta:
    return dt.timedelta(days=int(rng.expovariate(1.0 / mean)))


def _phone(rng: random.Random, person: Person, prefix: str) -> str:
    if not person.phone:
        person.phone = f"{prefix}{rng.randrange(10**6, 10**7)}"
    p = person.phone
    r = rng.random()
    if r < 0.5:
        return p
    if r < 0.75:
        return p.replace(" ", "")
    if r < 0.9:
        return "00" + p[1:].replace(" ", "")
    return "0" + p.split(" ", 1)[-1].replace(" ", "")


@dataclass(slots=True)
class _Ctx:
    rng: random.Random
    culture: Culture
    family: Family
    world: WorldParams
    noise: NoiseParams
    sep_date: dt.date
    sep_place: NameEntry | str


def _sex(ctx: _Ctx, child: Child) -> str:
    r = ctx.rng.random()
    if r < ctx.noise.sex_missing_rate:
        return ""
    if r < ctx.noise.sex_missing_rate + ctx.noise.sex_wrong_rate:
        return "female" if child.sex == "male" else "male"
    return child.sex


def _dob_age(ctx: _Ctx, child: Child, reg: dt.date, p_known: float) -> tuple[str, str, str]:
    """(date_of_birth, age, estimated): exact when someone knows it, else an estimate."""
    rng, noise = ctx.rng, ctx.noise
    assert child.dob is not None
    true_age = max(0, age_at(child.dob, reg))
    if rng.random() < p_known:
        d = child.dob
        if rng.random() < noise.dob_year_off_rate:
            try:
                d = d.replace(year=d.year + rng.choice((-1, 1)))
            except ValueError:  # 29 February
                d = d.replace(year=d.year + 1, day=28)
        text = d.isoformat()
        if d.day <= 12 and d.day != d.month and rng.random() < noise.dob_swap_rate:
            text = f"{d.year:04d}-{d.day:02d}-{d.month:02d}"
        if rng.random() < 0.05:
            text = text[:7]
        age = str(max(0, age_at(d, reg))) if rng.random() < 0.85 else ""
        return text, age, "false"
    sd = noise.age_error_sd + noise.age_error_sd_per_year * true_age
    est = round(true_age + rng.gauss(0.0, sd))
    if est >= 3 and rng.random() < noise.age_heaping_rate:
        est = 5 * round(est / 5)
    est = max(0, min(17, est))
    r = rng.random()
    if r < noise.dob_jan1_rate:
        dob = f"{reg.year - est:04d}-01-01"
    elif r < noise.dob_jan1_rate + 0.2:
        dob = f"{reg.year - est:04d}"
    else:
        dob = ""
    return dob, str(est), "true"


def _place(ctx: _Ctx, wr: v.Writer, entry: NameEntry | str) -> str:
    if isinstance(entry, str):
        return entry
    return v.place(entry, wr, ctx.rng)


def _origin(ctx: _Ctx, wr: v.Writer) -> str:
    rng, noise = ctx.rng, ctx.noise
    r = rng.random()
    if r < noise.origin_missing_rate:
        return ""
    if r < noise.origin_missing_rate + noise.origin_wrong_rate:
        return v.place(ctx.culture.pool("places").draw(rng), wr, rng)
    return v.place(ctx.family.village, wr, rng)


def _child_part(
    ctx: _Ctx, child: Child, wr: v.Writer, reg: dt.date, p_dob: float, informed: bool
) -> Record:
    """Name, sex, birth and origin fields of one record of ``child``."""
    rng, noise, culture = ctx.rng, ctx.noise, ctx.culture
    drop_gf = culture.drop_grandfather
    if drop_gf is None:
        drop_gf = noise.drop_grandfather_rate
    name, first, middle, last, other = v.child_name(child, culture, wr, rng, drop_gf)
    if wr.native and rng.random() < noise.native_with_latin_rate:
        latin = v.child_name(child, culture, v.latin_copy(wr), rng, drop_gf)[0]
        other = f"{other};{latin}" if other else latin
    nick = v.nickname(child, culture, wr, rng) if rng.random() < noise.nickname_rate else ""
    if rng.random() < noise.first_name_only_rate:
        # Only a first name (and often a nickname) is known: a small child, a neighbour's word.
        first = v.write(child.given[0], wr, rng)
        name, middle, last, other = first, "", "", ""
        if child.nickname and rng.random() < 0.6:
            nick = v.nickname(child, culture, wr, rng)
    elif rng.random() < noise.field_swap_rate and last:
        first, last = last, first
    dob, age, estimated = _dob_age(ctx, child, reg, p_dob)
    loc_sep = ""
    if rng.random() < (0.75 if informed else 0.45):
        loc_sep = _place(ctx, wr, ctx.sep_place)
    date_sep = ""
    if rng.random() < (0.75 if informed else 0.4):
        jitter = dt.timedelta(days=int(rng.gauss(0, 6))) if rng.random() < 0.4 else dt.timedelta()
        date_sep = (ctx.sep_date + jitter).isoformat()
    rec: Record = {
        "name": name,
        "name_first": first,
        "name_middle": middle,
        "name_last": last,
        "name_nickname": nick,
        "name_other": other,
        "sex": _sex(ctx, child),
        "date_of_birth": dob,
        "age": age,
        "estimated": estimated,
        "nationality": v.weighted(rng, culture.nationality) if rng.random() < 0.75 else "",
        "ethnicity": v.weighted(rng, culture.ethnicity) if rng.random() < 0.5 else "",
        "language": v.weighted(rng, culture.language) if rng.random() < 0.6 else "",
        "location_origin": _origin(ctx, wr),
        "location_separation": loc_sep,
        "date_of_separation": date_sep,
    }
    if child.national_id and rng.random() < (0.5 if informed else 0.6):
        nid = child.national_id
        if rng.random() < 0.02:
            i = rng.randrange(len(nid))
            nid = nid[:i] + str(rng.randrange(10)) + nid[i + 1 :]
        rec["national_id_no"] = nid
    return rec


def _writer_at(ctx: _Ctx, op: Operation) -> tuple[v.Writer, str]:
    agency = ctx.rng.choice(op.agencies)
    return v.make_writer(ctx.rng, ctx.culture, op, agency, ctx.noise), ctx.rng.choice(op.sites)


def _stranger(ctx: _Ctx, sex: str) -> Person:
    rng, culture = ctx.rng, ctx.culture
    surname = (culture.pool("surnames").draw(rng),) if "surnames" in culture.pools else ()
    if culture.structure == "spanish":
        surname = (*surname, culture.pool("surnames").draw(rng))
    return _adult(rng, culture, sex, _ancestor(rng, culture, 2), surname)


def _case(ctx: _Ctx, child: Child, op: Operation, reg: dt.date) -> Record:
    rng, fam, culture, noise = ctx.rng, ctx.family, ctx.culture, ctx.noise
    wr, site = _writer_at(ctx, op)
    assert child.dob is not None
    age = max(0, age_at(child.dob, reg))
    p_dob = culture.dob_known * min(1.0, 0.35 + 0.06 * age)
    rec = _child_part(ctx, child, wr, reg, p_dob, informed=False)
    knows = min(0.92, 0.1 + 0.07 * age) * (1.0 - noise.parent_name_missing_rate)
    if rng.random() < knows:
        rec["mother_name"] = v.adult_name(fam.mother, culture, wr, rng)
    if rng.random() < knows:
        rec["father_name"] = v.adult_name(fam.father, culture, wr, rng)
    if rng.random() < 0.55:
        if rng.random() < 0.15 and (fam.aunts or fam.uncles):
            carer: Person = rng.choice([*fam.aunts, *fam.uncles])
        else:
            carer = _stranger(ctx, "female" if rng.random() < 0.7 else "male")
        rec["caregiver_name"] = v.adult_name(carer, culture, wr, rng)
        if rng.random() < 0.5:
            rec["telephone"] = _phone(rng, carer, op.phone)
    if wr.agency.startswith("UNHCR"):
        if not child.unhcr_no:
            child.unhcr_no = (
                f"{op.country[:3].upper()}-{reg.year % 100:02d}C{rng.randrange(10**5):05d}"
            )
        if rng.random() < 0.9:
            rec["unhcr_individual_no"] = child.unhcr_no
    elif child.unhcr_no and rng.random() < 0.15:
        rec["unhcr_individual_no"] = child.unhcr_no
    if any(w in wr.agency for w in _RC_WORDS) and rng.random() < 0.7:
        rec["icrc_ref_no"] = f"RFL/{op.country[:3].upper()}/{reg.year}/{rng.randrange(10**5):05d}"
    rec.update(
        record_type="case",
        agency=wr.agency,
        registration_date=reg.isoformat(),
        location_current=site,
        consent_for_tracing=_consent(rng),
    )
    return rec


def _consent(rng: random.Random) -> str:
    r = rng.random()
    return "true" if r < 0.9 else ("false" if r < 0.94 else "")


_RELATIONS = (
    ("mother", 42),
    ("father", 20),
    ("aunt", 10),
    ("uncle", 8),
    ("grandmother", 10),
    ("grandfather", 4),
    ("sibling", 6),
)


def _inquirer(ctx: _Ctx, exclude: str) -> tuple[str, Person]:
    rng, fam, culture = ctx.rng, ctx.family, ctx.culture
    rels = [r for r in _RELATIONS if r[0] != exclude]
    rel = rng.choices([r[0] for r in rels], [r[1] for r in rels])[0]
    if rel == "mother":
        return rel, fam.mother
    if rel == "father":
        return rel, fam.father
    if rel == "grandmother":
        return rel, fam.grandmother
    if rel == "grandfather":
        return rel, fam.grandfather
    if rel == "uncle" and fam.uncles:
        return rel, rng.choice(fam.uncles)
    if rel == "aunt" and fam.aunts:
        return rel, rng.choice(fam.aunts)
    if rel == "sibling":
        # An adult brother or sister: same parents, so the same patronymic chain.
        sex = "male" if rng.random() < 0.5 else "female"
        sib = _adult(rng, culture, sex, fam.father, fam.children[0].surname)
        return rel, sib
    # The mother's brother or sister: shares the mother's father in the name chain.
    sex = "male" if rel == "uncle" else "female"
    return rel, _adult(rng, culture, sex, fam.mother.father, fam.mother.surname)


def _requests(
    ctx: _Ctx, children: list[Child], op: Operation, reg: dt.date, exclude: str
) -> tuple[str, list[tuple[Child, Record]]]:
    """One tracing request for ``children``: one row per child, one inquiry_id."""
    rng, fam, culture = ctx.rng, ctx.family, ctx.culture
    relation, inquirer = _inquirer(ctx, exclude)
    wr, site = _writer_at(ctx, op)
    inquiry = f"INQ-{rng.getrandbits(48):012X}"
    parent = relation in ("mother", "father")
    p_dob = min(0.95, culture.dob_known + 0.35) if parent else culture.dob_known * 0.7
    inquirer_name = v.adult_name(inquirer, culture, wr, rng)
    phone = _phone(rng, inquirer, op.phone) if rng.random() < 0.85 else ""
    rows: list[tuple[Child, Record]] = []
    for child in children:
        rec = _child_part(ctx, child, wr, reg, p_dob, informed=True)
        if relation == "mother":
            rec["mother_name"] = inquirer_name if rng.random() < 0.95 else ""
        elif rng.random() < 0.85:
            rec["mother_name"] = v.adult_name(fam.mother, culture, wr, rng)
        if relation == "father":
            rec["father_name"] = inquirer_name if rng.random() < 0.95 else ""
        elif rng.random() < 0.85:
            rec["father_name"] = v.adult_name(fam.father, culture, wr, rng)
        if any(w in wr.agency for w in _RC_WORDS) and rng.random() < 0.7:
            rec["icrc_ref_no"] = f"RFL/{op.country[:3].upper()}/{reg.year}/{inquiry[-5:]}"
        rec.update(
            record_type="tracing_request",
            agency=wr.agency,
            registration_date=reg.isoformat(),
            location_current=site,
            inquirer_name=inquirer_name,
            inquirer_relation=relation,
            inquirer_telephone=phone,
            inquiry_id=inquiry,
            consent_for_tracing="true" if rng.random() < 0.97 else "",
        )
        rows.append((child, rec))
    return relation, rows


def _other_op(ctx: _Ctx, op: Operation) -> Operation:
    if ctx.rng.random() < ctx.world.other_country_rate:
        for _ in range(4):
            other = ctx.culture.draw_operation(ctx.rng)
            if other is not op:
                return other
    return op


def register_family(
    rng: random.Random,
    family: Family,
    sep_date: dt.date,
    world: WorldParams,
    noise: NoiseParams,
) -> list[tuple[Child, Record]]:
    """Every record that this family's separation produces, with the child it is about."""
    culture = family.culture
    r = rng.random()
    if r < 0.55:
        sep_place: NameEntry | str = family.village
    elif r < 0.85 and culture.transit:
        sep_place = rng.choice(culture.transit)
    else:
        sep_place = culture.pool("places").draw(rng)
    ctx = _Ctx(rng, culture, family, world, noise, sep_date, sep_place)
    separated = [c for c in family.children if rng.random() < world.child_separated_rate]
    if not separated:
        separated = [rng.choice(family.children)]
    # Twins stay together: a separated twin takes the other twin along most of the time.
    for c in list(separated):
        if c.twin:
            for o in family.children:
                twin = o is not c and o.twin and o.dob == c.dob and o not in separated
                if twin and rng.random() < 0.8:
                    separated.append(o)
    rows: list[tuple[Child, Record]] = []
    limit = world.as_of
    group_op = culture.draw_operation(rng)
    for child in separated:
        if rng.random() >= world.case_rate:
            continue
        op = group_op if rng.random() < 0.85 else culture.draw_operation(rng)
        reg = min(sep_date + dt.timedelta(days=1) + _days(rng, world.case_delay_days), limit)
        rows.append((child, _case(ctx, child, op, reg)))
        if rng.random() < world.duplicate_case_rate:
            n = 2 if rng.random() < world.third_case_rate else 1
            for _ in range(n):
                op = _other_op(ctx, op)
                reg = min(
                    reg + dt.timedelta(days=7) + _days(rng, world.duplicate_delay_days), limit
                )
                rows.append((child, _case(ctx, child, op, reg)))
    if rng.random() < world.sought_rate:
        op = group_op if rng.random() < 0.4 else culture.draw_operation(rng)
        reg = min(sep_date + dt.timedelta(days=3) + _days(rng, world.request_delay_days), limit)
        relation, got = _requests(ctx, separated, op, reg, exclude="")
        rows += got
        if rng.random() < world.second_request_rate:
            op = _other_op(ctx, op)
            reg = min(reg + dt.timedelta(days=7) + _days(rng, world.duplicate_delay_days), limit)
            rows += _requests(ctx, separated, op, reg, exclude=relation)[1]
    return rows
