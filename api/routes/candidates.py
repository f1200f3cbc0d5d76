"""Candidates of a record, one candidate pair, and decisions on it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kinlink.api.deps import (
    AuditDep,
    MatcherDep,
    OwnRecord,
    Reviewer,
    SessionDep,
    VisibleCandidate,
)
from kinlink.api.errors import ERROR_RESPONSES
from kinlink.api.schemas import CandidateDetail, CandidateOut, DecisionIn, Page
from kinlink.api.services import record_decision
from kinlink.api.views import Viewer

router = APIRouter(prefix="/api/v1", tags=["candidates"], responses=ERROR_RESPONSES)


@router.get("/records/{record_id}/candidates", response_model=Page[CandidateOut])
def record_candidates(
    record: OwnRecord,
    principal: Reviewer,
    session: SessionDep,
    audit: AuditDep,
    matcher: MatcherDep,
    include_rejected: bool = False,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> Page[CandidateOut]:
    """Ranked candidates with probability, fixed band and per-field explanation.

    Pairs marked not_match are left out (unless include_rejected) until either
    record changes materially.
    """
    items = Viewer(principal, session, matcher.explain).candidates(
        record, include_rejected=include_rejected
    )
    page = items[offset : offset + limit]
    audit(
        "candidates.view",
        [record, *[f"{c.other.agency}/{c.other.record_id}" for c in page]],
        candidates=[c.id for c in page],
    )
    return Page(items=page, total=len(items), limit=limit, offset=offset)


@router.get("/candidates/{candidate_id}", response_model=CandidateDetail)
def get_candidate(
    view: VisibleCandidate,
    principal: Reviewer,
    session: SessionDep,
    audit: AuditDep,
    matcher: MatcherDep,
) -> CandidateDetail:
    """One pair side by side, with every version of its decision."""
    audit("candidate.view", [view.this, view.other], candidate=view.candidate.id)
    return Viewer(principal, session, matcher.explain).detail(view)


@router.post(
    "/candidates/{candidate_id}/decisions",
    response_model=CandidateDetail,
    status_code=201,
    responses={409: ERROR_RESPONSES[422]},
)
def post_decision(
    body: DecisionIn,
    view: VisibleCandidate,
    principal: Reviewer,
    session: SessionDep,
    audit: AuditDep,
    matcher: MatcherDep,
) -> CandidateDetail:
    """Decide match / not_match / unsure with a note; a revision adds a version.

    A caseworker may revise only their own decisions; a supervisor any decision
    on their agency's records.
    """
    record_decision(session, view, principal, body.outcome, body.note, body.expected_version, audit)
    return Viewer(principal, session, matcher.explain).detail(view)
