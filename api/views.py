"""From stored rows to what a reviewer may see: shared by the JSON API and the pages.

Redaction happens here, once: another agency's record keeps only the fields
its agency shares, and explanation values of comparisons on unshared fields
are dropped, so neither the JSON nor the HTML can show more than allowed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinlink.api.deps import PairView, Principal, agency_sharing, pair_view
from kinlink.api.matching import engine_row
from kinlink.api.schemas import (
    CandidateDetail,
    CandidateOut,
    ContributionOut,
    DecisionOut,
    MatchRef,
    RecordOut,
    SharedRecord,
)
from kinlink.api.sharing import agreement, band_for, redact, shared_fields, shared_values
from kinlink.matching.explain import ExplanationLayout, is_levels
from kinlink.matching.prepare import prepare_row
from kinlink.store.decisions import decision_history, latest_decisions, record_candidates, reopened
from kinlink.store.review_schema import Decision, User
from kinlink.store.review_schema import ExplanationLayout as StoredLayout
from kinlink.store.schema import StoredRecord

logger = logging.getLogger(__name__)

#: Computes a stored pair's explanation on demand (``RealtimeMatcher.explain``).
Explain = Callable[[StoredRecord, StoredRecord], list[dict[str, Any]] | None]


class Viewer:
    """One request's viewer, with the agencies' sharing rules and user names cached."""

    def __init__(
        self, principal: Principal, session: Session, explain: Explain | None = None
    ) -> None:
        self.principal = principal
        self.session = session
        self._explain = explain
        self._sharing = agency_sharing(session)
        self._users: dict[int, str] = {}
        self._records: dict[int, StoredRecord] = {}
        self._layouts: dict[str, ExplanationLayout | None] = {}
        self._values: dict[int, dict[str, Any]] = {}

    def allowed(self, record: StoredRecord) -> tuple[str, ...] | None:
        """Fields of ``record`` the viewer may see; ``None`` means all (own agency)."""
        if record.agency == self.principal.agency:
            return None
        return shared_fields(self._sharing.get(record.agency))

    def shared(self, record: StoredRecord) -> SharedRecord:
        allowed = self.allowed(record)
        data = dict(record.data) if allowed is None else redact(record.data, allowed)
        return SharedRecord(
            agency=record.agency,
            record_id=record.record_id,
            record_type=record.record_type,
            data=data,
            own=allowed is None,
        )

    def preload(self, pks: set[int]) -> None:
        """Load these records in one query, so ``pair_view``'s lookups hit the session.

        Without it a candidate page made one query per candidate (N+1). The list
        keeps them referenced: the session's identity map holds objects weakly.
        """
        missing = [pk for pk in pks if pk not in self._records]
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            for row in self.session.scalars(select(StoredRecord).where(StoredRecord.id.in_(chunk))):
                self._records[row.id] = row

    def username(self, user_id: int) -> str:
        if user_id not in self._users:
            user = self.session.get(User, user_id)
            self._users[user_id] = user.username if user else f"user {user_id}"
        return self._users[user_id]

    def decision(self, decision: Decision, lo: StoredRecord, hi: StoredRecord) -> DecisionOut:
        return DecisionOut(
            version=decision.version,
            outcome=decision.outcome,  # type: ignore[arg-type]
            note=decision.note,
            decided_by=self.username(decision.user_id),
            agency=decision.agency,
            decided_at=decision.decided_at,
            versions={
                f"{lo.agency}/{lo.record_id}": decision.lo_version,
                f"{hi.agency}/{hi.record_id}": decision.hi_version,
            },
        )

    # -- records -------------------------------------------------------------------------
    def record(self, record: StoredRecord) -> RecordOut:
        return RecordOut(
            agency=record.agency,
            record_id=record.record_id,
            record_type=record.record_type,
            version=record.version,
            created_at=record.created_at,
            updated_at=record.updated_at,
            data=dict(record.data),
            confirmed_matches=self.confirmed(record),
        )

    def confirmed(self, record: StoredRecord) -> list[MatchRef]:
        out = []
        pairs = [c for c in record_candidates(self.session, record.id) if c.status == "match"]
        self.preload({pk for c in pairs for pk in (c.pair_lo, c.pair_hi)})
        latest = latest_decisions(self.session, [(c.pair_lo, c.pair_hi) for c in pairs])
        for candidate in pairs:
            view = pair_view(candidate, self.principal, self.session, this_pk=record.id)
            decision = latest.get((candidate.pair_lo, candidate.pair_hi))
            if view is None or decision is None:
                continue
            out.append(
                MatchRef(
                    candidate_id=candidate.id,
                    agency=view.other.agency,
                    record_id=view.other.record_id,
                    record_type=view.other.record_type,
                    decided_at=decision.decided_at,
                )
            )
        return out

    # -- candidates ----------------------------------------------------------------------
    def candidates(
        self, record: StoredRecord, *, include_rejected: bool = False
    ) -> list[CandidateOut]:
        """The record's visible candidates, best first; rejected pairs hidden unless reopened."""
        views = []
        rows = record_candidates(self.session, record.id)
        self.preload({pk for c in rows for pk in (c.pair_lo, c.pair_hi)})
        for candidate in rows:
            view = pair_view(candidate, self.principal, self.session, this_pk=record.id)
            if view is not None:
                views.append(view)
        latest = latest_decisions(
            self.session, [(v.candidate.pair_lo, v.candidate.pair_hi) for v in views]
        )
        out = []
        for view in views:
            decision = latest.get((view.candidate.pair_lo, view.candidate.pair_hi))
            lo, hi = _ordered(view)
            is_reopened = decision is not None and reopened(decision, lo, hi)
            if (
                decision is not None
                and decision.outcome == "not_match"
                and not is_reopened
                and not include_rejected
            ):
                continue
            out.append(self.candidate(view, len(out) + 1, decision, is_reopened))
        return out

    def candidate(
        self, view: PairView, rank: int, decision: Decision | None, is_reopened: bool
    ) -> CandidateOut:
        c = view.candidate
        band = band_for(c.match_probability)
        lo, hi = _ordered(view)
        status = "pending" if decision is None or is_reopened else decision.outcome
        return CandidateOut(
            id=c.id,
            kind=c.kind,  # type: ignore[arg-type]
            rank=rank,
            match_probability=c.match_probability,
            match_weight=c.match_weight,
            band=band.code,
            band_label=band.label,
            status=status,  # type: ignore[arg-type]
            previously_rejected=is_reopened,
            this=self.shared(view.this),
            other=self.shared(view.other),
            explanation=self.explanation(view),
            decision=self.decision(decision, lo, hi) if decision is not None else None,
            source=c.source,
            scored_at=c.scored_at,
        )

    def detail(self, view: PairView) -> CandidateDetail:
        lo, hi = _ordered(view)
        history = decision_history(self.session, lo.id, hi.id)
        latest = history[-1] if history else None
        is_reopened = latest is not None and reopened(latest, lo, hi)
        base = self.candidate(view, 1, latest, is_reopened)
        return CandidateDetail(
            **base.model_dump(), history=[self.decision(d, lo, hi) for d in history]
        )

    def explanation(self, view: PairView) -> list[ContributionOut]:
        oriented = view.candidate.left_pk == view.this.id
        allowed = self.allowed(view.other)
        items: Any = view.candidate.explanation
        left, right = (view.this, view.other) if oriented else (view.other, view.this)
        if is_levels(items):
            # A sweep pair's levels: the labels and weights from its model's layout, the
            # values from the two records.
            items = self._expanded(items, left, right)
        if not items and self._explain is not None:
            # Stored without one (a sweep pair below its explain threshold): compute it.
            items = self._explain(left, right) or []
        out = []
        for item in items:
            this_values = item.get("values_l" if oriented else "values_r") or {}
            other_values = item.get("values_r" if oriented else "values_l") or {}
            other_values = shared_values(str(item.get("comparison", "")), other_values, allowed)
            gamma = int(item.get("gamma", -1))
            out.append(
                ContributionOut(
                    comparison=str(item.get("comparison", "")),
                    level=str(item.get("level", "")),
                    agreement=agreement(
                        str(item.get("level", "")), gamma, int(item.get("max_gamma", gamma))
                    ),  # type: ignore[arg-type]
                    match_weight=float(item.get("match_weight", 0.0)),
                    tf_adjustment=float(item.get("tf_adjustment", 0.0)),
                    total=float(item.get("total", 0.0)),
                    values_this=_plain(this_values),
                    values_other=_plain(other_values),
                )
            )
        return out

    def _prepared(self, record: StoredRecord) -> dict[str, Any]:
        """A record's prepared columns (the values an explanation shows), once per request:
        a list of candidates shows the same record beside each of them."""
        if record.id not in self._values:
            self._values[record.id] = prepare_row(engine_row(record.id, record.data))
        return self._values[record.id]

    def _expanded(
        self, levels: dict[str, Any], left: StoredRecord, right: StoredRecord
    ) -> list[dict[str, Any]]:
        # A missing or damaged layout or levels: the pair is explained as one stored
        # without an explanation is (not expected; never a broken page).
        key = str(levels.get("layout"))
        try:
            if key not in self._layouts:
                row = self.session.get(StoredLayout, key)
                stored = None if row is None else ExplanationLayout.from_json(row.layout)
                self._layouts[key] = stored
            layout = self._layouts[key]
            if layout is None:
                logger.warning("explanation layout %s is not stored", key)
                return []
            return layout.expand(levels, self._prepared(left), self._prepared(right))
        except (ValueError, TypeError, KeyError) as err:
            logger.warning("explanation of pair %s-%s unreadable: %r", left.id, right.id, err)
            return []


def _ordered(view: PairView) -> tuple[StoredRecord, StoredRecord]:
    return (view.this, view.other) if view.this.id < view.other.id else (view.other, view.this)


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {str(k): v for k, v in values.items()}


def find_own(session: Session, agency: str, record_id: str) -> StoredRecord | None:
    return session.scalar(
        select(StoredRecord).where(
            StoredRecord.agency == agency, StoredRecord.record_id == record_id
        )
    )
