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
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from kinlink.ingest import RECORD_COLUMNS, ReadResult, RecordV1, records_frame
from kinlink.ingest.load import cyclic_gc_paused
from kinlink.store.bulk import bulk_cache
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


_SORTED_COLUMNS = tuple(sorted(RECORD_COLUMNS))


def _record_json(record: RecordV1) -> bytes:
    """``_canonical_json(record.to_row())``, built in key order instead of sorted after.

    Every record holds every v1 column (``None`` when missing), so reading them
    in sorted order gives the same bytes as sorting a dump, about a fifth
    faster; this runs once per stored record.
    """
    fields = record.__dict__
    return orjson.dumps(
        {column: value for column in _SORTED_COLUMNS if (value := fields[column]) is not None}
    )


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
    with cyclic_gc_paused():
        return _load_records(
            session,
            records,
            file_name=file_name,
            file_sha256=file_sha256,
            file_format=file_format,
            agency=agency,
            rejected_rows=rejected_rows,
        )


def _load_records(
    session: Session,
    records: Sequence[RecordV1],
    *,
    file_name: str,
    file_sha256: str,
    file_format: str,
    agency: str | None,
    rejected_rows: int,
) -> LoadSummary:
    now = utcnow()
    # Last record wins for a key given twice, in the position of its first use.
    incoming: dict[tuple[str, str], RecordV1] = {
        (record.agency or "", record.record_id): record for record in records
    }
    existing = _existing(session, incoming.keys())

    # Whether a key is new needs no hashing, so only known keys are encoded
    # here; new records are encoded batch by batch as they are inserted, and
    # a 100,000-row first load never holds every record's JSON at once.
    new_keys: list[tuple[str, str]] = []
    changed: list[tuple[int, RecordV1, str]] = []
    unchanged = 0
    for key, record in incoming.items():
        found = existing.get(key)
        if found is None:
            new_keys.append(key)
            continue
        digest = hashlib.sha256(_record_json(record)).hexdigest()
        if found[1] == digest:
            unchanged += 1
        else:
            changed.append((found[0], record, digest))

    if not new_keys and not changed:
        return LoadSummary(0, 0, unchanged, rejected_rows, None)

    source = Source(
        agency=agency,
        file_name=file_name,
        file_sha256=file_sha256,
        format=file_format,
        loaded_at=now,
        rows_seen=len(records) + rejected_rows,
        rows_rejected=rejected_rows,
        inserted=len(new_keys),
        updated=len(changed),
        unchanged=unchanged,
    )
    session.add(source)
    session.flush()

    if new_keys:
        new_records = [incoming[key] for key in new_keys]
        if session.get_bind().dialect.name == "sqlite":
            _insert_sqlite(session, new_keys, new_records, source.id, now)
        else:
            _insert_core(session, new_keys, new_records, source.id, now)
    if changed:
        _archive_current(session, [pk for pk, *_ in changed])
        session.execute(
            update(StoredRecord),
            [
                {
                    "id": pk,
                    "record_type": record.record_type,
                    "data": record.to_row(),
                    "content_hash": digest,
                    "version": existing_version + 1,
                    "source_id": source.id,
                    "updated_at": now,
                }
                for (pk, record, digest), existing_version in zip(
                    changed, _versions(session, [pk for pk, *_ in changed]), strict=True
                )
            ],
        )
    return LoadSummary(len(new_keys), len(changed), unchanged, rejected_rows, source.id)


#: Rows per INSERT batch: big enough that per-call overhead vanishes, small
#: enough that a batch's encoded JSON is a few megabytes, not a whole file's.
_INSERT_BATCH = 5000


def _insert_core(
    session: Session,
    keys: list[tuple[str, str]],
    records: list[RecordV1],
    source_id: int,
    now: dt.datetime,
) -> None:
    """PostgreSQL (any non-SQLite) bulk insert through SQLAlchemy Core.

    Core insert, not the ORM's bulk path: no identity map work for rows
    nobody holds in this session.
    """
    table = StoredRecord.__table__
    for start in range(0, len(keys), _INSERT_BATCH):
        rows = []
        for key, record in zip(
            keys[start : start + _INSERT_BATCH],
            records[start : start + _INSERT_BATCH],
            strict=True,
        ):
            row = record.to_row()
            rows.append(
                {
                    "agency": key[0],
                    "record_id": key[1],
                    "record_type": record.record_type,
                    "data": row,
                    "content_hash": _digest(row),
                    "version": 1,
                    "source_id": source_id,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        session.execute(insert(table), rows)


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
    session: Session,
    keys: list[tuple[str, str]],
    records: list[RecordV1],
    source_id: int,
    now: dt.datetime,
) -> None:
    """The embedded store's bulk insert, straight to sqlite3's ``executemany``.

    SQLAlchemy's per-row parameter processing (JSON encoding, datetime
    formatting) costs more than SQLite itself on a first load. Here the JSON
    is encoded once, for the content hash and the stored text alike, and
    handed to SQLite as UTF-8 bytes cast to TEXT, which stores the same text
    without a round trip through a Python ``str``. The timestamp is the same
    for the whole batch and is formatted once by the SQLite dialect's own
    DATETIME processor (``dialect_impl``: the generic type has none, and
    sqlite3's default adapter would write another text form), so the stored
    text is exactly what the ORM writes and reads.
    """
    table = StoredRecord.__table__
    dialect = session.get_bind().dialect
    stamp_of = table.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)
    stamp = stamp_of(now) if stamp_of else now
    placeholders = ["CAST(? AS TEXT)" if c == "data" else "?" for c in _INSERT_COLUMNS]
    sql = (
        f"INSERT INTO {table.name} ({', '.join(_INSERT_COLUMNS)}) "
        f"VALUES ({', '.join(placeholders)})"
    )
    with bulk_cache(session):
        _insert_batches(session.connection(), sql, keys, records, source_id, stamp)


def _insert_batches(
    connection: Connection,
    sql: str,
    keys: list[tuple[str, str]],
    records: list[RecordV1],
    source_id: int,
    stamp: Any,
) -> None:
    """Encode, hash and insert new records 5,000 at a time (see ``_INSERT_BATCH``)."""
    sha256 = hashlib.sha256
    for start in range(0, len(keys), _INSERT_BATCH):
        batch = []
        for (agency, record_id), record in zip(
            keys[start : start + _INSERT_BATCH],
            records[start : start + _INSERT_BATCH],
            strict=True,
        ):
            payload = _record_json(record)
            batch.append(
                (
                    agency,
                    record_id,
                    record.record_type,
                    payload,
                    sha256(payload).hexdigest(),
                    1,
                    source_id,
                    stamp,
                    stamp,
                )
            )
        connection.exec_driver_sql(sql, batch)


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


_EXISTING = select(
    StoredRecord.record_id,
    StoredRecord.id,
    StoredRecord.content_hash,
    StoredRecord.version,
).where(
    StoredRecord.agency == bindparam("agency"),
    StoredRecord.record_id.in_(bindparam("ids", expanding=True)),
)
_ANY_IN_AGENCY = select(StoredRecord.id).where(StoredRecord.agency == bindparam("agency")).limit(1)


def _existing(
    session: Session, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, str, int]]:
    # Query per agency so that the (agency, record_id) unique index serves
    # every lookup; a bare record_id IN (...) would scan the table per chunk.
    # The statements are built once with bound parameters so SQLAlchemy
    # compiles them once, not once per chunk; an agency with no records yet
    # (every first load) costs one index probe instead of a query per chunk.
    by_agency: dict[str, list[str]] = {}
    for agency, record_id in keys:
        by_agency.setdefault(agency, []).append(record_id)
    found: dict[tuple[str, str], tuple[int, str, int]] = {}
    for agency, ids in by_agency.items():
        if session.execute(_ANY_IN_AGENCY, {"agency": agency}).first() is None:
            continue
        for start in range(0, len(ids), _CHUNK):
            rows = session.execute(
                _EXISTING, {"agency": agency, "ids": ids[start : start + _CHUNK]}
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
