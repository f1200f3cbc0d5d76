"""Migration 0004: timestamps the old SQLite fast ingest path wrote as ``...+00:00`` text.

From 2a47e93 to 3a13e7c, new records loaded into SQLite got ``created_at`` and
``updated_at`` through sqlite3's default datetime adapter (``isoformat(" ")``), not
SQLAlchemy's ``YYYY-MM-DD HH:MM:SS.ffffff``. The rows below are written exactly that
way into a store at revision 0003, then the store is opened (which migrates it).
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from alembic import command
from sqlalchemy import Engine, inspect, select, text

from kinlink.matching.sweep.run import _snapshot
from kinlink.store import Store
from kinlink.store.database import alembic_config, make_engine
from kinlink.store.schema import RecordVersion, StoredRecord

from ..conftest import _reset_postgres

UTC = dt.UTC
#: The boundary the catch-up query and the sweep compare against.
SINCE = dt.datetime(2026, 11, 22, 6, 33, 45, tzinfo=UTC)
#: record_id -> (updated_at, written by the old fast path?)
ROWS = {
    "C-BEFORE": (SINCE - dt.timedelta(microseconds=1), False),
    "C-EXACT": (SINCE, True),  # old text: "2026-11-22 06:33:45+00:00" (no microseconds)
    "C-AFTER-1": (SINCE + dt.timedelta(microseconds=1), False),
    "C-AFTER-123": (SINCE + dt.timedelta(microseconds=123), True),
}


def _engine_at_0003(url: str) -> Engine:
    engine = make_engine(url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
    return engine


def _orm_text(value: dt.datetime) -> str:
    """SQLAlchemy's SQLite DateTime text (what the ORM writes)."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _insert(engine: Engine, stamp_text) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO sources (id, agency, file_name, file_sha256, format, loaded_at, "
                "rows_seen, rows_rejected, inserted, updated, unchanged) VALUES "
                "(1, 'SYN', 'synthetic.csv', :sha, 'csv', :at, 4, 0, 4, 0, 0)"
            ),
            {"sha": "0" * 64, "at": stamp_text(SINCE, False)},
        )
        for pk, (record_id, (at, old)) in enumerate(ROWS.items(), start=1):
            data = {"record_id": record_id, "record_type": "case", "name": "Synthetic Child"}
            connection.execute(
                text(
                    "INSERT INTO records (id, agency, record_id, record_type, data, "
                    "content_hash, version, source_id, created_at, updated_at) VALUES "
                    "(:pk, 'SYN', :rid, 'case', :data, :hash, 2, 1, :at, :at)"
                ),
                {
                    "pk": pk,
                    "rid": record_id,
                    "data": json.dumps(data),
                    "hash": f"{pk}" * 64,
                    "at": stamp_text(at, old),
                },
            )
            # the superseded version 1: its created_at was copied from updated_at
            connection.execute(
                text(
                    "INSERT INTO record_versions (record_pk, version, data, content_hash, "
                    "source_id, created_at) VALUES (:pk, 1, :data, :hash, 1, :at)"
                ),
                {"pk": pk, "data": json.dumps(data), "hash": "f" * 64, "at": stamp_text(at, old)},
            )


def _sqlite_text(at: dt.datetime, old: bool) -> str:
    # sqlite3's default adapter for a datetime is isoformat(" "): what the old path wrote.
    return at.isoformat(" ") if old else _orm_text(at)


def _ids(store: Store, condition) -> list[str]:
    with store.session() as session:
        return list(
            session.scalars(
                select(StoredRecord.record_id).where(condition).order_by(StoredRecord.updated_at)
            )
        )


def test_sqlite_old_timestamps_are_rewritten_and_compare_correctly(tmp_path):
    url = f"sqlite:///{tmp_path / 'kinlink.sqlite'}"
    engine = _engine_at_0003(url)
    _insert(engine, _sqlite_text)
    with engine.connect() as connection:
        stored = dict(connection.execute(text("SELECT record_id, updated_at FROM records")).all())
        # The defect, as it was: the record stored at exactly SINCE is missed by ">=".
        since_text = _orm_text(SINCE)
        found = connection.scalars(
            text("SELECT record_id FROM records WHERE updated_at >= :since"), {"since": since_text}
        ).all()
    assert stored["C-EXACT"] == "2026-11-22 06:33:45+00:00"
    assert stored["C-AFTER-123"] == "2026-11-22 06:33:45.000123+00:00"
    assert "C-EXACT" not in found
    engine.dispose()

    store = Store(url)  # opening the store migrates it to the newest revision
    try:
        with store.engine.connect() as connection:
            for table, column in (
                ("records", "created_at"),
                ("records", "updated_at"),
                ("record_versions", "created_at"),
            ):
                texts = connection.scalars(text(f"SELECT {column} FROM {table}")).all()
                assert sorted(texts) == sorted(_orm_text(at) for at, _ in ROWS.values()), table
            untouched = connection.scalar(text("SELECT loaded_at FROM sources"))
        assert untouched == _orm_text(SINCE)

        # The review service's catch-up query (api/matching.py), in SQL: correct now.
        assert _ids(store, StoredRecord.updated_at >= SINCE) == [
            "C-EXACT",
            "C-AFTER-1",
            "C-AFTER-123",
        ]
        assert _ids(store, StoredRecord.updated_at > SINCE) == ["C-AFTER-1", "C-AFTER-123"]
        assert _ids(store, StoredRecord.updated_at.is_not(None)) == list(ROWS)  # time order

        # Every row reads back the same way (naive UTC, as the ORM writes and reads).
        with store.session() as session:
            values = list(session.scalars(select(StoredRecord.updated_at)))
            values += list(session.scalars(select(RecordVersion.created_at)))
        assert {v.tzinfo for v in values} == {None}

        # The incremental sweep's selection: updated after `since`.
        snapshot = _snapshot(store)
        with store.session() as session:
            pairs = session.execute(select(StoredRecord.id, StoredRecord.record_id)).all()
        record_ids = dict(pairs)
        new = snapshot[snapshot["updated_at"] > pd.Timestamp(SINCE)]
        assert sorted(record_ids[pk] for pk in new["pk"]) == ["C-AFTER-1", "C-AFTER-123"]
    finally:
        store.close()


def test_a_value_that_is_no_timestamp_is_left_alone(tmp_path):
    url = f"sqlite:///{tmp_path / 'kinlink.sqlite'}"
    engine = _engine_at_0003(url)
    _insert(engine, _sqlite_text)
    with engine.begin() as connection:
        connection.execute(text("UPDATE records SET created_at = 'not a time' WHERE id = 1"))
    engine.dispose()
    store = Store(url)
    try:
        with store.engine.connect() as connection:
            assert connection.scalar(text("SELECT created_at FROM records WHERE id = 1")) == (
                "not a time"
            )
            assert connection.scalar(text("SELECT updated_at FROM records WHERE id = 2")) == (
                _orm_text(SINCE)
            )
    finally:
        store.close()


@pytest.mark.postgres
def test_postgres_columns_are_real_timestamps_and_are_not_touched(postgres_url):
    _reset_postgres(postgres_url)
    engine = _engine_at_0003(postgres_url)
    _insert(engine, lambda at, _old: at.isoformat(" "))
    columns = {c["name"]: c["type"] for c in inspect(engine).get_columns("records")}
    assert getattr(columns["updated_at"], "timezone", False) is True  # timestamptz
    with engine.connect() as connection:
        before = connection.execute(text("SELECT id, created_at, updated_at FROM records")).all()
    engine.dispose()
    store = Store(postgres_url)
    try:
        with store.engine.connect() as connection:
            after = connection.execute(text("SELECT id, created_at, updated_at FROM records")).all()
        assert sorted(after) == sorted(before)
        assert _ids(store, StoredRecord.updated_at >= SINCE) == [
            "C-EXACT",
            "C-AFTER-1",
            "C-AFTER-123",
        ]
    finally:
        store.close()
