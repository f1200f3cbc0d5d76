import json
from pathlib import Path

import openpyxl
import pytest

from kinlink.ingest import FileProblem, InvalidRows, read_records

HEADER = "record_id,record_type,name,sex,date_of_birth,age,agency\n"


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def test_csv_utf8(tmp_path):
    f = write(tmp_path / "r.csv", HEADER + "C1,case,Maxamed Cabdi Xasan,M,07/03/2015,,SCI\n")
    result = read_records(f)
    assert [r.name for r in result.records] == ["Maxamed Cabdi Xasan"]
    assert result.records[0].date_of_birth == "2015-03-07"
    assert result.format == "csv" and len(result.sha256) == 64


def test_csv_with_bom_and_semicolons_as_excel_writes_in_french(tmp_path):
    body = HEADER.replace(",", ";") + "C1;case;Mahamat Abakar;masculin;2014;;IRC\n"
    f = write(tmp_path / "r.csv", b"\xef\xbb\xbf" + body.encode("utf-8"))
    result = read_records(f)
    assert result.records[0].record_id == "C1"  # BOM not glued to the first header
    assert result.records[0].sex == "male"


def test_tsv(tmp_path):
    f = write(tmp_path / "r.tsv", HEADER.replace(",", "\t") + "C1\tcase\tОлександр\t\t\t\t\n")
    assert read_records(f).records[0].name == "Олександр"


def test_line_numbers_count_multiline_cells(tmp_path):
    body = HEADER + 'C1,case,"Amina\nHassan",F,,,\nC2,case,Ali,M,31/02/2015,,\n'
    f = write(tmp_path / "r.csv", body)
    with pytest.raises(InvalidRows) as err:
        read_records(f)
    [problem] = err.value.result.errors
    assert problem.line == 4 and problem.column == "date_of_birth"
    assert "does not exist" in str(problem)


def test_xlsx_first_sheet(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["record_id", "record_type", "name", "telephone", "age", "date_of_birth"])
    ws.append(["X1", "case", "Tesfaye Hagos", 252612345678, 7, None])
    ws.append([None, None, None, None, None, None])
    ws.append(["X2", "tracing_request", "ተስፋዬ", None, 7.5, "2015-03"])
    wb.create_sheet("other").append(["ignored"])
    wb.save(tmp_path / "r.xlsx")
    result = read_records(tmp_path / "r.xlsx")
    assert [r.record_id for r in result.records] == ["X1", "X2"]
    assert result.records[0].telephone == "252612345678"  # not "252612345678.0"
    assert result.records[1].age == 7.5
    assert result.lines == [2, 4]


def test_xlsx_date_cells(tmp_path):
    import datetime as dt

    wb = openpyxl.Workbook()
    wb.active.append(["record_id", "record_type", "date_of_birth"])
    wb.active.append(["X1", "case", dt.datetime(2016, 5, 4)])
    wb.save(tmp_path / "r.xlsx")
    assert read_records(tmp_path / "r.xlsx").records[0].date_of_birth == "2016-05-04"


def test_jsonl(tmp_path):
    lines = [
        {"record_id": "J1", "record_type": "case", "name": "محمد", "age": 6, "estimated": True},
        {"record_id": "J2", "record_type": "case", "name_other": ["Sasha", "Sashko"]},
    ]
    f = write(tmp_path / "r.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n\n")
    result = read_records(f)
    assert result.records[0].estimated is True and result.records[0].age == 6.0
    assert result.records[1].name_other == "Sasha;Sashko"


def test_jsonl_bad_lines_reported_by_line(tmp_path):
    f = write(
        tmp_path / "r.jsonl",
        '{"record_id": "J1", "record_type": "case"}\n{not json}\n[1, 2]\n'
        '{"record_id": "J2", "record_type": "case"}\n',
    )
    result = read_records(f, on_error="skip")
    assert [e.line for e in result.errors] == [2, 3]
    assert [r.record_id for r in result.records] == ["J1", "J2"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("blank.csv", b"\n\n  \n", "no content"),
        ("bin.csv", b"record_id,record_type\n\x00\x01\x02\xff", "binary"),
        (
            "latin1.csv",
            "record_id,record_type,name\nA,case,Jos\xe9\n".encode("latin-1"),
            "not valid utf-8",
        ),
        ("book.csv", b"PK\x03\x04rest-of-a-zip", "Excel workbook"),
        ("old.csv", b"\xd0\xcf\x11\xe0rest", ".xls"),
        ("fake.xlsx", b"record_id,record_type\n", "not an Excel workbook"),
        ("r.pdf", b"%PDF-1.4", "unsupported file type"),
        ("nocols.csv", b"id,type\n1,case\n", "columns not in record format v1"),
        ("noreq.csv", b"record_id,name\n1,Ali\n", "required columns missing"),
    ],
)
def test_whole_file_problems_get_one_clear_error(tmp_path, name, content, message):
    f = write(tmp_path / name, content)
    with pytest.raises(FileProblem, match=message):
        read_records(f)


def test_missing_file(tmp_path):
    with pytest.raises(FileProblem, match="no such file"):
        read_records(tmp_path / "nope.csv")


def test_wrong_encoding_can_be_given(tmp_path):
    f = write(tmp_path / "r.csv", "record_id,record_type,name\nA,case,José\n".encode("cp1252"))
    assert read_records(f, encoding="cp1252").records[0].name == "José"


def test_each_bad_row_reported_with_line_column_reason(tmp_path):
    body = (
        HEADER
        + "C1,case,Ali,M,2015,,\n"
        + "C2,person,Ali,M,2015,,\n"
        + "C3,case,Ali,Q,2015,abc,\n"
        + ",case,Ali,,,,\n"
        + "C1,case,Again,,,,\n"
        + "C5,case,Ali,M,2015,,,extra\n"
    )
    f = write(tmp_path / "r.csv", body)
    result = read_records(f, on_error="skip")
    found = {(e.line, e.column) for e in result.errors}
    assert found == {
        (3, "record_type"),
        (4, "sex"),
        (4, "age"),
        (5, "record_id"),
        (6, "record_id"),
        (7, None),
    }
    assert [r.record_id for r in result.records] == ["C1"]
    assert result.rejected_lines == 5 and result.rows_seen == 6


def test_abort_raises_with_every_problem(tmp_path):
    f = write(tmp_path / "r.csv", HEADER + "C1,case,,,2015-02-30,,\nC2,case,,,,-3,\n")
    with pytest.raises(InvalidRows) as err:
        read_records(f)
    assert len(err.value.result.errors) == 2


def test_agency_fills_only_empty_cells(tmp_path):
    f = write(tmp_path / "r.csv", HEADER + "C1,case,,,,,SCI\nC2,case,,,,,\n")
    result = read_records(f, agency="UNICEF")
    assert [r.agency for r in result.records] == ["SCI", "UNICEF"]


def test_frame_has_every_v1_column_as_text(tmp_path):
    from kinlink.ingest import RECORD_COLUMNS

    f = write(tmp_path / "r.csv", HEADER + "C1,case,Ali,M,2015,~7,\n")
    frame = read_records(f).to_frame()
    assert list(frame.columns) == list(RECORD_COLUMNS)
    row = frame.iloc[0]
    assert row["age"] == "7" and row["estimated"] == "true" and row["telephone"] is None
