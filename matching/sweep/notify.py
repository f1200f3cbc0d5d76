"""Telling caseworkers about new likely matches: review-UI notifications and a webhook.

Nobody should have to press "find match": when a sweep (or real-time matching)
proposes a likely match for a record, the agency that holds the record gets a
notification in the review UI (the review service's ``notifications`` table,
read by :func:`kinlink.store.decisions.unread_notifications`).

One notification per record and run, not per pair, and at most
``MAX_PER_AGENCY`` per agency and run plus one summary line: a first sweep over
an old caseload must not bury an agency's inbox. Notifications name the
caseworker's *own* record (``record_pk``), never the other agency's, so nothing
is disclosed before the sharing rules of the review page apply. They carry no
``candidate_id``: a pending candidate may be removed when re-scored, and a
notification must not stand in its way.

The webhook gets counts only (per agency), never names or record contents: it is
for other systems to know that there is something to look at.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from kinlink.matching.sweep.write import NewPair
from kinlink.store.review_schema import Notification

logger = logging.getLogger(__name__)

#: Pairs at or above this probability are "likely matches" worth a notification.
DEFAULT_NOTIFY_PROBABILITY = 0.5
#: Per agency and run; beyond it, one summary notification.
MAX_PER_AGENCY = 200
NOTIFICATION_KIND = "new_candidates"


@dataclass(frozen=True)
class PlannedNotification:
    agency: str
    record_pk: int | None
    message: str


def plan_notifications(
    pairs: Iterable[NewPair],
    agency: Mapping[int, str],
    record_id: Mapping[int, str],
    *,
    min_probability: float = DEFAULT_NOTIFY_PROBABILITY,
    source: str = "nightly sweep",
    max_per_agency: int = MAX_PER_AGENCY,
) -> list[PlannedNotification]:
    """One notification per (agency, own record) with new likely matches; pure."""
    best: dict[tuple[str, int], list[float]] = {}
    for pair in pairs:
        if pair.match_probability < min_probability:
            continue
        for own in (pair.lo, pair.hi):
            owner = agency.get(own)
            if owner is None:
                continue
            best.setdefault((owner, own), []).append(pair.match_probability)
    per_agency: dict[str, list[tuple[float, int, int]]] = {}
    for (owner, own), probs in best.items():
        per_agency.setdefault(owner, []).append((max(probs), len(probs), own))
    out: list[PlannedNotification] = []
    for owner in sorted(per_agency):
        items = sorted(per_agency[owner], key=lambda t: (-t[0], t[2]))
        for prob, count, own in items[:max_per_agency]:
            noun = "likely match" if count == 1 else "likely matches"
            out.append(
                PlannedNotification(
                    owner,
                    own,
                    f"{source}: {count} new {noun} for record {record_id.get(own, own)} "
                    f"(best {prob:.0%})",
                )
            )
        if len(items) > max_per_agency:
            out.append(
                PlannedNotification(
                    owner,
                    None,
                    f"{source}: {len(items) - max_per_agency} more records have new likely "
                    "matches; see the review queue",
                )
            )
    return out


def add_notifications(session: Session, planned: Iterable[PlannedNotification]) -> int:
    """Store planned notifications (in the caller's transaction); returns how many."""
    rows: list[dict[str, Any]] = [
        {
            "agency": p.agency,
            "kind": NOTIFICATION_KIND,
            "record_pk": p.record_pk,
            "candidate_id": None,
            "message": p.message,
        }
        for p in planned
    ]
    if rows:
        from kinlink.store.schema import utcnow

        now = utcnow()
        for row in rows:
            row["created_at"] = now
        session.execute(insert(Notification.__table__), rows)
    return len(rows)


def post_webhook(url: str, payload: Mapping[str, Any], timeout: float = 10.0) -> str:
    """POST ``payload`` as JSON; returns ``"ok (HTTP 200)"`` or what went wrong.

    Never raises: the sweep's results are already committed, and a receiver that is
    down must not turn a good sweep into a failed one (the status goes in the report).
    """
    body = json.dumps(payload, default=str).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "kinlink-sweep"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return f"ok (HTTP {response.status})"
    except Exception as err:  # any failure is reported, none is fatal
        logger.warning("sweep webhook to %s failed: %s", url, err)
        return f"failed: {type(err).__name__}: {err}"


def webhook_payload(report: Mapping[str, Any]) -> dict[str, Any]:
    """The report's counts, without anything about any child."""
    return {
        "event": "kinlink.sweep.finished",
        "run_id": report.get("run_id"),
        "mode": report.get("mode"),
        "finished_at": report.get("finished_at"),
        "model": report.get("model"),
        "new_records": report.get("new_records", {}).get("total"),
        "new_pending_pairs": report.get("pairs", {}).get("new_pending"),
        "clusters": report.get("clusters", {}),
        "agencies": {
            code: {
                "new_pending_pairs": row.get("new_pending_pairs", 0),
                "records_in_clusters": row.get("records_in_clusters", 0),
            }
            for code, row in report.get("by_agency", {}).items()
        },
    }
