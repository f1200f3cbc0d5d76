"""Bulk loads: the SQLite fast insert stores exactly what the generic path stores.

The first load of a file goes straight to sqlite3's ``executemany`` on SQLite
and through SQLAlchemy Core elsewhere; both must leave the same rows (same
JSON text, hash, timestamps), and versioning must not care which one ran.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from kinlink.ingest import read_records
from kinlink.store import RecordVersion, Source, Store, StoredRecord, find_records, history
from kinlink.store import records as store_records
from kinlink.store.records import _canonical_json, content_hash, load_records, load_result

SAMPLE = Path(__file__).resolve().parents[2] / "datasets" / "synthetic" / "sample" / "records.csv"
NOW = dt.datetime(2026, 11, 22, 8, 0, 0, 0, tzinfo=dt.UTC)  # microsecond 0 on purpose


@pytest.fixture
def sample():
    return read_records(SAMPLE)


def _rows(store: Store) -> list[tuple]:
    with store.session() as session:
        return session.execute(
            text(
                "SELECT id, agency, record_id, record_type, data, typeof(data), content_hash,"
                " version, source_id, created_at, updated_at FROM records ORDER BY id"
            )
        ).all()


def test_sqlite_fast_insert_matches_the_generic_insert(tmp_path, sample, monkeypatch):
    monkeypatch.setattr(store_records, "utcnow", lambda: NOW)
    monkeypatch.setattr(store_records, "_INSERT_BATCH", 1000)  # several batches
    fast = Store(f"sqlite:///{tmp_path / 'fast.sqlite'}")
    generic = Store(f"sqlite:///{tmp_path / 'generic.sqlite'}")
    with fast.session() as session:
        load_result(session, sample)
    with monkeypatch.context() as patch:
        patch.setattr(store_records, "_insert_sqlite", store_records._insert_core)
        with generic.session() as session:
            load_result(session, sample)
    fast_rows, generic_rows = _rows(fast), _rows(generic)
    assert len(fast_rows) == len(sample.records) > 3000
    # The JSON text differs only in key order (the fast path stores the
    # canonical, sorted form it hashed); everything else is byte-identical.
    as_stored = [(*r[:4], json.loads(r[4]), *r[5:]) for r in fast_rows]
    assert as_stored == [(*r[:4], json.loads(r[4]), *r[5:]) for r in generic_rows]
    assert all(r[4].encode() == _canonical_json(json.loads(r[4])) for r in fast_rows)
    assert {row[5] for row in fast_rows} == {"text"}  # JSON stored as text, not a blob
    with fast.session() as session:
        stored = session.get(StoredRecord, 1)
        assert stored.created_at == stored.updated_at
        assert stored.content_hash == content_hash(sample.records[0])
        assert stored.data == sample.records[0].to_row()
    fast.close()
    generic.close()


def test_sample_file_twice_then_a_change(store, sample):
    """Same file twice adds nothing; a changed record is versioned, on both databases."""
    with store.session() as session:
        first = load_result(session, sample)
    assert (first.inserted, first.updated, first.unchanged) == (len(sample.records), 0, 0)
    with store.session() as session:
        again = load_result(session, sample)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, len(sample.records))
    assert again.source_id is None
    changed = sample.records[5].model_copy(update={"name": "Changed Name"})
    with store.session() as session:
        summary = load_records(
            session,
            [changed, *sample.records[:3]],
            file_name="fix.csv",
            file_sha256="1" * 64,
            file_format="csv",
        )
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 1, 3)
    with store.session() as session:
        [row] = find_records(session, changed.record_id, agency=changed.agency or "")
        assert row.version == 2 and row.data["name"] == "Changed Name"
        assert row.content_hash == content_hash(changed)
        versions = history(session, row.id)
        assert [v.data.get("name") for v in versions] == [sample.records[5].name, "Changed Name"]
        assert session.scalar(select(func.count()).select_from(RecordVersion)) == 1
        assert session.scalar(select(func.count()).select_from(Source)) == 2
        total = session.scalar(select(func.count()).select_from(StoredRecord))
    assert total == len(sample.records)


def test_record_json_is_the_canonical_json(sample):
    changed = sample.records[0].model_copy(update={"name": "\u0645\u062d\u0645\u062f", "age": 7.5})
    for record in [*sample.records, changed]:
        assert store_records._record_json(record) == _canonical_json(record.to_row())


def test_key_given_twice_keeps_the_last_record(store, sample):
    first, second = sample.records[0], sample.records[0].model_copy(update={"name": "Later"})
    with store.session() as session:
        summary = load_records(
            session, [first, second], file_name="f.csv", file_sha256="0" * 64, file_format="csv"
        )
    assert summary.inserted == 1
    with store.session() as session:
        [row] = find_records(session, first.record_id)
        assert row.data["name"] == "Later" and row.content_hash == content_hash(second)


def test_failed_bulk_load_leaves_nothing(tmp_path, sample, monkeypatch):
    monkeypatch.setattr(store_records, "_INSERT_BATCH", 500)
    store = Store(f"sqlite:///{tmp_path / 'k.sqlite'}")
    with pytest.raises(RuntimeError), store.session() as session:
        load_result(session, sample)
        raise RuntimeError("dies after several batches were written")
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(StoredRecord)) == 0
        assert session.scalar(select(func.count()).select_from(Source)) == 0
    store.close()


def test_bulk_page_cache_is_for_the_load_only(tmp_path, sample, monkeypatch):
    store = Store(f"sqlite:///{tmp_path / 'k.sqlite'}")
    with store.session() as session:
        before = session.execute(text("PRAGMA cache_size")).scalar()
        load_result(session, sample)
        assert session.execute(text("PRAGMA cache_size")).scalar() == before
    monkeypatch.setattr(store_records, "_record_json", lambda record: 1 / 0)
    with pytest.raises(ZeroDivisionError), store.session() as session:
        changed = [r.model_copy(update={"record_id": r.record_id + "x"}) for r in sample.records]
        load_records(session, changed, file_name="f", file_sha256="2" * 64, file_format="csv")
    with store.session() as session:
        assert session.execute(text("PRAGMA cache_size")).scalar() == before
    store.close()
