"""Versioned storage of records: load a batch, read records back, read their history.

A load is one transaction: either every accepted record of the batch is
stored (inserted, or updated with a new version) or, if anything fails,
nothing changes. A record whose content is unchanged gets no new version, so
loading the same file twice adds nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import pandas as pd
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from kinlink.ingest import RECORD_COLUMNS, ReadResult, RecordV1, records_frame
from kinlink.store.schema import RecordVersion, Source, StoredRecord, utcnow

_CHUNK = 500


@dataclass(frozen=True)
class LoadSummary:
    """What a load did. ``source_id`` is ``None`` when nothing changed."""

    inserted: int
    updated: int
    unchanged: int
    rejected_rows: int
    source_id: int | None

    @property
    def changed(self) -> int:
        return self.inserted + self.updated


@dataclass(frozen=True)
class CountRow:
    agency: str
    record_type: str
    count: int


def content_hash(record: RecordV1) -> str:
    """A stable fingerprint of a record's content (key order and spacing do not matter)."""
    return _digest(record.to_row())


def _digest(row: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical_json(row)).hexdigest()


def _canonical_json(row: dict[str, Any]) -> bytes:
    return orjson.dumps(row, option=orjson.OPT_SORT_KEYS)


def load_records(
    session: Session,
    records: Sequence[RecordV1],
    *,
    file_name: str,
    file_sha256: str,
    file_format: str,
    agency: str | None = None,
    rejected_rows: int = 0,
) -> LoadSummary:
    """Store a validated batch in the session's transaction (the caller commits).

    New (agency, record_id) keys are inserted as version 1; known keys whose
    content changed get the next version, and the state they replace is
    copied to ``record_versions`` first; unchanged ones are left alone.
    """
    now = utcnow()
    incoming: dict[tuple[str, str], tuple[RecordV1, dict[str, Any], str]] = {}
    payloads: dict[tuple[str, str], bytes] = {}
    for record in records:
        row = record.to_row()
        key = (record.agency or "", record.record_id)
        payloads[key] = payload = _canonical_json(row)
        incoming[key] = (record, row, hashlib.sha256(payload).hexdigest())
    existing = _existing(session, incoming.keys())

    new_rows: list[dict[str, Any]] = []
    changed: list[tuple[int, RecordV1, dict[str, Any], str]] = []
    unchanged = 0
    for key, (record, row, digest) in incoming.items():
        found = existing.get(key)
        if found is None:
            new_rows.append(
                {
                    "agency": key[0],
                    "record_id": key[1],
                    "record_type": record.record_type,
                    "data": row,
                    "content_hash": digest,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        elif found[1] == digest:
            unchanged += 1
        else:
            changed.append((found[0], record, row, digest))

    if not new_rows and not changed:
        return LoadSummary(0, 0, unchanged, rejected_rows, None)

    source = Source(
        agency=agency,
        file_name=file_name,
        file_sha256=file_sha256,
        format=file_format,
        loaded_at=now,
        rows_seen=len(records) + rejected_rows,
        rows_rejected=rejected_rows,
        inserted=len(new_rows),
        updated=len(changed),
        unchanged=unchanged,
    )
    session.add(source)
    session.flush()

    if new_rows:
        for row in new_rows:
            row["source_id"] = source.id
        if session.get_bind().dialect.name == "sqlite":
            _insert_sqlite(session, new_rows, payloads)
        else:
            # Core insert (not the ORM's bulk path): no identity map work for
            # rows nobody holds in this session.
            session.execute(insert(StoredRecord.__table__), new_rows)
    if changed:
        _archive_current(session, [pk for pk, *_ in changed])
        session.execute(
            update(StoredRecord),
            [
                {
                    "id": pk,
                    "record_type": record.record_type,
                    "data": row,
                    "content_hash": digest,
                    "version": existing_version + 1,
                    "source_id": source.id,
                    "updated_at": now,
                }
                for (pk, record, row, digest), existing_version in zip(
                    changed, _versions(session, [pk for pk, *_ in changed]), strict=True
                )
            ],
        )
    return LoadSummary(len(new_rows), len(changed), unchanged, rejected_rows, source.id)


_INSERT_COLUMNS = (
    "agency",
    "record_id",
    "record_type",
    "data",
    "content_hash",
    "version",
    "source_id",
    "created_at",
    "updated_at",
)


def _insert_sqlite(
    session: Session, rows: list[dict[str, Any]], payloads: dict[tuple[str, str], bytes]
) -> None:
    """The embedded store's bulk insert, straight to sqlite3's ``executemany``.

    SQLAlchemy's per-row parameter processing (JSON encoding, datetime
    formatting) costs more than SQLite itself on a first load; the JSON was
    already encoded for the content hash and the timestamp is the same for the
    whole batch, so both are reused, formatted by SQLAlchemy's own SQLite
    processors so that the stored text is what the ORM writes and reads.
    """
    table = StoredRecord.__table__
    dialect = session.get_bind().dialect
    stamp_of = table.c.created_at.type.bind_processor(dialect)
    stamp = stamp_of(rows[0]["created_at"]) if stamp_of else rows[0]["created_at"]
    sql = (
        f"INSERT INTO {table.name} ({', '.join(_INSERT_COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in _INSERT_COLUMNS)})"
    )
    session.connection().exec_driver_sql(
        sql,
        [
            (
                row["agency"],
                row["record_id"],
                row["record_type"],
                payloads[(row["agency"], row["record_id"])].decode("utf-8"),
                row["content_hash"],
                1,
                row["source_id"],
                stamp,
                stamp,
            )
            for row in rows
        ],
    )


def _archive_current(session: Session, pks: list[int]) -> None:
    """Copy the current state of these records into ``record_versions`` before it changes."""
    for start in range(0, len(pks), _CHUNK):
        chunk = pks[start : start + _CHUNK]
        session.execute(
            insert(RecordVersion).from_select(
                ["record_pk", "version", "data", "content_hash", "source_id", "created_at"],
                select(
                    StoredRecord.id,
                    StoredRecord.version,
                    StoredRecord.data,
                    StoredRecord.content_hash,
                    StoredRecord.source_id,
                    StoredRecord.updated_at,
                ).where(StoredRecord.id.in_(chunk)),
            )
        )


def _versions(session: Session, pks: list[int]) -> list[int]:
    found: dict[int, int] = {}
    for start in range(0, len(pks), _CHUNK):
        chunk = pks[start : start + _CHUNK]
        found.update(
            session.execute(
                select(StoredRecord.id, StoredRecord.version).where(StoredRecord.id.in_(chunk))
            ).all()
        )
    return [found[pk] for pk in pks]


def load_result(session: Session, result: ReadResult, *, agency: str | None = None) -> LoadSummary:
    """:func:`load_records` for what :func:`kinlink.ingest.read_records` returned."""
    return load_records(
        session,
        result.records,
        file_name=result.path.name if result.path else "(upload)",
        file_sha256=result.sha256,
        file_format=result.format,
        agency=agency,
        rejected_rows=result.rejected_lines,
    )


def _existing(
    session: Session, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, str, int]]:
    # Query per agency so that the (agency, record_id) unique index serves
    # every lookup; a bare record_id IN (...) would scan the table per chunk.
    by_agency: dict[str, list[str]] = {}
    for agency, record_id in keys:
        by_agency.setdefault(agency, []).append(record_id)
    found: dict[tuple[str, str], tuple[int, str, int]] = {}
    for agency, ids in by_agency.items():
        for start in range(0, len(ids), _CHUNK):
            rows = session.execute(
                select(
                    StoredRecord.record_id,
                    StoredRecord.id,
                    StoredRecord.content_hash,
                    StoredRecord.version,
                ).where(
                    StoredRecord.agency == agency,
                    StoredRecord.record_id.in_(ids[start : start + _CHUNK]),
                )
            )
            for record_id, pk, digest, version in rows:
                found[(agency, record_id)] = (pk, digest, version)
    return found


def counts(session: Session) -> list[CountRow]:
    """Number of records per agency and type."""
    rows = session.execute(
        select(StoredRecord.agency, StoredRecord.record_type, func.count())
        .group_by(StoredRecord.agency, StoredRecord.record_type)
        .order_by(StoredRecord.agency, StoredRecord.record_type)
    )
    return [CountRow(a, t, n) for a, t, n in rows]


def list_records(
    session: Session,
    *,
    agency: str | None = None,
    record_type: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[StoredRecord]:
    """Records in a stable order (agency, record_id), one page at a time."""
    query = select(StoredRecord).order_by(StoredRecord.agency, StoredRecord.record_id)
    if agency is not None:
        query = query.where(StoredRecord.agency == agency)
    if record_type is not None:
        query = query.where(StoredRecord.record_type == record_type)
    return list(session.scalars(query.limit(limit).offset(offset)))


def find_records(session: Session, record_id: str, agency: str | None = None) -> list[StoredRecord]:
    """Records with this id (one per agency that used it, unless ``agency`` narrows it)."""
    query = select(StoredRecord).where(StoredRecord.record_id == record_id)
    if agency is not None:
        query = query.where(StoredRecord.agency == agency)
    return list(session.scalars(query.order_by(StoredRecord.agency)))


@dataclass(frozen=True)
class Version:
    """One state of a record: its version number, content, and when it was stored."""

    version: int
    data: dict[str, Any]
    stored_at: dt.datetime
    source_id: int | None


def history(session: Session, record_pk: int) -> list[Version]:
    """Every version of a record, oldest first, the current one last."""
    query = (
        select(RecordVersion)
        .where(RecordVersion.record_pk == record_pk)
        .order_by(RecordVersion.version)
    )
    past = [Version(v.version, v.data, v.created_at, v.source_id) for v in session.scalars(query)]
    current = session.get(StoredRecord, record_pk)
    if current is None:
        return past
    return [*past, Version(current.version, current.data, current.updated_at, current.source_id)]


def stored_frame(session: Session, *, record_type: str | None = None) -> pd.DataFrame:
    """Current records as the engine's input frame (v1 columns as text)."""
    query = select(StoredRecord.data)
    if record_type is not None:
        query = query.where(StoredRecord.record_type == record_type)
    records = (RecordV1.model_validate(data) for data in session.scalars(query))
    frame = records_frame(records)
    assert list(frame.columns) == list(RECORD_COLUMNS)
    return frame
