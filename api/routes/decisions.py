"""Decisions: a supervisor sees all of the agency's, a caseworker their own; CSV export."""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from kinlink.api.deps import AuditDep, Reviewer, SessionDep, Supervisor
from kinlink.api.errors import ERROR_RESPONSES
from kinlink.api.schemas import DecisionListItem, Page
from kinlink.api.views import Viewer
from kinlink.store.decisions import decisions_for_agency
from kinlink.store.review_schema import CandidatePair
from kinlink.store.schema import StoredRecord

router = APIRouter(prefix="/api/v1", tags=["decisions"], responses=ERROR_RESPONSES)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _items(principal: Reviewer, session: SessionDep, limit: int, offset: int):  # noqa: ANN202
    user_id = None if principal.role == "supervisor" else principal.user.id
    rows, total = decisions_for_agency(
        session, principal.agency, user_id=user_id, limit=limit, offset=offset
    )
    viewer = Viewer(principal, session)
    items = []
    for d in rows:
        lo, hi = session.get(StoredRecord, d.pair_lo), session.get(StoredRecord, d.pair_hi)
        assert lo is not None and hi is not None
        candidate = session.query(CandidatePair.id).filter_by(pair_lo=d.pair_lo, pair_hi=d.pair_hi)
        out = viewer.decision(d, lo, hi)
        items.append(
            DecisionListItem(
                **out.model_dump(),
                candidate_id=candidate.scalar(),
                records=[f"{lo.agency}/{lo.record_id}", f"{hi.agency}/{hi.record_id}"],
            )
        )
    return items, total


@router.get("/decisions", response_model=Page[DecisionListItem])
def list_decisions(
    principal: Reviewer,
    session: SessionDep,
    audit: AuditDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Page[DecisionListItem]:
    """Every version of every decision, newest first (supervisor: the agency's; else yours)."""
    items, total = _items(principal, session, limit, offset)
    audit("decisions.view", [r for i in items for r in i.records], offset=offset)
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get(
    "/exports/decisions.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "CSV, UTF-8"}},
)
def export_decisions(principal: Supervisor, session: SessionDep, audit: AuditDep) -> Response:
    """The agency's decisions as CSV (supervisors); cells are neutralised against formulas."""
    items, _ = _items(principal, session, limit=100_000, offset=0)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["record_1", "record_2", "version", "outcome", "note", "decided_by", "decided_at"]
    )
    for i in items:
        writer.writerow(
            [
                safe_cell(v)
                for v in (
                    *i.records,
                    i.version,
                    i.outcome,
                    i.note,
                    i.decided_by,
                    i.decided_at.isoformat(),
                )
            ]
        )
    audit("export.decisions", [r for i in items for r in i.records], rows=len(items))
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="decisions.csv"'},
    )
