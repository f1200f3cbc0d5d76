"""Tables of the nightly duplicate sweep: its runs, its clusters, and its lock.

They live on the store's ``Base`` (migration ``0003``). The sweep's *pairs*
are not here: they go into the review service's ``candidates`` table, so the
queues reviewers already use show them and decisions stay in one place.

Three rules shape these tables:

* a run is recorded as ``running`` in its own short transaction first (so an
  operator, and the kill test, can see it), and everything it produced is
  written with its ``succeeded`` status in **one** final transaction: a run
  killed at any point leaves the previous results exactly as they were;
* cluster ids are stable: a cluster that is merged away or dissolved is kept,
  retired, never deleted, so an id is never handed to another group of children;
* the lock is a single row with a holder and a heartbeat rather than a
  database-specific lock, so it behaves the same on SQLite and PostgreSQL and
  an operator can see (and, if needed, clear) who holds it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kinlink.store.schema import Base, JsonType, utcnow

RUN_STATUSES = ("running", "committing", "succeeded", "failed", "abandoned")
RUN_MODES = ("incremental", "full")


class SweepRun(Base):
    """One ``kinlink sweep``: what it looked at, what it found, and whether it finished."""

    __tablename__ = "sweep_runs"
    __table_args__ = (Index("ix_sweep_runs_status", "status", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mode: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="running")
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: Records updated after this were (or are being) swept; ``None`` for a full sweep.
    since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: When the snapshot of the store was read: the next incremental sweep starts here.
    #: Set on every run but only a ``succeeded`` run's watermark is ever used.
    watermark: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: ``host:pid`` of the process that ran it (to tell a crashed run from a live one).
    holder: Mapped[str] = mapped_column(String(300), default="")
    model_fingerprint: Mapped[str | None] = mapped_column(String(100), nullable=True)
    model_version: Mapped[str | None] = mapped_column(String(50), nullable=True)
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: The sweep report (counts per agency, timings, model); see kinlink.matching.sweep.report.
    report: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class SweepCluster(Base):
    """A group of case records the sweep believes are one child; its id is stable."""

    __tablename__ = "sweep_clusters"

    #: Assigned by the sweep (max ever used + 1), never reused.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(Integer)
    created_run_id: Mapped[int] = mapped_column(ForeignKey("sweep_runs.id"))
    updated_run_id: Mapped[int] = mapped_column(ForeignKey("sweep_runs.id"))
    #: Set when the cluster no longer exists (merged into another, or dissolved).
    retired_run_id: Mapped[int | None] = mapped_column(ForeignKey("sweep_runs.id"), nullable=True)
    #: The cluster that took over most of its members, when it was merged away.
    merged_into: Mapped[int | None] = mapped_column(Integer, nullable=True)


class SweepClusterMember(Base):
    """A record's current cluster (records in no row are clusters of one)."""

    __tablename__ = "sweep_cluster_members"

    record_pk: Mapped[int] = mapped_column(ForeignKey("records.id"), primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("sweep_clusters.id"), index=True)
    added_run_id: Mapped[int] = mapped_column(ForeignKey("sweep_runs.id"))


class SweepLock(Base):
    """The single row (``id = 1``) that says which process is sweeping, if any."""

    __tablename__ = "sweep_lock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holder: Mapped[str | None] = mapped_column(String(300), nullable=True)
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    acquired_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
