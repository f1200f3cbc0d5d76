"""The sweep report: what a run looked at and found, per agency; stored with the run.

The report is plain JSON in ``sweep_runs.report`` so the review UI, the command
line and a webhook receiver all read the same thing. :func:`latest_reports` is
the function a review page calls; :func:`format_report` is what ``kinlink sweep``
prints.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinlink.store.sweep_schema import SweepRun


def by_agency(
    new_records: Iterable[tuple[str, str]],
    new_pending: Iterable[tuple[int, int]],
    cluster_members: Iterable[int],
    agency: Mapping[int, str],
) -> dict[str, dict[str, int]]:
    """Per-agency counts: new/changed records by type, new pending pairs, clustered records.

    A pair counts for each agency holding one of its two records (once if both).
    """
    out: dict[str, Counter[str]] = {}

    def row(code: str) -> Counter[str]:
        return out.setdefault(code or "(none)", Counter())

    for code, record_type in new_records:
        row(code)[f"new_{record_type}s"] += 1
    # counted per distinct (agency of lo, agency of hi): a sweep raises ~600,000 pairs
    # among a handful of agencies
    pairs: Counter[tuple[str, str]] = Counter(
        (agency.get(lo, ""), agency.get(hi, "")) for lo, hi in new_pending
    )
    for (a, b), n in pairs.items():
        for code in {a, b}:
            row(code)["new_pending_pairs"] += n
    for code, n in Counter(agency.get(pk, "") for pk in cluster_members).items():
        row(code)["records_in_clusters"] += n
    return {code: dict(sorted(counts.items())) for code, counts in sorted(out.items())}


def format_report(report: Mapping[str, Any]) -> str:
    """A few readable lines for the terminal or a cron mail."""
    pairs = report.get("pairs", {})
    clusters = report.get("clusters", {})
    model = report.get("model", {})
    new = report.get("new_records", {})
    lines = [
        f"sweep run {report.get('run_id')} ({report.get('mode')}): "
        f"{new.get('total', 0)} new or changed records of {report.get('stored_records', 0)} "
        f"stored, {report.get('seconds', 0):.1f}s",
        f"  model {model.get('fingerprint') or '?'} (kinlink {model.get('kinlink_version') or '?'})"
        f", threshold {report.get('threshold')}",
        f"  pairs: {pairs.get('candidates', 0)} compared, {pairs.get('kept', 0)} kept "
        f"(>= {pairs.get('min_probability')}{_cap(pairs)}), "
        f"{pairs.get('new_pending', 0)} new for review; "
        f"{pairs.get('kept_not_match', 0)} rejected and {pairs.get('kept_match', 0)} confirmed "
        f"pairs not raised again, {pairs.get('reopened', 0)} reopened by a material change",
        f"  clusters: {clusters.get('total', 0)} ({clusters.get('records', 0)} records), "
        f"{clusters.get('created', 0)} new, {clusters.get('changed', 0)} changed, "
        f"{clusters.get('retired', 0)} retired; safeguards refused "
        f"{clusters.get('refused_chain', 0)} chain, {clusters.get('refused_not_match', 0)} "
        f"not_match and {clusters.get('refused_size', 0)} size joins",
        f"  notifications: {report.get('notifications', 0)}",
    ]
    if report.get("webhook"):
        lines.append(f"  webhook: {report['webhook']}")
    for warning in report.get("warnings", []):
        lines.append(f"  warning: {warning}")
    agencies = report.get("by_agency", {})
    if agencies:
        lines.append("  per agency (new cases / new tracing requests / new pairs / clustered):")
        for code, row in agencies.items():
            lines.append(
                f"    {code}: {row.get('new_cases', 0)} / {row.get('new_tracing_requests', 0)}"
                f" / {row.get('new_pending_pairs', 0)} / {row.get('records_in_clusters', 0)}"
            )
    return "\n".join(lines)


@dataclass(frozen=True)
class RunSummary:
    """One run as a review page lists it."""

    id: int
    mode: str
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    model_fingerprint: str | None
    report: dict[str, Any]
    error: str | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def latest_reports(
    session: Session, limit: int = 10, *, include_failed: bool = True
) -> list[RunSummary]:
    """The most recent runs, newest first, with their reports (for the review UI).

    Failed, abandoned and running runs are listed too (unless ``include_failed`` is
    false), so an operator can see that last night's sweep did not finish.
    """
    query = select(SweepRun).order_by(SweepRun.id.desc()).limit(limit)
    if not include_failed:
        query = query.where(SweepRun.status == "succeeded")
    return [
        RunSummary(
            id=run.id,
            mode=run.mode,
            status=run.status,
            started_at=run.started_at,
            finished_at=run.finished_at,
            model_fingerprint=run.model_fingerprint,
            report=dict(run.report or {}),
            error=run.error,
        )
        for run in session.scalars(query)
    ]


def _cap(pairs: dict[str, Any]) -> str:
    """ ", best 50 of each kind per new record" when the cap applied (older reports: nothing)."""
    cap = pairs.get("max_candidates")
    return f", best {cap} of each kind per new record" if cap else ""
