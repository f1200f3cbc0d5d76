"""Notifications for an agency's reviewers: new likely matches, matches confirmed by others.

They are written by the nightly sweep and real-time matching
(:mod:`kinlink.matching.sweep.notify`) and by decisions
(:func:`kinlink.store.decisions.decide`). Each names the agency's *own* record
only; :func:`notification_out` re-checks that on every read, so a notification
can never point a reviewer at another agency's record.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from kinlink.api.deps import AuditDep, Auditor, IdPath, Principal, Reviewer, SessionDep
from kinlink.api.errors import ERROR_RESPONSES, not_found
from kinlink.api.schemas import (
    NotificationOut,
    NotificationsMarked,
    NotificationsRead,
    UnreadCount,
)
from kinlink.store.decisions import agency_notifications, mark_notifications_read, unread_count
from kinlink.store.review_schema import Notification
from kinlink.store.schema import StoredRecord

router = APIRouter(
    prefix="/api/v1/notifications", tags=["notifications"], responses=ERROR_RESPONSES
)


def notification_out(
    session: Session, principal: Principal, rows: list[Notification]
) -> list[NotificationOut]:
    """Rows as the reviewer sees them, with their own record's id (one query for all)."""
    pks = {n.record_pk for n in rows if n.record_pk is not None}
    own = (
        dict(
            session.execute(
                select(StoredRecord.id, StoredRecord.record_id).where(
                    StoredRecord.id.in_(pks), StoredRecord.agency == principal.agency
                )
            ).all()
        )
        if pks
        else {}
    )
    return [
        NotificationOut(
            id=n.id,
            kind=n.kind,
            message=n.message,
            created_at=n.created_at,
            record_id=own.get(n.record_pk) if n.record_pk is not None else None,
            read_at=n.read_at,
        )
        for n in rows
    ]


@router.get("", response_model=list[NotificationOut])
def notifications(
    principal: Reviewer,
    session: SessionDep,
    audit: AuditDep,
    include_read: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[NotificationOut]:
    """Your agency's notifications (unread only unless include_read), unread first."""
    rows, _ = agency_notifications(
        session, principal.agency, include_read=include_read, limit=limit, offset=offset
    )
    out = notification_out(session, principal, rows)
    audit(
        "notifications.view",
        [f"{principal.agency}/{n.record_id}" for n in out if n.record_id],
        notifications=[n.id for n in out],
    )
    return out


@router.get("/count", response_model=UnreadCount)
def count(principal: Reviewer, session: SessionDep) -> UnreadCount:
    """How many unread notifications your agency has (no record is shown: not audited)."""
    return UnreadCount(unread=unread_count(session, principal.agency))


@router.post("/read", response_model=NotificationsMarked)
def mark_read(
    body: NotificationsRead, principal: Reviewer, session: SessionDep, audit: AuditDep
) -> NotificationsMarked:
    """Mark the listed notifications (or all unread ones) read for your agency."""
    marked = mark_notifications_read_audited(session, audit, principal.agency, body.ids)
    return NotificationsMarked(marked=marked, unread=unread_count(session, principal.agency))


@router.post("/{notification_id}/read", status_code=204)
def mark_one_read(
    notification_id: IdPath, principal: Reviewer, session: SessionDep, audit: AuditDep
) -> Response:
    """Mark one notification read; another agency's id answers 404, like an unknown one."""
    mark_one_read_or_404(session, audit, principal.agency, notification_id)
    return Response(status_code=204)


def mark_notifications_read_audited(
    session: Session, audit: Auditor, agency: str, ids: list[int] | None = None
) -> list[int]:
    """Mark read (all unread when ``ids`` is None), commit and audit: shared with the UI."""
    marked = mark_notifications_read(session, agency, ids)
    session.commit()
    audit("notifications.read", notifications=marked)
    return marked


def mark_one_read_or_404(
    session: Session, audit: Auditor, agency: str, notification_id: int
) -> None:
    """Another agency's notification is answered like an unknown one."""
    row = session.get(Notification, notification_id)
    if row is None or row.agency != agency:
        raise not_found("notification")
    mark_notifications_read_audited(session, audit, agency, [notification_id])
