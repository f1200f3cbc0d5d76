"""Arbitrary Unicode in every text field: nothing crashes, nothing is lost silently."""

import csv
import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinlink.ingest import RECORD_COLUMNS, FileProblem, RecordV1, read_records

FIXTURE = HealthCheck.function_scoped_fixture

TEXT_COLUMNS = [
    name
    for name, field in RecordV1.model_fields.items()
    if name not in {"record_id", "record_type", "sex", "age", "estimated", "consent_for_tracing"}
    and "date" not in name
]

# Names in any script: combining marks, zero-width joiners, RTL marks, emoji, surrogate-free.
any_text = st.text(
    alphabet=st.characters(exclude_categories=("Cs",)), min_size=0, max_size=60
) | st.sampled_from(["\u200d", "\u200f\u0645\u062d\u0645\u062f", "A\u0301\u0301", "👩‍👧", ""])


@st.composite
def rows(draw):
    values = {c: draw(any_text) for c in TEXT_COLUMNS}
    values["record_id"] = draw(any_text)
    values["record_type"] = draw(st.sampled_from(["case", "tracing_request", draw(any_text)]))
    for column in ("date_of_birth", "registration_date", "sex", "age", "estimated"):
        values[column] = draw(any_text)
    return values


def _check(result, rows_written):
    lines_seen = set(result.lines) | {e.line for e in result.errors}
    assert len(result.records) + result.rejected_lines == result.rows_seen
    assert len(lines_seen) <= rows_written
    for record in result.records:
        # every stored value is canonical text: no control characters, stripped
        for column in TEXT_COLUMNS:
            value = getattr(record, column)
            assert value is None or (value == value.strip() and "\x00" not in value)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(rows(), min_size=1, max_size=4))
def test_csv_with_arbitrary_text_never_crashes(tmp_path, batch):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(RECORD_COLUMNS))
    writer.writeheader()
    for row in batch:
        writer.writerow(row)
    path = tmp_path / "fuzz.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    try:
        result = read_records(path, on_error="skip")
    except FileProblem:
        return  # e.g. a row of only whitespace: a clear whole-file message is fine
    _check(result, len(batch))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(rows(), min_size=1, max_size=4))
def test_jsonl_with_arbitrary_text_never_crashes(tmp_path, batch):
    path = tmp_path / "fuzz.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in batch), encoding="utf-8")
    result = read_records(path, on_error="skip")
    _check(result, len(batch))


@settings(max_examples=100, deadline=None)
@given(rows())
def test_model_accepts_or_explains(row):
    from pydantic import ValidationError

    try:
        record = RecordV1.model_validate(row)
    except ValidationError as err:
        assert all(e["loc"] for e in err.errors())
        return
    assert RecordV1.model_validate(record.to_row()) == record  # stored form round-trips
