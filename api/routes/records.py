"""Records of the caller's agency: list, fetch, create, replace, bulk upload."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Body, File, Form, Path, Query, UploadFile

from kinlink.api.deps import AuditDep, MatcherDep, OwnRecord, Reviewer, SessionDep
from kinlink.api.errors import ERROR_RESPONSES, ApiError, FieldError
from kinlink.api.schemas import Page, RecordOut, RecordWritten, UploadResult
from kinlink.api.services import MAX_UPLOAD_BYTES, upload_file, write_record
from kinlink.api.views import Viewer
from kinlink.ingest import RecordV1
from kinlink.store import list_records
from kinlink.store.records import counts

router = APIRouter(prefix="/api/v1/records", tags=["records"], responses=ERROR_RESPONSES)

RecordType = Literal["case", "tracing_request"]


@router.get("", response_model=Page[RecordOut])
def list_(
    principal: Reviewer,
    session: SessionDep,
    audit: AuditDep,
    record_type: RecordType | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Page[RecordOut]:
    """Your agency's records, ordered by record_id."""
    rows = list_records(
        session, agency=principal.agency, record_type=record_type, limit=limit, offset=offset
    )
    total = sum(
        c.count
        for c in counts(session)
        if c.agency == principal.agency and (record_type is None or c.record_type == record_type)
    )
    viewer = Viewer(principal, session)
    audit("record.list", rows, offset=offset, limit=limit)
    return Page(items=[viewer.record(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/{record_id}", response_model=RecordOut)
def get(record: OwnRecord, principal: Reviewer, session: SessionDep, audit: AuditDep) -> RecordOut:
    """One record of your agency, with its confirmed matches."""
    audit("record.view", [record])
    return Viewer(principal, session).record(record)


def _written(viewer: Viewer, written) -> RecordWritten:  # noqa: ANN001 - services.Written
    return RecordWritten(
        **viewer.record(written.record).model_dump(),
        created=written.created,
        matching=written.matching,
        candidates=written.candidates,
    )


@router.post(
    "", response_model=RecordWritten, status_code=201, responses={409: ERROR_RESPONSES[422]}
)
def create(
    record: Annotated[RecordV1, Body()],
    principal: Reviewer,
    session: SessionDep,
    matcher: MatcherDep,
    audit: AuditDep,
) -> RecordWritten:
    """Register a record (agency: yours); it is matched at once, candidates are stored."""
    written = write_record(session, matcher, record, principal.agency, create=True)
    session.commit()
    audit("record.create", [written.record], version=written.record.version)
    return _written(Viewer(principal, session), written)


@router.put("/{record_id}", response_model=RecordWritten)
def replace(
    record_id: Annotated[str, Path(max_length=200)],
    record: Annotated[RecordV1, Body()],
    principal: Reviewer,
    session: SessionDep,
    matcher: MatcherDep,
    audit: AuditDep,
) -> RecordWritten:
    """Replace a record with a new version (the old one is kept); it is matched again."""
    if record.record_id != record_id:
        raise ApiError(
            422,
            "invalid_request",
            "record_id in the body differs from the URL",
            [FieldError(field="record_id", message=f"must be {record_id!r}")],
        )
    written = write_record(session, matcher, record, principal.agency, create=False)
    session.commit()
    audit("record.update", [written.record], version=written.record.version)
    return _written(Viewer(principal, session), written)


@router.post("/upload", response_model=UploadResult)
def upload(
    file: Annotated[UploadFile, File(description="CSV, XLSX or JSON Lines, record format v1")],
    principal: Reviewer,
    session: SessionDep,
    matcher: MatcherDep,
    audit: AuditDep,
    background: BackgroundTasks,
    on_error: Annotated[Literal["abort", "skip"], Form()] = "abort",
) -> UploadResult:
    """Bulk upload, judged like `kinlink ingest`: every bad row is listed with line and column.

    With on_error=abort nothing is stored if any row is invalid; with skip the
    valid rows are. Stored records are matched in the background.
    """
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ApiError(413, "too_large", f"files above {MAX_UPLOAD_BYTES // 2**20} MB are refused")
    result, changed = upload_file(
        session, data, file.filename or "upload", principal.agency, on_error
    )
    session.commit()
    if changed and matcher.settings.match_on_write:
        background.add_task(matcher.match_pks, changed)
        result.matched = len(changed)
    audit(
        "record.upload",
        [],
        file=file.filename,
        inserted=result.inserted,
        updated=result.updated,
        rejected=result.rejected_rows,
        stored=result.stored,
    )
    return result
