"""Review queues: records with pending candidates, and the duplicates queue."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from kinlink.api.deps import AuditDep, Reviewer, SessionDep, pair_view
from kinlink.api.errors import ERROR_RESPONSES
from kinlink.api.schemas import DuplicatePair, Page, QueueItem
from kinlink.api.sharing import band_for
from kinlink.api.views import Viewer
from kinlink.matching import DEFAULT_THRESHOLD
from kinlink.store.decisions import duplicate_pairs, pair_clusters, pending_queue
from kinlink.store.schema import StoredRecord

router = APIRouter(prefix="/api/v1", tags=["queues"], responses=ERROR_RESPONSES)


def display_name(record: StoredRecord) -> str | None:
    data = record.data
    if data.get("name"):
        return data["name"]
    parts = [data.get(k) for k in ("name_first", "name_middle", "name_last") if data.get(k)]
    return " ".join(parts) or None


@router.get("/queue", response_model=Page[QueueItem])
def queue(
    principal: Reviewer,
    session: SessionDep,
    audit: AuditDep,
    kind: Literal["link", "duplicate"] | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Page[QueueItem]:
    """Your agency's records with candidates to review, best probability first."""
    rows, total = pending_queue(session, principal.agency, kind=kind, limit=limit, offset=offset)
    items = []
    for row in rows:
        band = band_for(row.best_probability)
        items.append(
            QueueItem(
                record_id=row.record.record_id,
                record_type=row.record.record_type,
                name=display_name(row.record),
                best_probability=row.best_probability,
                band=band.code,
                band_label=band.label,
                pending=row.pending,
            )
        )
    audit("queue.view", [r.record for r in rows], kind=kind, offset=offset)
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get("/duplicates", response_model=Page[DuplicatePair])
def duplicates(
    principal: Reviewer,
    session: SessionDep,
    audit: AuditDep,
    include_decided: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Page[DuplicatePair]:
    """Duplicate pairs touching your records, with clusters (decide them like any candidate).

    Clusters are the nightly sweep's, with ids that stay the same from one night to
    the next (``cluster_source`` "sweep"); before any sweep has run they are grouped
    from the pairs now ("pairs").
    """
    rows, total = duplicate_pairs(
        session, principal.agency, include_decided=include_decided, limit=limit, offset=offset
    )
    clusters = pair_clusters(session, principal.agency, rows, DEFAULT_THRESHOLD)
    viewer = Viewer(principal, session)
    items, seen = [], []
    for candidate in rows:
        view = pair_view(candidate, principal, session)
        if view is None:
            continue
        band = band_for(candidate.match_probability)
        cluster = clusters.get(candidate.id)
        items.append(
            DuplicatePair(
                candidate_id=candidate.id,
                match_probability=candidate.match_probability,
                band=band.code,
                band_label=band.label,
                status=candidate.status,
                records=[viewer.shared(view.this), viewer.shared(view.other)],
                cluster=cluster.label if cluster is not None else None,
                cluster_source=cluster.source if cluster is not None else None,  # type: ignore[arg-type]
            )
        )
        seen += [view.this, view.other]
    audit("duplicates.view", seen, offset=offset)
    return Page(items=items, total=total, limit=limit, offset=offset)
