"""Versioned storage of records: load a batch, read records back, read their history.

A load is one transaction: either every accepted record of the batch is
stored (inserted, or updated with a new version) or, if anything fails,
nothing changes. A record whose content is unchanged gets no new version, so
loading the same file twice adds nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

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
    payload = json.dumps(record.to_row(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


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
    content changed get the next version; unchanged ones are left alone.
    """
    now = utcnow()
    incoming: dict[tuple[str, str], tuple[RecordV1, str]] = {
        (r.agency or "", r.record_id): (r, content_hash(r)) for r in records
    }
    existing = _existing(session, incoming.keys())

    new_rows: list[dict[str, Any]] = []
    changed: list[tuple[int, int, RecordV1, str]] = []
    unchanged = 0
    for key, (record, digest) in incoming.items():
        found = existing.get(key)
        if found is None:
            new_rows.append(
                {
                    "agency": key[0],
                    "record_id": key[1],
                    "record_type": record.record_type,
                    "data": record.to_row(),
                    "content_hash": digest,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        elif found[1] == digest:
            unchanged += 1
        else:
            changed.append((found[0], found[2] + 1, record, digest))

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

    versions: list[dict[str, Any]] = []
    for start in range(0, len(new_rows), _CHUNK):
        chunk = new_rows[start : start + _CHUNK]
        for row in chunk:
            row["source_id"] = source.id
        ids = session.execute(insert(StoredRecord).returning(StoredRecord.id), chunk).scalars()
        for pk, row in zip(ids, chunk, strict=True):
            versions.append(_version(pk, 1, row["data"], row["content_hash"], source.id, now))

    if changed:
        session.execute(
            update(StoredRecord),
            [
                {
                    "id": pk,
                    "record_type": record.record_type,
                    "data": record.to_row(),
                    "content_hash": digest,
                    "version": version,
                    "source_id": source.id,
                    "updated_at": now,
                }
                for pk, version, record, digest in changed
            ],
        )
        versions.extend(
            _version(pk, version, record.to_row(), digest, source.id, now)
            for pk, version, record, digest in changed
        )
    for start in range(0, len(versions), _CHUNK):
        session.execute(insert(RecordVersion), versions[start : start + _CHUNK])
    return LoadSummary(len(new_rows), len(changed), unchanged, rejected_rows, source.id)


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


def _version(
    pk: int, version: int, data: dict[str, Any], digest: str, source_id: int, now: object
) -> dict[str, Any]:
    return {
        "record_pk": pk,
        "version": version,
        "data": data,
        "content_hash": digest,
        "source_id": source_id,
        "created_at": now,
    }


def _existing(
    session: Session, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, str, int]]:
    by_id: dict[str, set[str]] = {}
    for agency, record_id in keys:
        by_id.setdefault(record_id, set()).add(agency)
    found: dict[tuple[str, str], tuple[int, str, int]] = {}
    ids = list(by_id)
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            select(
                StoredRecord.agency,
                StoredRecord.record_id,
                StoredRecord.id,
                StoredRecord.content_hash,
                StoredRecord.version,
            ).where(StoredRecord.record_id.in_(ids[start : start + _CHUNK]))
        )
        for agency, record_id, pk, digest, version in rows:
            if agency in by_id[record_id]:
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


def history(session: Session, record_pk: int) -> list[RecordVersion]:
    """Every version of a record, oldest first."""
    query = (
        select(RecordVersion)
        .where(RecordVersion.record_pk == record_pk)
        .order_by(RecordVersion.version)
    )
    return list(session.scalars(query))


def stored_frame(session: Session, *, record_type: str | None = None) -> pd.DataFrame:
    """Current records as the engine's input frame (v1 columns as text)."""
    query = select(StoredRecord.data)
    if record_type is not None:
        query = query.where(StoredRecord.record_type == record_type)
    records = (RecordV1.model_validate(data) for data in session.scalars(query))
    frame = records_frame(records)
    assert list(frame.columns) == list(RECORD_COLUMNS)
    return frame
