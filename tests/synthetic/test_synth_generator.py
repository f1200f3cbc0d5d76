"""Properties of the generated data: format, ground truth, determinism, coverage."""

from __future__ import annotations

import datetime as dt
import filecmp
import re

import pandas as pd
import pytest

from kinlink.datasets.synthetic import (
    CULTURE_IDS,
    TRUTH_COLUMNS,
    NoiseParams,
    WorldParams,
    generate,
    write_dataset,
)
from kinlink.ingest.columns import RECORD_COLUMNS

from .conftest import CHILDREN

DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def test_columns_exactly_record_format_v1(frames):
    records, truth = frames
    assert tuple(records.columns) == RECORD_COLUMNS
    assert tuple(truth.columns) == TRUTH_COLUMNS


def test_every_record_in_truth_and_exactly_k_children(frames):
    records, truth = frames
    assert records.record_id.is_unique
    assert list(records.record_id) == list(truth.record_id)
    assert truth.child_id.nunique() == CHILDREN
    assert (truth.child_id != "").all()
    # about 1.5 records per child: cases, duplicates and tracing requests
    assert 1.3 < len(records) / CHILDREN < 1.8


def test_one_culture_per_child(joined):
    assert (joined.groupby("child_id").culture.nunique() == 1).all()


def test_every_culture_present(frames):
    _, truth = frames
    assert set(truth.culture) == set(CULTURE_IDS)


def test_record_types_and_value_domains(frames):
    records, _ = frames
    assert set(records.record_type) == {"case", "tracing_request"}
    assert set(records.sex) <= {"male", "female", ""}
    assert set(records.estimated) <= {"true", "false", ""}
    assert set(records.consent_for_tracing) <= {"true", "false", ""}
    for col in ("date_of_birth",):
        assert records[col].map(lambda s: s == "" or bool(DATE.match(s))).all()
    for col in ("registration_date", "date_of_separation"):
        assert records[col].map(lambda s: s == "" or bool(FULL_DATE.match(s))).all()
    ages = records.age[records.age != ""].astype(int)
    assert ages.between(0, 30).all()
    assert (records.registration_date != "").all()
    assert (records.registration_date <= WorldParams().as_of.isoformat()).all()
    cases = records[records.record_type == "case"]
    assert (cases.inquiry_id == "").all() and (cases.inquirer_name == "").all()


def test_tracing_requests(joined):
    trs = joined[joined.record_type == "tracing_request"]
    assert len(trs) > 0
    assert (trs.inquiry_id != "").all()
    assert (trs.inquirer_relation != "").all()
    assert set(trs.inquirer_relation) <= {
        "mother",
        "father",
        "aunt",
        "uncle",
        "grandmother",
        "grandfather",
        "sibling",
    }
    # One inquiry = one inquirer asking for distinct children (siblings) in one go.
    for _, group in trs.groupby("inquiry_id"):
        assert group.child_id.is_unique
        assert group.inquirer_name.nunique() == 1
        assert group.agency.nunique() == 1
        assert group.registration_date.nunique() == 1
    assert (trs.groupby("inquiry_id").size() > 1).any()  # requests for two children exist


def test_truth_mixes_cases_requests_and_duplicates(joined):
    kinds = joined.groupby("child_id").record_type.agg(lambda s: frozenset(s))
    both = (kinds == frozenset({"case", "tracing_request"})).mean()
    case_only = (kinds == frozenset({"case"})).mean()
    tr_only = (kinds == frozenset({"tracing_request"})).mean()
    assert 0.25 < both < 0.55 and 0.3 < case_only < 0.65 and 0.05 < tr_only < 0.3
    cases = joined[joined.record_type == "case"]
    dup = cases.groupby("child_id").size()
    assert (dup > 1).mean() > 0.04  # same child registered twice
    multi = cases[cases.child_id.isin(dup[dup > 1].index)]
    assert (multi.groupby("child_id").agency.nunique() > 1).any()


def test_same_child_records_agree_roughly(joined):
    """A true pair keeps signal: ages close, sex mostly equal."""
    known = joined[(joined.age != "")].copy()
    known["year"] = known.registration_date.str[:4].astype(int) - known.age.astype(int)
    spread = known.groupby("child_id").year.agg(lambda s: s.max() - s.min())
    assert (spread <= 4).mean() > 0.97
    sexes = joined[joined.sex != ""].groupby("child_id").sex.nunique()
    assert (sexes == 1).mean() > 0.97


def test_look_alikes_common_names(frames):
    records, _ = frames
    top = records[records.name_first != ""].name_first.value_counts()
    # Zipf-like names: the most common first name is shared by many different children.
    assert top.iloc[0] > 30


def test_native_scripts_present(frames):
    records, _ = frames
    text = " ".join(records.name) + " ".join(records.location_origin)
    assert re.search("[\u0600-\u06ff]", text), "Arabic script"
    assert re.search("[\u0400-\u04ff]", text), "Cyrillic"
    assert re.search("[\u1200-\u137f]", text), "Ge'ez"
    assert re.search("[\u1000-\u109f]", text), "Burmese"


def test_spelling_habits_present(frames):
    records, _ = frames
    firsts = set(records.name_first) | set(records.name_middle) | set(records.name_last)
    names = " ".join(records.name)
    assert {"Mohamed", "Mahamat"} <= firsts or {"Mohamed", "Mahamat"} <= set(names.split())
    assert re.search(r"\b(Maxamed|Cabdi|Xasan|Cali|Axmed)\b", names), "Somali orthography"
    assert re.search(r"\bG/[A-Z]", names), "abbreviated Gebre-"
    assert re.search(r"\b(Al-|El-|Al )[A-Z]", names), "Arabic article variants"
    assert re.search(r"[A-Z]{4,} [A-Z]{3,}", names), "Congolese NOM POSTNOM"
    assert (records.name_nickname != "").sum() > 50
    assert (records.name_other != "").sum() > 50


def test_ukrainian_transliterations_vary(joined):
    ua = joined[(joined.culture == "ukrainian") & joined.name.str.match(r"^[A-Za-z]")]
    latin = set(" ".join(ua.name).split())
    assert len(latin & {"Oleksandr", "Olexandr", "Aleksandr", "Ołeksandr", "Alexander"}) >= 2 or (
        len(latin & {"Shevchenko", "Schewtschenko", "Szewczenko", "Chevtchenko"}) >= 2
    )


def test_estimated_ages_heap_on_round_numbers(frames):
    records, _ = frames
    est = records[(records.estimated == "true") & (records.age != "")].age.astype(int)
    share5 = est.isin([5, 10, 15]).mean()
    assert share5 > 0.3  # 3 of 18 ages would be ~0.17 without heaping


def test_deterministic_and_seed_sensitive():
    a_rec, a_truth = generate(11, 150)
    b_rec, b_truth = generate(11, 150)
    pd.testing.assert_frame_equal(a_rec, b_rec)
    pd.testing.assert_frame_equal(a_truth, b_truth)
    c_rec, _ = generate(12, 150)
    assert not a_rec.equals(c_rec)


def test_write_dataset_byte_identical(tmp_path):
    p1 = write_dataset(tmp_path / "a", 5, 200)
    p2 = write_dataset(tmp_path / "b", 5, 200)
    for x, y in zip(p1, p2, strict=True):
        assert filecmp.cmp(x, y, shallow=False)
    header = p1[0].read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(RECORD_COLUMNS)
    assert p1[1].read_text(encoding="utf-8").splitlines()[0] == "record_id,child_id,culture"


def test_zero_children(tmp_path):
    records, truth = generate(1, 0)
    assert len(records) == 0 and len(truth) == 0


def test_noise_parameters_take_effect():
    clean = NoiseParams(
        typo_rate=0.0, sex_missing_rate=0.0, sex_wrong_rate=0.0, first_name_only_rate=0.0
    )
    records, _ = generate(3, 300, noise=clean)
    assert (records.sex != "").all()
    noisy = NoiseParams(sex_missing_rate=1.0)
    records, _ = generate(3, 100, noise=noisy)
    assert (records.sex == "").all()


def test_world_parameters_take_effect():
    records, truth = generate(3, 300, world=WorldParams(sought_rate=0.0))
    assert set(records.record_type) == {"case"}
    assert truth.child_id.nunique() == 300


def test_separation_before_registration(frames):
    records, _ = frames
    both = records[records.date_of_separation != ""]
    sep = both.date_of_separation.map(dt.date.fromisoformat)
    reg = both.registration_date.map(dt.date.fromisoformat)
    assert ((reg - sep).map(lambda d: d.days) >= -30).all()


def test_validates_against_record_model(frames):
    record_mod = pytest.importorskip("kinlink.ingest.record")
    records, _ = frames
    for row in records.sample(300, random_state=1).to_dict("records"):
        clean = {k: v for k, v in row.items() if v != ""}
        record_mod.RecordV1.model_validate(clean)
