"""Health, the documented probability bands, and notifications."""

from __future__ import annotations

from fastapi import APIRouter

from kinlink.api.deps import MatcherDep, Reviewer, SessionDep
from kinlink.api.errors import ERROR_RESPONSES
from kinlink.api.schemas import BandOut, Health, NotificationOut
from kinlink.api.sharing import BANDS
from kinlink.store.decisions import unread_notifications
from kinlink.store.schema import StoredRecord

router = APIRouter(tags=["meta"])


@router.get("/healthz", response_model=Health)
def health(matcher: MatcherDep) -> Health:
    return Health(status="ok", matching=matcher.status)


@router.get("/api/v1/bands", response_model=list[BandOut])
def bands() -> list[BandOut]:
    """The fixed probability bands behind the words shown to reviewers."""
    return [BandOut(code=b.code, label=b.label, min_probability=b.min_probability) for b in BANDS]


@router.get(
    "/api/v1/notifications", response_model=list[NotificationOut], responses=ERROR_RESPONSES
)
def notifications(principal: Reviewer, session: SessionDep) -> list[NotificationOut]:
    """Unread notifications for your agency (e.g. another agency confirmed a match)."""
    out = []
    for n in unread_notifications(session, principal.agency):
        record = session.get(StoredRecord, n.record_pk) if n.record_pk else None
        out.append(
            NotificationOut(
                id=n.id,
                kind=n.kind,
                message=n.message,
                created_at=n.created_at,
                record_id=record.record_id if record is not None else None,
            )
        )
    return out
