"""The store on SQLite and PostgreSQL: versioning, idempotent reloads, atomic loads."""

import pytest
from sqlalchemy import func, select

from kinlink.ingest import RecordV1
from kinlink.store import (
    RecordVersion,
    Source,
    StoredRecord,
    counts,
    find_records,
    history,
    list_records,
    load_records,
    stored_frame,
)


def rec(record_id, agency="SCI", **fields):
    return RecordV1.model_validate(
        {"record_id": record_id, "record_type": "case", "agency": agency, **fields}
    )


def load(store, records, sha="0" * 64):
    with store.session() as session:
        return load_records(session, records, file_name="f.csv", file_sha256=sha, file_format="csv")


def test_load_then_reload_same_adds_nothing(store):
    batch = [rec("C1", name="Maxamed Cabdi"), rec("C2", name="Олександр")]
    first = load(store, batch)
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
    again = load(store, batch)
    assert (again.inserted, again.updated, again.unchanged, again.source_id) == (0, 0, 2, None)
    with store.session() as session:
        # nothing superseded yet: no archived versions, one source, one version each
        assert session.scalar(select(func.count()).select_from(RecordVersion)) == 0
        assert session.scalar(select(func.count()).select_from(Source)) == 1
        [row] = find_records(session, "C1")
        assert [v.version for v in history(session, row.id)] == [1]


def test_changed_record_gets_new_version_and_keeps_history(store):
    load(store, [rec("C1", name="Mohamed", age="7")])
    summary = load(store, [rec("C1", name="Mohamed Ali", age="7")], sha="1" * 64)
    assert (summary.inserted, summary.updated) == (0, 1)
    with store.session() as session:
        [row] = find_records(session, "C1")
        assert row.version == 2 and row.data["name"] == "Mohamed Ali"
        versions = history(session, row.id)
        assert [v.data["name"] for v in versions] == ["Mohamed", "Mohamed Ali"]
        assert versions[1].source_id == summary.source_id


def test_same_record_id_in_two_agencies_are_two_records(store):
    load(store, [rec("1", agency="SCI"), rec("1", agency="IRC")])
    with store.session() as session:
        assert len(find_records(session, "1")) == 2
        assert len(find_records(session, "1", agency="IRC")) == 1
        assert {(c.agency, c.count) for c in counts(session)} == {("SCI", 1), ("IRC", 1)}


def test_failed_load_changes_nothing(store):
    load(store, [rec("C1", name="Amina")])
    with pytest.raises(RuntimeError), store.session() as session:
        load_records(
            session,
            [rec("C1", name="Changed"), rec("C9", name="New")],
            file_name="f.csv",
            file_sha256="2" * 64,
            file_format="csv",
        )
        raise RuntimeError("the process dies half-way through the load")
    with store.session() as session:
        [row] = find_records(session, "C1")
        assert row.data["name"] == "Amina" and row.version == 1
        assert find_records(session, "C9") == []
        assert session.scalar(select(func.count()).select_from(StoredRecord)) == 1


def test_list_paginates_in_stable_order(store):
    load(store, [rec(f"C{i:02d}") for i in range(12)])
    with store.session() as session:
        page1 = list_records(session, limit=5)
        page3 = list_records(session, limit=5, offset=10)
    assert [r.record_id for r in page1] == [f"C{i:02d}" for i in range(5)]
    assert [r.record_id for r in page3] == ["C10", "C11"]


def test_any_script_round_trips(store):
    names = ["محمد عبد الله", "ተስፋዬ ገብረመድህን", "Олександр", "မောင်မောင်", "José Ñúñez", "👩‍👧"]
    load(store, [rec(f"U{i}", name=n) for i, n in enumerate(names)])
    with store.session() as session:
        frame = stored_frame(session)
    assert sorted(frame["name"]) == sorted(names)
