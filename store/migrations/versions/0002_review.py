"""Review service: agencies, users, tokens, sessions, candidates, decisions, audit log.

The audit log is made append-only in the database itself (triggers on both
SQLite and PostgreSQL refuse UPDATE and DELETE), so that only someone who
drops the triggers can alter it, and the hash chain shows that they did.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_ts = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(200), nullable=False, unique=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("shared_fields", _json, nullable=True),
        sa.Column("created_at", _ts, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(200), nullable=False, unique=True),
        sa.Column("full_name", sa.String(500), nullable=False),
        sa.Column("password_hash", sa.String(500), nullable=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("agency", sa.String(200), sa.ForeignKey("agencies.code"), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _ts, nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("expires_at", _ts, nullable=False),
        sa.Column("revoked_at", _ts, nullable=True),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("expires_at", _ts, nullable=False),
        sa.Column("ended_at", _ts, nullable=True),
        sa.Column("client_ip", sa.String(100), nullable=True),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(200), nullable=False),
        sa.Column("client_ip", sa.String(100), nullable=True),
        sa.Column("at", _ts, nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_login_attempts_username_at", "login_attempts", ["username", "at"])
    op.create_index("ix_login_attempts_ip_at", "login_attempts", ["client_ip", "at"])
    op.create_table(
        "candidates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("left_pk", sa.Integer(), sa.ForeignKey("records.id"), nullable=False),
        sa.Column("right_pk", sa.Integer(), sa.ForeignKey("records.id"), nullable=False),
        sa.Column("pair_lo", sa.Integer(), nullable=False),
        sa.Column("pair_hi", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("match_probability", sa.Float(), nullable=False),
        sa.Column("match_weight", sa.Float(), nullable=False),
        sa.Column("explanation", _json, nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("shareable", sa.Boolean(), nullable=False),
        sa.Column("model_fingerprint", sa.String(100), nullable=True),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("scored_at", _ts, nullable=False),
        sa.UniqueConstraint("pair_lo", "pair_hi", name="uq_candidates_pair"),
    )
    op.create_index("ix_candidates_left", "candidates", ["left_pk"])
    op.create_index("ix_candidates_right", "candidates", ["right_pk"])
    op.create_index("ix_candidates_kind_prob", "candidates", ["kind", "match_probability"])
    op.create_index("ix_candidates_status", "candidates", ["status"])
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pair_lo", sa.Integer(), sa.ForeignKey("records.id"), nullable=False),
        sa.Column("pair_hi", sa.Integer(), sa.ForeignKey("records.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("agency", sa.String(200), nullable=True),
        sa.Column("decided_at", _ts, nullable=False),
        sa.Column("lo_version", sa.Integer(), nullable=False),
        sa.Column("hi_version", sa.Integer(), nullable=False),
        sa.Column("lo_material", sa.String(64), nullable=False),
        sa.Column("hi_material", sa.String(64), nullable=False),
        sa.Column("match_probability", sa.Float(), nullable=True),
        sa.UniqueConstraint("pair_lo", "pair_hi", "version", name="uq_decisions_version"),
    )
    op.create_index("ix_decisions_pair", "decisions", ["pair_lo", "pair_hi"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False, unique=True),
        sa.Column("at", _ts, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("agency", sa.String(200), nullable=True),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("record_ids", _json, nullable=False),
        sa.Column("client_ip", sa.String(100), nullable=True),
        sa.Column("detail", _json, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_log_action", "audit_log", ["action"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("record_pk", sa.Integer(), sa.ForeignKey("records.id"), nullable=True),
        sa.Column("candidate_id", sa.Integer(), sa.ForeignKey("candidates.id"), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("read_at", _ts, nullable=True),
    )
    op.create_index("ix_notifications_agency_created", "notifications", ["agency", "created_at"])
    _append_only_triggers()


def _append_only_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION kinlink_audit_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit_log is append-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION kinlink_audit_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS kinlink_audit_append_only()")
    for table in (
        "notifications",
        "audit_log",
        "decisions",
        "candidates",
        "login_attempts",
        "sessions",
        "api_tokens",
        "users",
        "agencies",
    ):
        op.drop_table(table)
