"""The nightly cross-agency duplicate sweep (issue 7): ``kinlink sweep``.

New and changed records are scored against everything stored, both directions
(new case vs stored tracing requests and cases; new tracing request vs stored
cases); pairs go to the review service's candidates, duplicate cases are grouped
into clusters with stable ids, reviewers' decisions are honoured, caseworkers are
notified, and a report is stored with the run. See ``docs/sweep.md``.

Public names: :func:`run_sweep` and :class:`SweepOptions` (one run),
:class:`SweepLocked` (another run holds the lock), :func:`latest_reports` (for a
review page), :func:`format_report`, and the pure cluster functions
:func:`build_clusters` / :func:`assign_ids`.
"""

from kinlink.matching.sweep.clusters import ClusterStats, assign_ids, build_clusters
from kinlink.matching.sweep.lock import SweepLocked
from kinlink.matching.sweep.notify import plan_notifications
from kinlink.matching.sweep.report import RunSummary, format_report, latest_reports
from kinlink.matching.sweep.run import (
    NoModel,
    SweepOptions,
    SweepResult,
    run_sweep,
)
from kinlink.matching.sweep.scoring import DEFAULT_EXPLAIN_PROBABILITY

__all__ = [
    "DEFAULT_EXPLAIN_PROBABILITY",
    "ClusterStats",
    "NoModel",
    "RunSummary",
    "SweepLocked",
    "SweepOptions",
    "SweepResult",
    "assign_ids",
    "build_clusters",
    "format_report",
    "latest_reports",
    "plan_notifications",
    "run_sweep",
]
