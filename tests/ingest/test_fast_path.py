"""The fast paths of a file load give exactly what the slow, pydantic path gives.

``construct_valid`` (records built without pydantic), the quote-free CSV
reader and ``RecordV1.to_row`` are speed-ups only: every test here runs the
same input through both paths and requires identical results, on arbitrary
Unicode as well as on the committed sample file.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from kinlink.ingest import RECORD_COLUMNS, RecordV1, read_records, readers, values
from kinlink.ingest import load as load_module
from kinlink.ingest import record as record_module
from kinlink.ingest.load import cyclic_gc_paused
from kinlink.ingest.mapping import ColumnPlan, Mapping
from kinlink.ingest.record import construct_mapped, construct_valid

SAMPLE = Path(__file__).resolve().parents[2] / "datasets" / "synthetic" / "sample" / "records.csv"
FIXTURE = [HealthCheck.function_scoped_fixture]

any_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)
# Values that parse (and values that almost do) for the typed columns, so the
# comparison covers accepted rows, not only rejected ones.
date_text = st.sampled_from(
    ["2015-03-07", "2015/3/7", "20150307", "2015-03", "2015", "07/03/2015", "03/07/2015",
     "13/01/2015", "01/13/2015", "7.3.2015", "03/2015", "2015-02-30", "07/03/15", "3000",
     " 2015-03-07 ", "2015-03-07T10:00:00Z", ""]
)  # fmt: skip
age_text = st.sampled_from(["7", "7.5", "~7", "7?", "18 months", "6 mois", "121", "x", " 5 ", ""])
sex_text = st.sampled_from(["M", "female", "Fille", "ذكر", "unknown", "?", "x", " f "])
bool_text = st.sampled_from(["true", "No", "oui", "1", "نعم", "maybe", ""])
type_text = st.sampled_from(["case", "tracing_request", "Tracing Request", "TR", "other"])
cell = st.one_of(any_text, st.none())
typed_cells = {
    "registration_date": date_text,
    "date_of_birth": date_text,
    "date_of_separation": date_text,
    "age": age_text,
    "sex": sex_text,
    "estimated": bool_text,
    "consent_for_tracing": bool_text,
    "record_type": type_text,
}
# What non-CSV readers hand over: numbers and booleans (JSON Lines), dates (XLSX).
other_values = st.one_of(
    st.integers(-5, 200),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(min_value=dt.date(1890, 1, 1), max_value=dt.date(2100, 1, 1)),
)


@st.composite
def rows(draw: st.DrawFn) -> dict[str, object]:
    columns = draw(st.lists(st.sampled_from(RECORD_COLUMNS), unique=True, max_size=20))
    row: dict[str, object] = {"record_id": draw(st.sampled_from(["C1", " C 2 ", "", "\u00a0"]))}
    row["record_type"] = draw(type_text)
    for column in columns:
        strategy = typed_cells.get(column, cell)
        row[column] = draw(
            st.one_of(strategy, cell, other_values) if draw(st.booleans()) else strategy
        )
    if draw(st.integers(0, 20)) == 0:
        row["not_a_column"] = "x"
    if draw(st.integers(0, 10)) == 0:
        del row["record_id"]
    return row


def same_record(fast: RecordV1, slow: RecordV1) -> None:
    assert fast == slow
    assert list(fast.__dict__.items()) == list(slow.__dict__.items())
    assert [type(v) for v in fast.__dict__.values()] == [type(v) for v in slow.__dict__.values()]
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.__pydantic_extra__ == slow.__pydantic_extra__
    assert fast.__pydantic_private__ == slow.__pydantic_private__
    assert fast.to_row() == slow.model_dump(mode="json", exclude_none=True)
    assert fast.model_dump_json() == slow.model_dump_json()


@settings(max_examples=400, deadline=None)
@given(rows(), st.sampled_from(["dmy", "mdy"]))
def test_construct_valid_is_model_validate(row, order):
    try:
        slow = RecordV1.model_validate(row, context={"date_order": order})
    except ValidationError:
        slow = None
    # twice: the first call fills the value caches, the second reads them
    for _ in range(2):
        fast = construct_valid(row, order)
        if slow is None:
            assert fast is None  # the caller then reports the slow path's errors
        else:
            assert fast is not None
            same_record(fast, slow)


# Headers as files have them: v1 names, names a mapping renames, ignored ones.
MAPPING = Mapping(
    columns={"Child Name": "name", "DOB": "date_of_birth", "Org": "agency"},
    ignore=["_uuid"],
)


@st.composite
def raw_rows(draw: st.DrawFn) -> tuple[list[str], dict[str, object]]:
    pool = ["Child Name", "DOB", "Org", "_uuid", *RECORD_COLUMNS]
    header = draw(st.lists(st.sampled_from(pool), unique=True, max_size=24))
    header = [h for h in header if h not in {"name", "date_of_birth", "agency"}]
    header = ["record_id", "record_type", *(h for h in header if h[:7] != "record_")]
    raw: dict[str, object] = {}
    for column in header:
        target = {"Child Name": "name", "DOB": "date_of_birth", "Org": "agency"}.get(column, column)
        strategy = typed_cells.get(target, cell)
        blank = st.sampled_from(["", "  ", "\t", "\u00a0", "\u3000"])
        raw[column] = draw(st.one_of(strategy, cell, other_values, blank))
    return header, raw


@settings(max_examples=400, deadline=None)
@given(
    raw_rows(),
    st.sampled_from([None, "", "  ", "Default Agency", "\u0645\u0646\u0638\u0645\u0629"]),
    st.sampled_from(["dmy", "mdy"]),
)
def test_construct_mapped_is_mapping_then_construct_valid(header_and_raw, agency, order):
    header, raw = header_and_raw
    plan = ColumnPlan(header, MAPPING.model_copy(update={"date_order": order}))
    assert plan.renames_only
    row = load_module._mapped(plan, raw, agency)
    expected = construct_valid(row, order)
    try:
        slow = RecordV1.model_validate(row, context={"date_order": order})
    except ValidationError:
        slow = None
    assert (expected is None) == (slow is None)
    for _ in range(2):  # cold caches, then warm
        fast = construct_mapped(raw, plan.renames, agency, order)
        if slow is None:
            assert fast is None
        else:
            assert fast is not None
            same_record(fast, slow)


def test_plans_with_value_tables_or_constants_take_the_general_path(tmp_path, monkeypatch):
    header = ["record_id", "record_type", "sex"]
    assert not ColumnPlan(header, Mapping(values={"sex": {"1": "male"}})).renames_only
    assert not ColumnPlan(header, Mapping(constants={"agency": "SCI"})).renames_only
    path = tmp_path / "m.csv"
    path.write_text("ID,type,sex\nC1,case,1\nC2,case,2\nC3,nope,1\n", encoding="utf-8")
    mapping = Mapping(
        columns={"ID": "record_id", "type": "record_type"},
        values={"sex": {"1": "male", "2": "female"}},
        constants={"agency": "SCI"},
    )
    fast, slow = _both_ways(path, monkeypatch, mapping=mapping)
    assert _result_tuple(fast) == _result_tuple(slow)
    assert [(r.sex, r.agency) for r in fast.records] == [("male", "SCI"), ("female", "SCI")]


def test_cache_keeps_date_orders_apart():
    row = {"record_id": "C1", "record_type": "case", "date_of_birth": "07/03/2015"}
    assert construct_valid(row, "dmy").date_of_birth == "2015-03-07"
    assert construct_valid(row, "mdy").date_of_birth == "2015-07-03"
    assert construct_valid(row, "dmy").date_of_birth == "2015-03-07"


def test_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(record_module, "_CACHE_LIMIT", 10)
    for i in range(50):
        construct_valid({"record_id": "C", "record_type": "case", "nationality": f"N{i}"})
    caches = record_module._STEPS["dmy"]
    assert len(caches["nationality"][1]) <= 10
    assert caches["name"][1] is None  # names are mostly unique: never cached


@settings(max_examples=200, deadline=None)
@given(rows())
def test_to_row_is_model_dump(row):
    try:
        record = RecordV1.model_validate(row)
    except ValidationError:
        return
    assert record.to_row() == record.model_dump(mode="json", exclude_none=True)
    assert list(record.to_row()) == list(record.model_dump(mode="json", exclude_none=True))


def _slow_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load_module, "construct_valid", lambda row, order: None)
    monkeypatch.setattr(load_module.RenamedRows, "construct", lambda self, raw, agency: None)
    monkeypatch.setattr(readers, "_quote_free_lines", lambda text: None)


def _result_tuple(result):
    return (
        [(type(r), r.__dict__, r.model_fields_set) for r in result.records],
        result.lines,
        [str(e) for e in result.errors],
        result.rows_seen,
    )


def _both_ways(path: Path, monkeypatch: pytest.MonkeyPatch, **kwargs):
    fast = read_records(path, on_error="skip", **kwargs)
    with monkeypatch.context() as patch:
        _slow_only(patch)
        slow = read_records(path, on_error="skip", **kwargs)
    return fast, slow


def test_sample_file_reads_the_same_both_ways(monkeypatch):
    fast, slow = _both_ways(SAMPLE, monkeypatch, agency="Fallback agency")
    assert len(fast.records) > 3000
    assert _result_tuple(fast) == _result_tuple(slow)


BAD = (
    "record_id,record_type,name,sex,date_of_birth,age,estimated,agency\n"
    "C1,case,Ali,M,07/03/2015,~7,,SCI\n"
    "C2,case,Ali,Q,31/02/2015,x,perhaps,SCI\n"
    "C3,kase,  ,, ,7?,no,\n"
    ",case,Nobody,,,,,\n"
    "C1,case,Again,F,2015,,,SCI\n"
    "\n"
    "C5,tracing_request,Amina,F,2015-13-01,121,,IRC,extra\n"
    "C6,tracing_request,\u0645\u062d\u0645\u062f,F,2015,1 year,,IRC\n"
)


def test_rejected_rows_read_the_same_both_ways(tmp_path, monkeypatch):
    path = tmp_path / "bad.csv"
    path.write_text(BAD, encoding="utf-8")
    fast, slow = _both_ways(path, monkeypatch, agency="Default")
    assert _result_tuple(fast) == _result_tuple(slow)
    messages = [str(e) for e in fast.errors]
    assert (
        "line 3, column sex: sex must be male, female or other (or empty), not 'Q' (value: 'Q')"
        in messages
    )
    assert any(m.startswith("line 3, column date_of_birth: date '31/02/2015'") for m in messages)
    assert "line 6, column record_id: record_id is already used on line 2 (value: 'C1')" in messages
    assert fast.lines == [2, 9]


# --- the quote-free CSV reader ----------------------------------------------

cell_text = st.text(
    alphabet=st.sampled_from([*"ab ,;\t\r\n\u2028\x85\x0b\x0c~é", "\u0645", "👩"]),
    max_size=12,
)


@settings(max_examples=400, deadline=None, suppress_health_check=FIXTURE)
@given(st.lists(cell_text, min_size=1, max_size=30), st.sampled_from([",", ";", "\t"]))
def test_quote_free_reader_reads_what_the_csv_module_reads(tmp_path, pieces, delimiter):
    text = "record_id" + delimiter + "name\n" + "".join(pieces)
    lines = readers._quote_free_lines(text)
    assert lines is not None
    path = tmp_path / "t.csv"
    fast = readers._read_quote_free(path, lines, delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    assert fast.header == [h.strip() for h in next(reader)]
    expected = []
    start = reader.line_num + 1
    for cells in reader:
        line, start = start, reader.line_num + 1
        row = readers._csv_row(line, cells, fast.header)
        if row is not None:
            expected.append(row)
    assert list(fast.rows) == expected


def test_quote_free_reader_steps_aside(tmp_path):
    assert readers._quote_free_lines('a,b\n"x",y\n') is None  # quoting: the csv module
    assert readers._quote_free_lines("a,b\nx\x00,y\n") is None  # NUL: the csv module explains
    long = "a,b\n" + "x" * (csv.field_size_limit() + 1) + ",y\n"
    assert readers._quote_free_lines(long) is None  # over the field limit: likewise
    path = tmp_path / "long.csv"
    path.write_text("record_id,record_type\n" + "x" * (csv.field_size_limit() + 1) + ",case\n")
    assert "field larger than field limit" in str(read_records(path, on_error="skip").errors[0])


def test_quoted_file_still_reads_with_line_numbers(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text(
        'record_id,record_type,name\nC1,case,"Ali, Hassan"\nC2,case,"two\nlines"\nC3,kase,x\n',
        encoding="utf-8",
    )
    result = read_records(path, on_error="skip")
    assert [r.name for r in result.records] == ["Ali, Hassan", "two lines"]
    assert [e.line for e in result.errors] == [5]


def test_cyclic_gc_paused_restores_the_collector():
    assert gc.isenabled()
    with cyclic_gc_paused():
        assert not gc.isenabled()
        with cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still holds
    assert gc.isenabled()
    gc.disable()
    try:
        with cyclic_gc_paused():
            pass
        assert not gc.isenabled()  # was off before: left off
    finally:
        gc.enable()
    with pytest.raises(RuntimeError), cyclic_gc_paused():
        raise RuntimeError
    assert gc.isenabled()


# --- clean_text without the regex engine --------------------------------------

_CONTROL_TABLE = str.maketrans(
    {chr(c): " " for c in [*range(32), 127, *range(0x80, 0xA0)]}  # as in values.py
)


def clean_text_reference(text: str) -> str | None:
    """clean_text as it was written before its non-ASCII path was sped up."""
    import re
    import unicodedata

    text = unicodedata.normalize("NFC", text.translate(_CONTROL_TABLE))
    text = re.sub(r"\s+", " ", text).strip()
    return text or None


spacey = st.text(
    alphabet=st.one_of(
        st.characters(exclude_categories=("Cs",)),
        st.sampled_from(["\u00a0", "\u2028", "\x85", "\x1c", "\u3000", "\t", "\r", " ", "\u200c"]),
        st.sampled_from(["\u0301", "\u212b", "\u0340", "\u2000", "\u037e", "\ufb01"]),
    ),
    max_size=40,
)


@settings(max_examples=1000, deadline=None)
@given(spacey)
def test_clean_text_is_the_regex_version(text):
    if len(text) <= 2000:
        assert values.clean_text(text) == clean_text_reference(text)


def test_records_share_field_sets_without_leaking(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("record_id,record_type,name\nC1,case,Ali\nC2,case,Amina\n", encoding="utf-8")
    first, second = read_records(path).records
    assert first.model_fields_set == second.model_fields_set == {"record_id", "record_type", "name"}
    copied = first.model_copy(update={"agency": "SCI"})
    assert copied.model_fields_set == {"record_id", "record_type", "name", "agency"}
    assert second.model_fields_set == {"record_id", "record_type", "name"}  # untouched
    with pytest.raises(ValidationError):
        second.name = "changed"  # frozen: pydantic never gets to add to the set
    assert second.model_fields_set == {"record_id", "record_type", "name"}


def test_generic_constructor_fallback_gives_the_same_record():
    # Used only if a pydantic release lays instances out differently.
    parsed = {"record_id": "C1", "record_type": "case", "age": 7.0, "name": "Ali"}
    same_record(record_module._build_generic(dict(parsed)), RecordV1.model_validate(parsed))
    assert record_module._construct is record_module._build_fast  # this pydantic: direct
