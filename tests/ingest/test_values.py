import contextlib
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinlink.ingest import values
from kinlink.ingest.values import ValueProblem


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2015-03-07", "2015-03-07"),
        ("2015/03/07", "2015-03-07"),
        ("20150307", "2015-03-07"),
        ("2015-3-7", "2015-03-07"),
        ("2015-03", "2015-03"),
        ("2015", "2015"),
        ("07/03/2015", "2015-03-07"),
        ("7-3-2015", "2015-03-07"),
        ("07.03.2015", "2015-03-07"),
        ("03/2015", "2015-03"),
        ("2015-03-07T00:00:00", "2015-03-07"),
        (dt.date(2015, 3, 7), "2015-03-07"),
        (dt.datetime(2015, 3, 7, 12, 30), "2015-03-07"),
    ],
)
def test_dates_field_staff_write_are_read(written, expected):
    assert values.parse_date(written) == expected


def test_month_first_when_the_mapping_says_so():
    assert values.parse_date("03/07/2015", order="mdy") == "2015-03-07"


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("31/02/2015", "does not exist"),
        ("07/03/15", "two-digit year"),
        ("2015-13-01", "month 13"),
        ("03/13/2015", "date_order: mdy"),
        ("1850", "outside"),
        ("next tuesday", "not in an accepted form"),
        (f"{dt.date.today().year}-12-31x", "not in an accepted form"),
    ],
)
def test_bad_dates_are_rejected_with_a_reason(written, message):
    with pytest.raises(ValueProblem, match=message):
        values.parse_date(written)


def test_future_dates_are_rejected():
    future = dt.date.today() + dt.timedelta(days=2)
    if future.year != dt.date.today().year:
        pytest.skip("end of year: the year check fires first")
    with pytest.raises(ValueProblem, match="future"):
        values.parse_date(future.isoformat())


@pytest.mark.parametrize(
    ("written", "years", "marked"),
    [
        ("7", 7.0, False),
        ("7.5", 7.5, False),
        ("7,5", 7.5, False),
        ("~7", 7.0, True),
        ("7?", 7.0, True),
        ("18 months", 1.5, False),
        ("6 mois", 0.5, False),
        ("5 ans", 5.0, False),
        (9, 9.0, False),
    ],
)
def test_ages(written, years, marked):
    assert values.parse_age(written) == (years, marked)


@pytest.mark.parametrize("written", ["-1", "abc", "200", "7 weeks", ""])
def test_bad_ages(written):
    with pytest.raises(ValueProblem):
        values.parse_age(written)


@pytest.mark.parametrize(
    ("written", "sex"),
    [
        ("M", "male"),
        ("girl", "female"),
        ("Féminin", "female"),
        ("ذكر", "male"),
        ("unknown", None),
        ("other", "other"),
    ],
)
def test_sex(written, sex):
    assert values.parse_sex(written) == sex


def test_bad_sex():
    with pytest.raises(ValueProblem, match="male, female"):
        values.parse_sex("x7")


@pytest.mark.parametrize(
    ("written", "flag"),
    [("yes", True), ("Oui", True), ("0", False), ("FALSE", False), ("نعم", True)],
)
def test_bools(written, flag):
    assert values.parse_bool(written) is flag


def test_record_type_aliases():
    assert values.parse_record_type("Tracing Request") == "tracing_request"
    assert values.parse_record_type("CASE") == "case"
    with pytest.raises(ValueProblem):
        values.parse_record_type("person")


def test_clean_text_is_nfc_and_collapses_space():
    decomposed = "Jose\u0301   Maria\t"
    assert values.clean_text(decomposed) == "José Maria"
    assert values.clean_text("  \u0000 ") is None
    # the zero-width non-joiner is part of Persian spelling and is kept
    assert "\u200c" in values.clean_text("می\u200cخواهم")


def test_overlong_text_is_refused():
    with pytest.raises(ValueProblem, match="at most"):
        values.clean_text("a" * (values.MAX_TEXT_LENGTH + 1))


@given(st.text())
def test_parsers_never_fail_other_than_with_value_problem(text):
    for parser in (
        values.parse_date,
        values.parse_age,
        values.parse_sex,
        values.parse_bool,
        values.parse_record_type,
        values.clean_text,
    ):
        with contextlib.suppress(ValueProblem):
            parser(text)
