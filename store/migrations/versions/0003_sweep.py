"""Nightly duplicate sweep: runs (status, watermark, report), stable clusters, the lock.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_ts = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sweep_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_at", _ts, nullable=False),
        sa.Column("finished_at", _ts, nullable=True),
        sa.Column("since", _ts, nullable=True),
        sa.Column("watermark", _ts, nullable=True),
        sa.Column("holder", sa.String(300), nullable=False),
        sa.Column("model_fingerprint", sa.String(100), nullable=True),
        sa.Column("model_version", sa.String(50), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("report", _json, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_sweep_runs_status", "sweep_runs", ["status", "id"])
    op.create_table(
        "sweep_clusters",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_run_id", sa.Integer(), sa.ForeignKey("sweep_runs.id"), nullable=False),
        sa.Column("updated_run_id", sa.Integer(), sa.ForeignKey("sweep_runs.id"), nullable=False),
        sa.Column("retired_run_id", sa.Integer(), sa.ForeignKey("sweep_runs.id"), nullable=True),
        sa.Column("merged_into", sa.Integer(), nullable=True),
    )
    op.create_table(
        "sweep_cluster_members",
        sa.Column("record_pk", sa.Integer(), sa.ForeignKey("records.id"), primary_key=True),
        sa.Column("cluster_id", sa.Integer(), sa.ForeignKey("sweep_clusters.id"), nullable=False),
        sa.Column("added_run_id", sa.Integer(), sa.ForeignKey("sweep_runs.id"), nullable=False),
    )
    op.create_index("ix_sweep_cluster_members_cluster_id", "sweep_cluster_members", ["cluster_id"])
    lock = op.create_table(
        "sweep_lock",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("holder", sa.String(300), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("acquired_at", _ts, nullable=True),
        sa.Column("heartbeat_at", _ts, nullable=True),
    )
    # The one lock row exists from the start, so taking the lock is always an UPDATE
    # (a compare-and-set), never a race between two INSERTs.
    op.bulk_insert(lock, [{"id": 1, "holder": None}])


def downgrade() -> None:
    for table in ("sweep_lock", "sweep_cluster_members", "sweep_clusters", "sweep_runs"):
        op.drop_table(table)
