from hypothesis import given, settings
from hypothesis import strategies as st

from kinlink.ingest.columns import RECORD_COLUMNS
from kinlink.matching.prepare import birth_interval, normalise_phone, parse_date, prepare_row


def test_parse_date_forms():
    assert parse_date("2015-03-04") == (2015, 3, 4)
    assert parse_date("2015-03") == (2015, 3, None)
    assert parse_date("2015") == (2015, None, None)
    assert parse_date("20150304") == (2015, 3, 4)  # FEBRL
    assert parse_date("not a date") is None


def test_birth_interval_exact_and_estimated():
    assert birth_interval("2015-03-04", None, None, None) == (2015, 2015)
    # age 7 at registration in 2023: born 2015 or 2016
    assert birth_interval(None, "7", "2023-05-01", "false") == (2015, 2016)
    lo, hi = birth_interval(None, "7", "2023-05-01", "true")
    assert lo < 2015 and hi > 2016  # an estimated age is a wider interval
    assert birth_interval(None, None, "2023-05-01", None) == (None, None)


def test_birth_interval_ignores_non_numbers_that_parse_as_floats():
    # float("nan") and float("inf") succeed; neither is an age (int(nan) used to raise).
    for text in ("nan", "NaN", "inf", "-inf", "1e999"):
        assert birth_interval(None, text, "2023-05-01", "true") == (None, None)


def test_phone_forms_agree():
    assert normalise_phone("+256 772 123456") == normalise_phone("0772123456")
    assert normalise_phone("00256772123456") == normalise_phone("0772 123 456")
    assert normalise_phone("12") is None


def test_inquirer_fills_relation_slot():
    row = prepare_row(
        {
            "record_id": "t1",
            "record_type": "tracing_request",
            "name": "Amina Hassan",
            "inquirer_name": "Fatuma Ali",
            "inquirer_relation": "mother",
        }
    )
    assert row["mother_tokens"] and row["father_tokens"] == []
    aunt = prepare_row({"record_id": "t2", "inquirer_name": "Hodan", "inquirer_relation": "aunt"})
    assert aunt["caregiver_tokens"] and aunt["mother_tokens"] == []


def test_consent_and_ids():
    row = prepare_row(
        {"record_id": "c", "consent_for_tracing": "false", "unhcr_individual_no": "ab-12 3"}
    )
    assert row["consent"] is False
    assert row["ids"] == ["unhcr:AB123"]


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(RECORD_COLUMNS), st.text(max_size=30)))
def test_prepare_row_is_total(record):
    record["record_id"] = "x"
    row = prepare_row(record)
    assert isinstance(row["name_all"], list)
    assert (row["by_lo"] is None) == (row["by_hi"] is None)
