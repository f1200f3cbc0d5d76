"""Tables of the review service: who may look, what the engine proposed, what people decided.

They live on the store's ``Base`` so one Alembic history covers everything
(migration ``0002``). Three rules shape them:

* secrets are never stored, only their hashes (argon2 for passwords, SHA-256
  for random session and API tokens, which are long enough not to need salt);
* a decision is never edited: a revision is a new row with the next version,
  so who decided what, when, on which version of each record, is kept forever;
* the audit log is append-only (database triggers refuse UPDATE and DELETE)
  and hash-chained, so an edit made behind the triggers' back is detectable.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kinlink.store.schema import Base, JsonType, utcnow

ROLES = ("caseworker", "supervisor", "admin")
OUTCOMES = ("match", "not_match", "unsure")
CANDIDATE_KINDS = ("link", "duplicate")


class Agency(Base):
    """An organisation whose records kinlink holds; ``code`` is ``records.agency``."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    #: Fields of this agency's records that other agencies' reviewers may see
    #: on a candidate; ``None`` means the service default (see api/sharing.py).
    shared_fields: Mapped[list[str] | None] = mapped_column(JsonType, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class User(Base):
    """A person (or the owner of a machine client's tokens) with one role in one agency."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(200), unique=True)
    full_name: Mapped[str] = mapped_column(String(500), default="")
    password_hash: Mapped[str | None] = mapped_column(String(500), nullable=True)
    role: Mapped[str] = mapped_column(String(20))
    agency: Mapped[str | None] = mapped_column(ForeignKey("agencies.code"), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiToken(Base):
    """A bearer token for a machine client; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LoginSession(Base):
    """A logged-in browser (or API login); expires, and ends at logout."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    client_ip: Mapped[str | None] = mapped_column(String(100), nullable=True)


class LoginAttempt(Base):
    """One login attempt; failures in a recent window throttle further attempts."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_ip_at", "client_ip", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(200))
    client_ip: Mapped[str | None] = mapped_column(String(100), nullable=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    success: Mapped[bool] = mapped_column(Boolean)


class CandidatePair(Base):
    """A pair of stored records the engine proposed, with its score and explanation.

    ``left_pk`` is the record that was matched (the query), ``right_pk`` the stored
    record found; ``pair_lo``/``pair_hi`` are the same two ids ordered, so a pair is
    stored once whichever side was matched first.
    """

    __tablename__ = "candidates"
    __table_args__ = (
        UniqueConstraint("pair_lo", "pair_hi", name="uq_candidates_pair"),
        Index("ix_candidates_left", "left_pk"),
        Index("ix_candidates_right", "right_pk"),
        Index("ix_candidates_kind_prob", "kind", "match_probability"),
        Index("ix_candidates_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    left_pk: Mapped[int] = mapped_column(ForeignKey("records.id"))
    right_pk: Mapped[int] = mapped_column(ForeignKey("records.id"))
    pair_lo: Mapped[int] = mapped_column(Integer)
    pair_hi: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    match_probability: Mapped[float] = mapped_column(Float)
    match_weight: Mapped[float] = mapped_column(Float)
    explanation: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    #: "realtime" (on create/update) or "sweep" (the nightly batch).
    source: Mapped[str] = mapped_column(String(20))
    #: Denormalised from the latest decision, for the queues: "pending" (never
    #: decided, or a not_match whose records changed materially since), "match",
    #: "not_match", "unsure".
    status: Mapped[str] = mapped_column(String(20), default="pending")
    #: False when the pair crosses agencies and either record refuses tracing;
    #: such a pair is never shown (access checks recompute it on every read too).
    shareable: Mapped[bool] = mapped_column(Boolean, default=True)
    model_fingerprint: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    scored_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ExplanationLayout(Base):
    """A model's labels, level weights and compared columns, for levels-form explanations.

    A sweep stores each pair's explanation as its levels only and this once per model
    (``kinlink.matching.explain.ExplanationLayout``; ``key`` is a hash of ``layout``).
    """

    __tablename__ = "explanation_layouts"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    layout: Mapped[dict[str, Any]] = mapped_column(JsonType)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Decision(Base):
    """One version of a reviewer's decision on a pair; revisions add rows, never edit them."""

    __tablename__ = "decisions"
    __table_args__ = (
        UniqueConstraint("pair_lo", "pair_hi", "version", name="uq_decisions_version"),
        Index("ix_decisions_pair", "pair_lo", "pair_hi"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pair_lo: Mapped[int] = mapped_column(ForeignKey("records.id"))
    pair_hi: Mapped[int] = mapped_column(ForeignKey("records.id"))
    version: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    agency: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: What the two records looked like when decided: their version and the hash of
    #: the fields the engine compares (a "material" change is a change of that hash).
    lo_version: Mapped[int] = mapped_column(Integer)
    hi_version: Mapped[int] = mapped_column(Integer)
    lo_material: Mapped[str] = mapped_column(String(64))
    hi_material: Mapped[str] = mapped_column(String(64))
    match_probability: Mapped[float | None] = mapped_column(Float, nullable=True)


class AuditEntry(Base):
    """One audited event. Append-only; ``entry_hash`` chains it to the previous entry."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: 1, 2, 3, ... with no gaps: a unique sequence makes a forked chain impossible.
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    agency: Mapped[str | None] = mapped_column(String(200), nullable=True)
    action: Mapped[str] = mapped_column(String(100), index=True)
    record_ids: Mapped[list[str]] = mapped_column(JsonType)
    client_ip: Mapped[str | None] = mapped_column(String(100), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JsonType)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class Notification(Base):
    """Something an agency's reviewers should look at (a confirmed match on their record)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_agency_created", "agency", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(50))
    record_pk: Mapped[int | None] = mapped_column(ForeignKey("records.id"), nullable=True)
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("candidates.id"), nullable=True)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
