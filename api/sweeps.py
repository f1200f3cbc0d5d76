"""Sweep runs as a reviewer may see them: shared by the JSON API and the review pages.

The sweep stores its report as JSON with the run (``sweep_runs.report``). It holds
counts only, but counts of *another* agency are still that agency's business, so
the scoping happens here, once: a caseworker gets their own agency's row and the
run's metadata (mode, time, model), nothing about other agencies and not the
run's totals (which would reveal the others by subtraction); supervisors and
admins, who oversee the service, get every agency's counts and the stored report.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kinlink.api.deps import Principal
from kinlink.api.schemas import AgencySweepCounts, SweepRunDetail, SweepRunOut, SweepTotals
from kinlink.store.sweep_schema import SweepRun

#: Roles that see every agency's counts and the full stored report.
OVERSEERS = frozenset({"supervisor", "admin"})


def sweep_runs(session: Session, *, limit: int, offset: int) -> tuple[list[SweepRun], int]:
    """Runs newest first (failed and running ones too: an operator must see those)."""
    total = session.scalar(select(func.count()).select_from(SweepRun)) or 0
    rows = list(
        session.scalars(select(SweepRun).order_by(SweepRun.id.desc()).limit(limit).offset(offset))
    )
    return rows, total


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _agency_counts(row: dict[str, Any]) -> AgencySweepCounts:
    return AgencySweepCounts(
        new_cases=_int(row.get("new_cases")),
        new_tracing_requests=_int(row.get("new_tracing_requests")),
        new_pending_pairs=_int(row.get("new_pending_pairs")),
        records_in_clusters=_int(row.get("records_in_clusters")),
    )


def _totals(report: dict[str, Any]) -> SweepTotals:
    new = report.get("new_records") or {}
    pairs = report.get("pairs") or {}
    clusters = report.get("clusters") or {}
    return SweepTotals(
        stored_records=_int(report.get("stored_records")),
        new_records=_int(new.get("total")),
        new_cases=_int(new.get("cases")),
        new_tracing_requests=_int(new.get("tracing_requests")),
        pairs_compared=_int(pairs.get("candidates")),
        pairs_kept=_int(pairs.get("kept")),
        new_pending_pairs=_int(pairs.get("new_pending")),
        new_pending_links=_int(pairs.get("new_pending_links")),
        new_pending_duplicates=_int(pairs.get("new_pending_duplicates")),
        kept_not_match=_int(pairs.get("kept_not_match")),
        kept_match=_int(pairs.get("kept_match")),
        reopened=_int(pairs.get("reopened")),
        clusters=_int(clusters.get("total")),
        records_in_clusters=_int(clusters.get("records")),
        clusters_created=_int(clusters.get("created")),
        clusters_changed=_int(clusters.get("changed")),
        clusters_retired=_int(clusters.get("retired")),
        notifications=_int(report.get("notifications")),
    )


def run_out(run: SweepRun, principal: Principal, *, detail: bool = False) -> SweepRunDetail:
    """The run scoped to the principal (see the module docstring)."""
    report = dict(run.report or {})
    finished = run.status == "succeeded"
    by_agency = (report.get("by_agency") or {}) if finished else {}
    overseer = principal.role in OVERSEERS
    if overseer:
        agencies = {str(code): _agency_counts(row) for code, row in by_agency.items()}
    else:
        # A caseworker's own row, zeros included: "nothing new for you" is an answer too.
        own = by_agency.get(principal.agency) or {}
        agencies = {principal.agency: _agency_counts(own)} if finished else {}
    seconds = report.get("seconds")
    return SweepRunDetail(
        id=run.id,
        mode=run.mode,
        status=run.status,
        started_at=run.started_at,
        finished_at=run.finished_at,
        seconds=float(seconds) if isinstance(seconds, int | float) else None,
        model_version=run.model_version,
        model_fingerprint=run.model_fingerprint,
        threshold=run.threshold,
        scope="all" if overseer else principal.agency,
        agencies=agencies,
        totals=_totals(report) if overseer and finished else None,
        report=report if overseer and detail else None,
        error=run.error if overseer and detail else None,
    )


def run_summary(run: SweepRun, principal: Principal) -> SweepRunOut:
    return SweepRunOut(**run_out(run, principal).model_dump(exclude={"report", "error"}))
