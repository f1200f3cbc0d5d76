"""Nightly sweep runs and their stored reports (counts; scoped per role in kinlink.api.sweeps)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kinlink.api.deps import AnyRole, AuditDep, IdPath, SessionDep
from kinlink.api.errors import ERROR_RESPONSES, not_found
from kinlink.api.schemas import Page, SweepRunDetail, SweepRunOut
from kinlink.api.sweeps import run_out, run_summary, sweep_runs
from kinlink.store.sweep_schema import SweepRun

router = APIRouter(prefix="/api/v1/sweeps", tags=["sweeps"], responses=ERROR_RESPONSES)


@router.get("", response_model=Page[SweepRunOut])
def list_sweeps(
    principal: AnyRole,
    session: SessionDep,
    audit: AuditDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Page[SweepRunOut]:
    """Sweep runs, newest first, with counts (caseworkers: their agency's only)."""
    rows, total = sweep_runs(session, limit=limit, offset=offset)
    audit("sweeps.view", runs=[r.id for r in rows], offset=offset)
    return Page(
        items=[run_summary(r, principal) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get("/{run_id}", response_model=SweepRunDetail)
def get_sweep(
    run_id: IdPath, principal: AnyRole, session: SessionDep, audit: AuditDep
) -> SweepRunDetail:
    """One run's report: new records, pairs and clusters per agency, time, model version."""
    run = session.get(SweepRun, run_id)
    if run is None:
        raise not_found("sweep run")
    audit("sweep.view", run=run.id)
    return run_out(run, principal, detail=True)
