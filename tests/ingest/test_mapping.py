from pathlib import Path

import pytest

from kinlink.ingest import FileProblem, load_mapping, read_records

MAPPINGS = Path(__file__).resolve().parents[2] / "ingest" / "mappings"


def test_kobo_export_loads_with_the_example_mapping(tmp_path):
    export = tmp_path / "kobo.csv"
    export.write_text(
        "_id,_uuid,child_full_name,child_sex,child_dob,child_age_years,consent_share,"
        "_submission_time\n"
        "101,u-1,Cabdi Maxamed,1,03/04/2016,,1,2024-01-01T10:00:00\n"
        "102,u-2,Faadumo Xasan,2,,~8,0,2024-01-01T10:00:00\n",
        encoding="utf-8",
    )
    mapping = load_mapping(MAPPINGS / "kobo-example.yaml")
    result = read_records(export, mapping=mapping, agency="NRC")
    first, second = result.records
    assert (first.record_id, first.record_type, first.sex) == ("101", "case", "male")
    assert first.date_of_birth == "2016-04-03" and first.consent_for_tracing is True
    assert second.sex == "female" and second.age == 8 and second.estimated is True
    assert second.consent_for_tracing is False and second.agency == "NRC"


def test_primero_mapping_is_valid():
    mapping = load_mapping(MAPPINGS / "primero-export.yaml")
    assert mapping.columns["case_id_display"] == "record_id"


def test_json_mapping_with_month_first_dates(tmp_path):
    (tmp_path / "m.json").write_text(
        '{"columns": {"ID": "record_id", "Kind": "record_type", "DOB": "date_of_birth"},'
        ' "date_order": "mdy"}',
        encoding="utf-8",
    )
    (tmp_path / "r.csv").write_text("id ,kind,dob\nA,case,03/13/2015\n", encoding="utf-8")
    result = read_records(tmp_path / "r.csv", mapping=load_mapping(tmp_path / "m.json"))
    assert result.records[0].date_of_birth == "2015-03-13"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("columns: {a: not_a_column}", "does not have"),
        ("constants: {nope: 1}", "does not have"),
        ("columns: [1, 2", "cannot be parsed"),
        ("- just a list", "must be a mapping"),
        ("colums: {}", "Extra inputs"),
    ],
)
def test_bad_mapping_files(tmp_path, content, message):
    (tmp_path / "m.yaml").write_text(content, encoding="utf-8")
    with pytest.raises(FileProblem, match=message):
        load_mapping(tmp_path / "m.yaml")


def test_two_columns_onto_one_target_is_refused(tmp_path):
    (tmp_path / "m.yaml").write_text("columns: {child: name}", encoding="utf-8")
    (tmp_path / "r.csv").write_text("record_id,record_type,name,child\nA,case,x,y\n")
    with pytest.raises(FileProblem, match="both map to 'name'"):
        read_records(tmp_path / "r.csv", mapping=load_mapping(tmp_path / "m.yaml"))
