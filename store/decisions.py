"""Candidates the engine proposed, and the reviewers' versioned decisions on them.

Candidates are written only from the engine's output (real-time matching on
create/update, the nightly sweep); this module stores them, keeps decided
pairs when the engine stops proposing them (a decision is never silently
lost), and decides what a queue shows:

* a pair whose latest decision is ``not_match`` stays hidden until either
  record changes *materially* (a field the engine compares changes), then it
  is proposed again, flagged as previously rejected;
* a pair that crosses agencies is never shown when either record's
  ``consent_for_tracing`` is false.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from kinlink.store.review_schema import OUTCOMES, CandidatePair, Decision, Notification, User
from kinlink.store.schema import StoredRecord, utcnow
from kinlink.store.sweep_schema import SweepClusterMember, SweepRun

#: Fields whose change does not alter what the engine compares: editing them
#: does not reopen a pair a reviewer rejected.
NON_MATERIAL_FIELDS = frozenset(
    {
        "record_id",
        "record_type",
        "agency",
        "registration_date",
        "consent_for_tracing",
        "inquiry_id",
        "inquirer_relation",
        "language",
        "ethnicity",
    }
)
PENDING_STATUSES = ("pending", "unsure")


class DecisionError(ValueError):
    """A decision that cannot be recorded (unknown outcome, stale revision)."""


def material_hash(data: dict[str, Any]) -> str:
    """Hash of the fields the engine compares: equal hashes mean "no material change"."""
    kept = {k: v for k, v in data.items() if k not in NON_MATERIAL_FIELDS and v is not None}
    payload = json.dumps(kept, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def refuses_tracing(record: StoredRecord) -> bool:
    return record.data.get("consent_for_tracing") is False


def shareable(a: StoredRecord, b: StoredRecord) -> bool:
    """May these two records be shown side by side to either agency?"""
    if a.agency == b.agency:
        return True
    return not (refuses_tracing(a) or refuses_tracing(b))


def pair_kind(a: StoredRecord, b: StoredRecord) -> str:
    return "link" if a.record_type != b.record_type else "duplicate"


def _ordered(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


@dataclass(frozen=True)
class Found:
    """One candidate as the engine returned it, resolved to the stored record's key."""

    other_pk: int
    match_probability: float
    match_weight: float
    explanation: list[dict[str, Any]] = field(default_factory=list)


def store_candidates(
    session: Session,
    record: StoredRecord,
    found: Sequence[Found],
    *,
    source: str,
    model_fingerprint: str | None = None,
) -> list[CandidatePair]:
    """Replace ``record``'s undecided candidates with what the engine found now.

    Pairs found again are re-scored (oriented from ``record``); pairs no longer
    found are removed unless someone decided on them; a not_match stays
    suppressed unless a record changed materially since the decision.
    """
    now = utcnow()
    others = {f.other_pk: f for f in found if f.other_pk != record.id}
    existing = {
        c.pair_lo if c.pair_hi == record.id else c.pair_hi: c
        for c in session.scalars(select(CandidatePair).where(_touches(record.id)))
    }
    stored = {
        r.id: r
        for r in session.scalars(
            select(StoredRecord).where(StoredRecord.id.in_(set(others) | set(existing)))
        )
    }
    latest = latest_decisions(session, [_ordered(record.id, pk) for pk in stored])
    out: list[CandidatePair] = []
    for other_pk, hit in others.items():
        other = stored.get(other_pk)
        if other is None:
            continue
        lo, hi = _ordered(record.id, other_pk)
        row = existing.get(other_pk)
        if row is None:
            row = CandidatePair(pair_lo=lo, pair_hi=hi, created_at=now)
            session.add(row)
        row.left_pk, row.right_pk = record.id, other_pk
        row.kind = pair_kind(record, other)
        row.match_probability = float(hit.match_probability)
        row.match_weight = float(hit.match_weight)
        row.explanation = hit.explanation
        row.source = source
        row.model_fingerprint = model_fingerprint
        row.scored_at = now
        row.shareable = shareable(record, other)
        row.status = _status(latest.get((lo, hi)), stored, lo, hi, record)
        out.append(row)
    for other_pk, row in existing.items():
        if other_pk in others:
            continue
        if (row.pair_lo, row.pair_hi) in latest:
            other = stored.get(other_pk)
            if other is not None:
                row.shareable = shareable(record, other)
                row.status = _status(
                    latest[(row.pair_lo, row.pair_hi)], stored, row.pair_lo, row.pair_hi, record
                )
        else:
            session.delete(row)
    session.flush()
    return out


def _status(
    decision: Decision | None,
    stored: dict[int, StoredRecord],
    lo: int,
    hi: int,
    record: StoredRecord,
) -> str:
    if decision is None:
        return "pending"
    if decision.outcome == "not_match":
        rec_lo = record if record.id == lo else stored[lo]
        rec_hi = record if record.id == hi else stored[hi]
        if reopened(decision, rec_lo, rec_hi):
            return "pending"
    return decision.outcome


def reopened(decision: Decision, rec_lo: StoredRecord, rec_hi: StoredRecord) -> bool:
    """True when a not_match's records changed materially since it was decided."""
    return decision.outcome == "not_match" and (
        material_hash(rec_lo.data) != decision.lo_material
        or material_hash(rec_hi.data) != decision.hi_material
    )


def latest_decisions(
    session: Session, pairs: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], Decision]:
    pairs = list(set(pairs))
    out: dict[tuple[int, int], Decision] = {}
    for start in range(0, len(pairs), 300):
        chunk = pairs[start : start + 300]
        if not chunk:
            continue
        rows = session.scalars(
            select(Decision)
            .where(or_(*(and_(Decision.pair_lo == lo, Decision.pair_hi == hi) for lo, hi in chunk)))
            .order_by(Decision.version)
        )
        for row in rows:
            out[(row.pair_lo, row.pair_hi)] = row  # later versions overwrite earlier ones
    return out


def decision_history(session: Session, lo: int, hi: int) -> list[Decision]:
    return list(
        session.scalars(
            select(Decision)
            .where(Decision.pair_lo == lo, Decision.pair_hi == hi)
            .order_by(Decision.version)
        )
    )


def decide(
    session: Session,
    candidate: CandidatePair,
    outcome: str,
    user: User,
    note: str = "",
    expected_version: int | None = None,
) -> Decision:
    """Record a new version of the decision on ``candidate``'s pair.

    ``expected_version`` (the version the reviewer saw, 0 for none) guards
    against two reviewers revising at once: the later one is refused rather
    than silently overwriting what the first decided.
    """
    if outcome not in OUTCOMES:
        raise DecisionError(f"outcome must be one of {', '.join(OUTCOMES)}")
    lo, hi = candidate.pair_lo, candidate.pair_hi
    current = session.scalar(
        select(func.max(Decision.version)).where(Decision.pair_lo == lo, Decision.pair_hi == hi)
    )
    current = current or 0
    if expected_version is not None and expected_version != current:
        raise DecisionError(
            f"the decision was revised meanwhile (now version {current}); reload and try again"
        )
    rec_lo = session.get(StoredRecord, lo)
    rec_hi = session.get(StoredRecord, hi)
    assert rec_lo is not None and rec_hi is not None
    decision = Decision(
        pair_lo=lo,
        pair_hi=hi,
        version=current + 1,
        outcome=outcome,
        note=note,
        user_id=user.id,
        agency=user.agency,
        decided_at=utcnow(),
        lo_version=rec_lo.version,
        hi_version=rec_hi.version,
        lo_material=material_hash(rec_lo.data),
        hi_material=material_hash(rec_hi.data),
        match_probability=candidate.match_probability,
    )
    session.add(decision)
    candidate.status = outcome
    if outcome == "match":
        for rec in (rec_lo, rec_hi):
            if rec.agency != user.agency:
                session.add(
                    Notification(
                        agency=rec.agency,
                        kind="match_confirmed",
                        record_pk=rec.id,
                        candidate_id=candidate.id,
                        message=f"{user.agency} confirmed a match with record {rec.record_id}",
                    )
                )
    session.flush()
    return decision


@dataclass(frozen=True)
class QueueRow:
    record: StoredRecord
    best_probability: float
    pending: int


def _own_side(agency: str) -> tuple[Any, Any, Any]:
    left = aliased(StoredRecord)
    right = aliased(StoredRecord)
    own = case((left.agency == agency, CandidatePair.left_pk), else_=CandidatePair.right_pk)
    return left, right, own


def pending_queue(
    session: Session,
    agency: str,
    *,
    kind: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[QueueRow], int]:
    """The agency's records with pending candidates, best probability first, and the total."""
    left, right, own = _own_side(agency)
    base = (
        select(
            own.label("own"),
            func.max(CandidatePair.match_probability).label("best"),
            func.count().label("n"),
        )
        .join(left, left.id == CandidatePair.left_pk)
        .join(right, right.id == CandidatePair.right_pk)
        .where(
            or_(left.agency == agency, right.agency == agency),
            CandidatePair.status.in_(PENDING_STATUSES),
            CandidatePair.shareable,
        )
        .group_by(own)
    )
    if kind is not None:
        base = base.where(CandidatePair.kind == kind)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        base.order_by(func.max(CandidatePair.match_probability).desc(), own)
        .limit(limit)
        .offset(offset)
    ).all()
    records = {
        r.id: r
        for r in session.scalars(
            select(StoredRecord).where(StoredRecord.id.in_([r[0] for r in rows]))
        )
    }
    return [QueueRow(records[r[0]], float(r[1]), int(r[2])) for r in rows if r[0] in records], total


def _touches(record_pk: int) -> Any:
    """Pairs with this record on either side, through the indexed ``left_pk``/``right_pk``.

    ``{left_pk, right_pk}`` is always ``{pair_lo, pair_hi}``, but only the first two
    are indexed on their own: filtering on ``pair_hi`` scanned the whole candidates
    table (explanations included) on every candidate page.
    """
    return or_(CandidatePair.left_pk == record_pk, CandidatePair.right_pk == record_pk)


def record_candidates(session: Session, record_pk: int) -> list[CandidatePair]:
    """Every stored candidate pair involving this record, best probability first."""
    return list(
        session.scalars(
            select(CandidatePair)
            .where(_touches(record_pk))
            .order_by(CandidatePair.match_probability.desc(), CandidatePair.id)
        )
    )


def duplicate_pairs(
    session: Session,
    agency: str,
    *,
    include_decided: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[CandidatePair], int]:
    """Duplicate pairs touching the agency's records (pending ones unless asked), best first."""
    left, right, _ = _own_side(agency)
    query = (
        select(CandidatePair)
        .join(left, left.id == CandidatePair.left_pk)
        .join(right, right.id == CandidatePair.right_pk)
        .where(
            or_(left.agency == agency, right.agency == agency),
            CandidatePair.kind == "duplicate",
            CandidatePair.shareable,
        )
    )
    if not include_decided:
        query = query.where(CandidatePair.status.in_(PENDING_STATUSES))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(
        session.scalars(
            query.order_by(CandidatePair.match_probability.desc(), CandidatePair.id)
            .limit(limit)
            .offset(offset)
        )
    )
    return rows, total


def duplicate_clusters(session: Session, agency: str, threshold: float) -> dict[int, int]:
    """Cluster label (smallest record pk) of each record in the agency's duplicate groups.

    Connected components over pairs confirmed as match, or scored at/above
    ``threshold`` and not rejected, so a reviewer sees a family of duplicate
    registrations as one group.
    """
    left, right, _ = _own_side(agency)
    rows = session.execute(
        select(CandidatePair.pair_lo, CandidatePair.pair_hi)
        .join(left, left.id == CandidatePair.left_pk)
        .join(right, right.id == CandidatePair.right_pk)
        .where(
            or_(left.agency == agency, right.agency == agency),
            CandidatePair.kind == "duplicate",
            CandidatePair.shareable,
            or_(
                CandidatePair.status == "match",
                and_(
                    CandidatePair.status != "not_match",
                    CandidatePair.match_probability >= threshold,
                ),
            ),
        )
    ).all()
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in rows:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in parent}


def decisions_for_agency(
    session: Session,
    agency: str,
    *,
    user_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Decision], int]:
    """Decisions on pairs touching the agency (only ``user_id``'s when given), newest first."""
    lo = aliased(StoredRecord)
    hi = aliased(StoredRecord)
    query = (
        select(Decision)
        .join(lo, lo.id == Decision.pair_lo)
        .join(hi, hi.id == Decision.pair_hi)
        .where(or_(lo.agency == agency, hi.agency == agency))
    )
    if user_id is not None:
        query = query.where(Decision.user_id == user_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(
        session.scalars(
            query.order_by(Decision.decided_at.desc(), Decision.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )
    return rows, total


def confirmed_matches(session: Session, record_pk: int) -> list[CandidatePair]:
    return [c for c in record_candidates(session, record_pk) if c.status == "match"]


def refresh_sharing(session: Session, record: StoredRecord) -> None:
    """Recompute ``shareable`` of the record's pairs (its consent may have changed)."""
    for row in record_candidates(session, record.id):
        other_pk = row.pair_lo if row.pair_hi == record.id else row.pair_hi
        other = session.get(StoredRecord, other_pk)
        if other is not None:
            row.shareable = shareable(record, other)
    session.flush()


def unread_notifications(session: Session, agency: str, limit: int = 50) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.agency == agency, Notification.read_at.is_(None))
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def unread_count(session: Session, agency: str) -> int:
    """How many unread notifications the agency has (the badge in every page's header)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.agency == agency, Notification.read_at.is_(None))
        )
        or 0
    )


def agency_notifications(
    session: Session,
    agency: str,
    *,
    include_read: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Notification], int]:
    """The agency's notifications, unread first then newest first, and how many there are.

    Notifications belong to an agency, not to a person: whoever of the agency
    looks at a new likely match first marks it read for everyone, as with a shared
    in-tray.
    """
    query = select(Notification).where(Notification.agency == agency)
    if not include_read:
        query = query.where(Notification.read_at.is_(None))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(
        session.scalars(
            query.order_by(
                Notification.read_at.is_not(None),
                Notification.created_at.desc(),
                Notification.id.desc(),
            )
            .limit(limit)
            .offset(offset)
        )
    )
    return rows, total


def mark_notifications_read(
    session: Session, agency: str, ids: Iterable[int] | None = None
) -> list[int]:
    """Mark the agency's unread notifications (all, or those of ``ids``) read; returns ids.

    Another agency's notification ids are silently ignored, so a guessed id neither
    changes nor confirms anything.
    """
    query = select(Notification).where(
        Notification.agency == agency, Notification.read_at.is_(None)
    )
    if ids is not None:
        wanted = list(ids)
        if not wanted:
            return []
        query = query.where(Notification.id.in_(wanted))
    now = utcnow()
    done = []
    for row in session.scalars(query):
        row.read_at = now
        done.append(row.id)
    session.flush()
    return done


# -- clusters of the nightly sweep -------------------------------------------------------


def latest_sweep(session: Session) -> SweepRun | None:
    """The most recent sweep that finished; its clusters are the ones in the store."""
    return session.scalar(
        select(SweepRun).where(SweepRun.status == "succeeded").order_by(SweepRun.id.desc()).limit(1)
    )


def sweep_clusters_of(session: Session, record_pks: Iterable[int]) -> dict[int, int]:
    """The stable sweep cluster id of each of these records that is in a cluster."""
    pks = sorted(set(record_pks))
    out: dict[int, int] = {}
    for start in range(0, len(pks), 500):
        chunk = pks[start : start + 500]
        out.update(
            session.execute(
                select(SweepClusterMember.record_pk, SweepClusterMember.cluster_id).where(
                    SweepClusterMember.record_pk.in_(chunk)
                )
            ).all()
        )
    return out


@dataclass(frozen=True)
class PairCluster:
    """The cluster a duplicate pair belongs to, and where that grouping came from."""

    label: str
    source: str  # "sweep": the nightly sweep's stable cluster id; "pairs": computed now


def pair_clusters(
    session: Session, agency: str, pairs: Sequence[CandidatePair], threshold: float
) -> dict[int, PairCluster]:
    """Cluster of each duplicate pair (by candidate id), from the sweep when one has run.

    After a sweep the ids are its stable cluster ids (a reviewer finds yesterday's
    cluster 412 under the same number today). A pair is labelled with a cluster only
    when both of its records are in it and no reviewer has since rejected the pair:
    the sweep honoured the decisions it saw, and a ``not_match`` decided after it
    must not be shown as one child until the next sweep re-clusters. Before any
    sweep has run, the connected components of :func:`duplicate_clusters` are used.
    """
    out: dict[int, PairCluster] = {}
    if latest_sweep(session) is not None:
        member = sweep_clusters_of(session, [pk for c in pairs for pk in (c.pair_lo, c.pair_hi)])
        for c in pairs:
            lo, hi = member.get(c.pair_lo), member.get(c.pair_hi)
            if lo is not None and lo == hi and c.status != "not_match":
                out[c.id] = PairCluster(f"cluster-{lo}", "sweep")
        return out
    labels = duplicate_clusters(session, agency, threshold)
    for c in pairs:
        label = labels.get(c.pair_lo)
        if label is not None:
            out[c.id] = PairCluster(f"cluster-{label}", "pairs")
    return out
