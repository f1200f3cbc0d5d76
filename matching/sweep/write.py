"""Writing a sweep's results into the store, inside the run's final transaction.

Pairs go into the review service's ``candidates`` table with the same rules as
:func:`kinlink.store.decisions.store_candidates` (which does this one record at a
time, for real-time matching): the status comes from the latest decision through
:func:`kinlink.store.decisions.latest_decisions` and
:func:`kinlink.store.decisions.reopened`, so

* a pair a reviewer marked ``not_match`` keeps that status (hidden from the queues)
  unless one of its records changed materially since the decision;
* a confirmed pair (``match``) keeps that status and is never queued again;
* a decided pair is never deleted, even when the engine stops proposing it.

This module does the same in bulk (a few queries per thousand pairs instead of a
few per record) because a sweep writes hundreds of thousands of pairs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Table,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from kinlink.matching.explain import ExplanationLayout as Layout
from kinlink.matching.sweep.clusters import Assignment, Pair
from kinlink.store.bulk import insert_rows, plain_json
from kinlink.store.decisions import latest_decisions, reopened
from kinlink.store.review_schema import CandidatePair, Decision, ExplanationLayout
from kinlink.store.schema import StoredRecord
from kinlink.store.sweep_schema import SweepCluster, SweepClusterMember

_CHUNK = 500
#: Candidate rows per INSERT/UPDATE statement.
_WRITE_CHUNK = 2000
SOURCE = "sweep"


@dataclass
class NewPair:
    """A pair that is pending review and was not pending before this sweep."""

    lo: int
    hi: int
    left_pk: int
    right_pk: int
    kind: str
    match_probability: float


@dataclass
class CandidateWrite:
    """What writing the pairs did, for the report and the notifications."""

    inserted: int = 0
    updated: int = 0
    removed: int = 0
    status: dict[str, int] = field(default_factory=dict)
    #: Pairs found again that a reviewer rejected and nothing material changed since.
    kept_not_match: int = 0
    #: Pairs found again that a reviewer already confirmed.
    kept_match: int = 0
    #: Pairs whose not_match was reopened by a material change of a record.
    reopened: int = 0
    new_pending: list[NewPair] = field(default_factory=list)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _latest(session: Session, pairs: set[Pair]) -> dict[Pair, Decision]:
    """Latest decision per pair; reads the whole (small) decisions table when that is cheaper."""
    if not pairs:
        return {}
    n_decisions = session.scalar(select(func.count()).select_from(Decision)) or 0
    if n_decisions == 0:
        return {}
    if n_decisions > len(pairs):
        return latest_decisions(session, pairs)
    out: dict[Pair, Decision] = {}
    for row in session.scalars(select(Decision).order_by(Decision.version)):
        key = (row.pair_lo, row.pair_hi)
        if key in pairs:
            out[key] = row
    return out


def _existing(session: Session, swept: Sequence[int] | None) -> dict[Pair, tuple[int, str, str]]:
    """(lo, hi) -> (id, status, source) of stored candidates touching the swept records."""
    columns = (
        CandidatePair.pair_lo,
        CandidatePair.pair_hi,
        CandidatePair.id,
        CandidatePair.status,
        CandidatePair.source,
    )
    out: dict[Pair, tuple[int, str, str]] = {}
    if swept is None:
        for lo, hi, cid, status, source in session.execute(select(*columns)):
            out[(lo, hi)] = (cid, status, source)
        return out
    for chunk in _chunks(list(swept)):
        query = select(*columns).where(
            or_(CandidatePair.left_pk.in_(chunk), CandidatePair.right_pk.in_(chunk))
        )
        for lo, hi, cid, status, source in session.execute(query):
            out[(lo, hi)] = (cid, status, source)
    return out


def _records(session: Session, pks: Iterable[int]) -> dict[int, StoredRecord]:
    out: dict[int, StoredRecord] = {}
    for chunk in _chunks(sorted(set(pks))):
        for row in session.scalars(select(StoredRecord).where(StoredRecord.id.in_(chunk))):
            out[row.id] = row
    return out


def write_candidates(
    session: Session,
    scored: pd.DataFrame,
    *,
    swept: Sequence[int] | None,
    record_type: dict[int, str],
    agency: dict[int, str],
    consent: dict[int, bool],
    model_fingerprint: str | None,
    now: dt.datetime,
    fast: bool | None = None,
    layout: Layout | None = None,
) -> CandidateWrite:
    """Upsert the scored pairs and drop undecided sweep pairs of swept records not found again.

    ``swept`` are the records whose every pair this sweep recomputed (``None``: all
    of them, a full sweep); a pair touching one of them that the sweep no longer
    finds is removed if it came from a sweep and nobody decided on it (pairs from
    real-time matching are left to it). ``record_type``/``agency``/``consent``
    describe every record of the snapshot (for the pair kind and sharing rule,
    as in :func:`kinlink.store.decisions.shareable`). ``fast``: new pairs through
    :func:`kinlink.store.bulk.insert_rows`' direct SQLite path (default: on SQLite).
    ``layout``: the model's explanation layout, stored (once) for the pairs'
    levels-form explanations.
    """
    result = CandidateWrite()
    if layout is not None:
        store_layout(session, layout, now)
    existing = _existing(session, swept)
    found: dict[Pair, tuple[int, int, float, float, list[dict[str, Any]]]] = {}
    for left, right, prob, weight, expl in scored[
        ["left_pk", "right_pk", "match_probability", "match_weight", "explanation"]
    ].itertuples(index=False, name=None):
        left, right = int(left), int(right)
        key = (left, right) if left < right else (right, left)
        found[key] = (left, right, float(prob), float(weight), expl)
    stale = [
        (key, cid)
        for key, (cid, _status, source) in existing.items()
        if key not in found and source == SOURCE
    ]
    latest = _latest(session, set(found) | {key for key, _ in stale})
    rejected = [key for key in found if key in latest and latest[key].outcome == "not_match"]
    records = _records(session, {pk for key in rejected for pk in key})

    # Written in chunks as they are decided: a list of every pair's row (a 100,000-record
    # sweep keeps millions of pairs) would be gigabytes of dicts.
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    n_inserted = n_updated = 0

    def flush(final: bool = False) -> None:
        nonlocal inserts, updates, n_inserted, n_updated
        if inserts and (final or len(inserts) >= _WRITE_CHUNK):
            insert_rows(session, CandidatePair.__table__, inserts, fast=fast)
            n_inserted += len(inserts)
            inserts = []
        if updates and (final or len(updates) >= _WRITE_CHUNK):
            session.execute(update(CandidatePair), updates)
            n_updated += len(updates)
            updates = []

    status_counts: dict[str, int] = {}
    # in (lo, hi) order: the unique index on the pair then grows at its end or close
    # to it instead of at random places (a third fewer page visits on a large table)
    for key, (left, right, prob, weight, expl) in sorted(found.items()):
        lo, hi = key
        decision = latest.get(key)
        status = "pending" if decision is None else decision.outcome
        if decision is not None and decision.outcome == "not_match":
            rec_lo, rec_hi = records.get(lo), records.get(hi)
            if rec_lo is not None and rec_hi is not None and reopened(decision, rec_lo, rec_hi):
                status = "pending"
                result.reopened += 1
            else:
                result.kept_not_match += 1
        elif status == "match":
            result.kept_match += 1
        status_counts[status] = status_counts.get(status, 0) + 1
        kind = "link" if record_type.get(left) != record_type.get(right) else "duplicate"
        share = agency.get(left) == agency.get(right) or (
            consent.get(left, True) and consent.get(right, True)
        )
        values = {
            "left_pk": left,
            "right_pk": right,
            "kind": kind,
            "match_probability": prob,
            "match_weight": weight,
            "explanation": expl,
            "source": SOURCE,
            "status": status,
            "shareable": bool(share),
            "model_fingerprint": model_fingerprint,
            "scored_at": now,
        }
        before = existing.get(key)
        if before is None:
            inserts.append({**values, "pair_lo": lo, "pair_hi": hi, "created_at": now})
        else:
            values["explanation"] = plain_json(expl)  # the ORM's update serialises it
            updates.append({**values, "id": before[0]})
        was_pending = before is not None and before[1] == "pending"
        if status == "pending" and share and not was_pending:
            result.new_pending.append(NewPair(lo, hi, left, right, kind, prob))
        flush()
    flush(final=True)
    to_remove = [cid for key, cid in stale if key not in latest]
    for chunk in _chunks(to_remove):
        session.execute(delete(CandidatePair).where(CandidatePair.id.in_(chunk)))
    result.inserted, result.updated, result.removed = n_inserted, n_updated, len(to_remove)
    result.status = status_counts
    return result


def store_layout(session: Session, layout: Layout, now: dt.datetime) -> None:
    """Store ``layout`` unless a row already holds it (its key is a hash of its content)."""
    if session.get(ExplanationLayout, layout.key) is None:
        session.add(ExplanationLayout(key=layout.key, layout=layout.to_json(), created_at=now))
        session.flush()


# -- clusters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterInput:
    """Duplicate pairs as the clustering sees them: scores and reviewers' decisions."""

    scores: dict[Pair, float]
    confirmed: list[Pair]
    not_match: list[Pair]


def cluster_input(session: Session, threshold: float | None = None) -> ClusterInput:
    """The shareable duplicate pairs clustering reads, with their status.

    The candidates' ``status`` already folds in the latest decision and whether a
    not_match was reopened by a material change, so it is what clusters honour.

    With ``threshold``, only the pairs :func:`~.clusters.build_clusters` can look at:
    those among records that have a pair at or above ``threshold`` or a confirmed one
    (its edges join only such records, and its checks read only pairs between the
    members of two groups). The clusters are the same as from every pair (tested), but
    a store holding millions of weak pairs is no longer read whole each night. The
    records are put in a temporary table and the pairs among them read in one join.
    """
    if threshold is None:
        return _cluster_input(session, None)
    duplicates = select(CandidatePair.pair_lo, CandidatePair.pair_hi).where(
        CandidatePair.kind == "duplicate", CandidatePair.shareable
    )
    # two queries, not one with OR: each can then use its index (kind and probability;
    # status), where the OR made SQLite walk every duplicate pair
    members = {
        pk
        for query in (
            duplicates.where(CandidatePair.match_probability >= threshold),
            duplicates.where(CandidatePair.status == "match"),
        )
        for pair in session.execute(query)
        for pk in pair
    }
    if not members:
        return ClusterInput({}, [], [])
    table = Table(
        "kinlink_cluster_records",
        MetaData(),
        Column("pk", Integer, primary_key=True),
        prefixes=["TEMPORARY"],
    )
    connection = session.connection()
    table.drop(connection, checkfirst=True)
    table.create(connection)
    try:
        rows = [{"pk": pk} for pk in sorted(members)]
        for chunk in _chunks(rows, _WRITE_CHUNK):
            connection.execute(insert(table), list(chunk))
        return _cluster_input(session, table)
    finally:
        table.drop(connection)


def _cluster_input(session: Session, members: Table | None) -> ClusterInput:
    scores: dict[Pair, float] = {}
    confirmed: list[Pair] = []
    not_match: list[Pair] = []
    query: Any = select(
        CandidatePair.pair_lo,
        CandidatePair.pair_hi,
        CandidatePair.match_probability,
        CandidatePair.status,
    ).where(CandidatePair.kind == "duplicate", CandidatePair.shareable)
    if members is not None and session.get_bind().dialect.name == "sqlite":
        # SQLite's planner, left to itself, walked every duplicate pair through the
        # (kind, probability) index and probed the records for each (1.7 s for 3,600
        # records among 1.3M pairs; proportional to the pairs stored). CROSS JOIN fixes
        # the order: each record's pairs by the (pair_lo, pair_hi) index, then the other
        # end looked up (0.1 s). Kind and sharing are checked here so that no index on
        # them is tempting.
        query = text(
            "select c.pair_lo, c.pair_hi, c.match_probability, c.status"
            f" from {members.name} lo cross join {CandidatePair.__tablename__} c"
            " on c.pair_lo = lo.pk"
            f" cross join {members.name} hi on hi.pk = c.pair_hi"
            " where (case when c.kind = 'duplicate' and c.shareable then 1 end) = 1"
        )
    elif members is not None:
        lo, hi = members.alias("lo"), members.alias("hi")
        query = query.join(lo, lo.c.pk == CandidatePair.pair_lo).join(
            hi, hi.c.pk == CandidatePair.pair_hi
        )
    for pair_lo, pair_hi, prob, status in session.execute(query):
        pair = (pair_lo, pair_hi)
        scores[pair] = float(prob)
        if status == "match":
            confirmed.append(pair)
        elif status == "not_match":
            not_match.append(pair)
    return ClusterInput(scores, confirmed, not_match)


def current_clusters(session: Session) -> tuple[dict[int, frozenset[int]], int]:
    """The live clusters (id -> members) and the next unused id."""
    groups: dict[int, set[int]] = {}
    for cid, pk in session.execute(
        select(SweepClusterMember.cluster_id, SweepClusterMember.record_pk)
    ):
        groups.setdefault(cid, set()).add(pk)
    top = session.scalar(select(func.max(SweepCluster.id))) or 0
    return {cid: frozenset(m) for cid, m in groups.items()}, top + 1


@dataclass
class ClusterWrite:
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    retired: int = 0
    merged: int = 0


def write_clusters(
    session: Session,
    assignment: Assignment,
    previous: dict[int, frozenset[int]],
    run_id: int,
) -> ClusterWrite:
    """Make the stored clusters equal to ``assignment``, touching only what changed."""
    out = ClusterWrite()
    new_rows, changed = [], []
    for cid, members in assignment.clusters.items():
        before = previous.get(cid)
        if before is None:
            new_rows.append(
                {
                    "id": cid,
                    "size": len(members),
                    "created_run_id": run_id,
                    "updated_run_id": run_id,
                    "retired_run_id": None,
                    "merged_into": None,
                }
            )
        elif before != members:
            changed.append({"id": cid, "size": len(members), "updated_run_id": run_id})
        else:
            out.unchanged += 1
    out.created, out.changed = len(new_rows), len(changed)
    for chunk in _chunks(new_rows, 2000):
        session.execute(insert(SweepCluster.__table__), list(chunk))
    for chunk in _chunks(changed, 2000):
        session.execute(update(SweepCluster), list(chunk))

    old_of = {pk: cid for cid, members in previous.items() for pk in members}
    new_of = {pk: cid for cid, members in assignment.clusters.items() for pk in members}
    moved = [pk for pk, cid in old_of.items() if new_of.get(pk) != cid]
    added = [
        {"record_pk": pk, "cluster_id": cid, "added_run_id": run_id}
        for pk, cid in new_of.items()
        if old_of.get(pk) != cid
    ]
    for chunk in _chunks(moved):
        session.execute(delete(SweepClusterMember).where(SweepClusterMember.record_pk.in_(chunk)))
    for chunk in _chunks(added, 2000):
        session.execute(insert(SweepClusterMember.__table__), list(chunk))
    retire = [
        {"id": cid, "retired_run_id": run_id, "updated_run_id": run_id, "merged_into": heir}
        for cid, heir in assignment.retired.items()
    ]
    for chunk in _chunks(retire, 2000):
        session.execute(update(SweepCluster), list(chunk))
    out.retired = len(retire)
    out.merged = sum(1 for heir in assignment.retired.values() if heir is not None)
    return out
