"""The CLI contract: exit codes, messages, and that a failed load stores nothing."""

import json

from typer.testing import CliRunner

from kinlink.cli import app, exitcodes
from kinlink.cli import commands as _commands  # noqa: F401  (registers commands)

runner = CliRunner()
HEADER = "record_id,record_type,name,sex,date_of_birth\n"


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_ingest_and_counts(kinlink_home, tmp_path):
    f = tmp_path / "r.csv"
    f.write_text(HEADER + "C1,case,Ali,M,2015\nT1,tracing_request,Ali,M,2015\n", encoding="utf-8")
    result = invoke("ingest", f, "--agency", "SCI")
    assert result.exit_code == 0, result.output
    assert "2 new" in result.output
    assert (kinlink_home / "kinlink.sqlite").exists()
    out = invoke("records").output
    assert "case" in out and "tracing_request" in out and "SCI" in out
    again = invoke("ingest", f, "--agency", "SCI")
    assert "0 new, 0 updated, 2 unchanged" in again.output


def test_abort_stores_nothing_and_exits_4(kinlink_home, tmp_path):
    f = tmp_path / "r.csv"
    f.write_text(HEADER + "C1,case,Ali,M,2015\nC2,case,Ali,M,31/02/2015\n", encoding="utf-8")
    result = invoke("ingest", f)
    assert result.exit_code == exitcodes.INVALID_ROWS
    assert "line 3, column date_of_birth" in result.output
    assert "nothing was stored" in result.output
    assert "no records stored yet" in invoke("records").output


def test_skip_stores_valid_rows_and_writes_errors(kinlink_home, tmp_path):
    f = tmp_path / "r.csv"
    f.write_text(HEADER + "C1,case,Ali,M,2015\nC2,case,Ali,X,2015\n", encoding="utf-8")
    errors = tmp_path / "errors.csv"
    result = invoke("ingest", f, "--on-error", "skip", "--errors-out", errors)
    assert result.exit_code == exitcodes.INVALID_ROWS
    assert "1 new" in result.output
    assert errors.read_text().splitlines()[1].startswith("3,sex,")
    shown = json.loads(invoke("records", "show", "C1").output)
    assert shown["data"]["name"] == "Ali"
    assert shown["source"]["file_name"] == "r.csv" and shown["source"]["loaded_at"]


def test_bad_file_exits_3(kinlink_home, tmp_path):
    f = tmp_path / "r.csv"
    f.write_bytes(b"\x00\x01binary")
    result = invoke("ingest", f)
    assert result.exit_code == exitcodes.BAD_FILE
    assert "binary" in result.output


def test_show_history_and_not_found(kinlink_home, tmp_path):
    f = tmp_path / "r.csv"
    f.write_text(HEADER + "C1,case,Ali,M,2015\n", encoding="utf-8")
    invoke("ingest", f)
    f.write_text(HEADER + "C1,case,Ali Hassan,M,2015\n", encoding="utf-8")
    assert "1 updated" in invoke("ingest", f).output
    shown = json.loads(invoke("records", "show", "C1", "--history").output)
    assert [v["data"]["name"] for v in shown["history"]] == ["Ali", "Ali Hassan"]
    assert invoke("records", "show", "nope").exit_code == exitcodes.NOT_FOUND


def test_list_json(kinlink_home, tmp_path):
    f = tmp_path / "r.csv"
    f.write_text(HEADER + "C1,case,محمد,M,2015\n", encoding="utf-8")
    invoke("ingest", f)
    [line] = invoke("records", "list", "--json").output.splitlines()
    assert json.loads(line)["name"] == "محمد"
