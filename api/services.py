"""The API's write paths: one record, or an uploaded file, into the store and the matcher.

Both go through :func:`kinlink.store.load_records` (versioning, unchanged
content adds no version) and, for files, :func:`kinlink.ingest.read_records`
(the same readers and row errors as ``kinlink ingest``).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinlink.api.deps import Auditor, PairView, Principal
from kinlink.api.errors import ApiError, FieldError
from kinlink.api.matching import RealtimeMatcher
from kinlink.api.schemas import RowProblem, UploadResult
from kinlink.ingest import FORMATS, FileProblem, RecordV1, RowError, read_records
from kinlink.store import load_records
from kinlink.store.decisions import DecisionError, decide, latest_decisions, refresh_sharing
from kinlink.store.review_schema import Decision
from kinlink.store.schema import StoredRecord

#: Uploads above this size are refused (a field office's export is far smaller).
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


@dataclass
class Written:
    record: StoredRecord
    created: bool
    matching: str
    candidates: int


def _with_agency(record: RecordV1, agency: str) -> RecordV1:
    if record.agency not in (None, agency):
        raise ApiError(
            422,
            "invalid_request",
            "a record can only be written for your own agency",
            [FieldError(field="agency", message=f"must be {agency!r} or empty")],
        )
    return record.model_copy(update={"agency": agency})


def write_record(
    session: Session,
    matcher: RealtimeMatcher | None,
    record: RecordV1,
    agency: str,
    *,
    create: bool,
) -> Written:
    """Create (``create=True``) or replace one record of ``agency``, then match it at once."""
    record = _with_agency(record, agency)
    existing = session.scalar(
        select(StoredRecord).where(
            StoredRecord.agency == agency, StoredRecord.record_id == record.record_id
        )
    )
    if create and existing is not None:
        raise ApiError(
            409,
            "conflict",
            f"record {record.record_id!r} already exists; use PUT to change it",
            [FieldError(field="record_id", message="already used in your agency")],
        )
    if not create and existing is None:
        raise ApiError(404, "not_found", "no such record")
    payload = json.dumps(record.to_row(), sort_keys=True).encode()
    summary = load_records(
        session,
        [record],
        file_name="(api)",
        file_sha256=hashlib.sha256(payload).hexdigest(),
        file_format="api",
        agency=agency,
    )
    stored = session.scalar(
        select(StoredRecord).where(
            StoredRecord.agency == agency, StoredRecord.record_id == record.record_id
        )
    )
    assert stored is not None
    session.refresh(stored)
    refresh_sharing(session, stored)
    matching, count = "unchanged", 0
    if summary.changed and matcher is not None and matcher.settings.match_on_write:
        found = matcher.match_stored(session, stored)
        matching = "pending" if found is None else "matched"
        count = len(found or [])
    return Written(stored, existing is None, matching, count)


def upload_file(
    session: Session,
    data: bytes,
    filename: str,
    agency: str,
    on_error: str,
) -> tuple[UploadResult, list[int]]:
    """Validate an uploaded file like ``kinlink ingest`` and store it; returns changed pks."""
    suffix = Path(filename or "upload.csv").suffix.lower() or ".csv"
    if suffix not in FORMATS:
        raise ApiError(
            422,
            "invalid_request",
            f"unsupported file type {suffix!r}",
            [FieldError(field="file", message=f"one of {', '.join(sorted(FORMATS))}")],
        )
    with tempfile.TemporaryDirectory(prefix="kinlink-upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            result = read_records(path, agency=agency, on_error="skip")
        except FileProblem as err:
            raise ApiError(
                422, "bad_file", str(err), [FieldError(field="file", message=str(err))]
            ) from None
    # A file may not write into another agency's records.
    kept, lines = [], []
    for record, line in zip(result.records, result.lines, strict=True):
        if record.agency != agency:
            result.errors.append(
                RowError(
                    line, "agency", f"rows must belong to your agency ({agency})", record.agency
                )
            )
        else:
            kept.append(record)
            lines.append(line)
    result.records, result.lines = kept, lines
    problems = [
        RowProblem(line=e.line, column=e.column, reason=e.reason, value=e.value)
        for e in sorted(result.errors, key=lambda e: e.line)
    ]
    if result.errors and on_error == "abort":
        return (
            UploadResult(
                rows_seen=result.rows_seen,
                inserted=0,
                updated=0,
                unchanged=0,
                rejected_rows=result.rejected_lines,
                errors=problems,
                stored=False,
            ),
            [],
        )
    summary = load_records(
        session,
        result.records,
        file_name=Path(filename or "upload").name[:500],
        file_sha256=result.sha256,
        file_format=result.format,
        agency=agency,
        rejected_rows=result.rejected_lines,
    )
    changed: list[int] = []
    if summary.source_id is not None:
        changed = list(
            session.scalars(
                select(StoredRecord.id).where(StoredRecord.source_id == summary.source_id)
            )
        )
        for pk in changed:
            stored = session.get(StoredRecord, pk)
            if stored is not None:
                refresh_sharing(session, stored)
    return (
        UploadResult(
            rows_seen=result.rows_seen,
            inserted=summary.inserted,
            updated=summary.updated,
            unchanged=summary.unchanged,
            rejected_rows=result.rejected_lines,
            errors=problems,
            stored=True,
        ),
        changed,
    )


def record_decision(
    session: Session,
    view: PairView,
    principal: Principal,
    outcome: str,
    note: str,
    expected_version: int | None,
    audit: Auditor,
) -> Decision:
    """Decide on a visible pair, commit, audit. Shared by the JSON API and the pages.

    A caseworker may revise only their own decisions; a supervisor may revise
    any decision on their agency's records.
    """
    c = view.candidate
    current = latest_decisions(session, [(c.pair_lo, c.pair_hi)]).get((c.pair_lo, c.pair_hi))
    if (
        current is not None
        and principal.role == "caseworker"
        and current.user_id != principal.user.id
    ):
        raise ApiError(403, "forbidden", "only a supervisor may revise another reviewer's decision")
    try:
        decision = decide(session, c, outcome, principal.user, note, expected_version)
    except DecisionError as err:
        raise ApiError(409, "conflict", str(err)) from None
    session.commit()
    audit(
        "decision.create",
        [view.this, view.other],
        candidate=c.id,
        outcome=decision.outcome,
        version=decision.version,
        previous=current.outcome if current is not None else None,
    )
    return decision
