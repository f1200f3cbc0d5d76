"""The API's request and response models (its OpenAPI contract).

Records travel as record format v1 (:class:`kinlink.ingest.RecordV1`), the
one definition of a valid record; everything else is defined here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")

Outcome = Literal["match", "not_match", "unsure"]
Role = Literal["caseworker", "supervisor", "admin"]


class Page(BaseModel, Generic[T]):
    """One page of a list; ask for the next with ``offset + limit``."""

    items: list[T]
    total: int
    limit: int
    offset: int


class MatchRef(BaseModel):
    """A confirmed match, as shown on a record."""

    candidate_id: int
    agency: str
    record_id: str
    record_type: str
    decided_at: dt.datetime


class RecordOut(BaseModel):
    agency: str
    record_id: str
    record_type: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    data: dict[str, Any] = Field(description="The record in format v1 (present values only).")
    confirmed_matches: list[MatchRef] = []


class RecordWritten(RecordOut):
    created: bool
    matching: str = Field(
        description="'matched' when candidates were computed at once; 'pending' when the "
        "match index is still being built (candidates follow within minutes)."
    )
    candidates: int = 0


class RowProblem(BaseModel):
    line: int
    column: str | None
    reason: str
    value: str | None = None


class UploadResult(BaseModel):
    rows_seen: int
    inserted: int
    updated: int
    unchanged: int
    rejected_rows: int
    errors: list[RowProblem]
    stored: bool = Field(description="False when on_error=abort and some row was invalid.")
    matched: int = 0


class SharedRecord(BaseModel):
    """The other record of a pair, with only the fields its agency shares with the viewer."""

    agency: str
    record_id: str
    record_type: str
    data: dict[str, Any]
    own: bool = Field(description="True when the viewer's agency holds this record.")


class ContributionOut(BaseModel):
    comparison: str
    level: str
    agreement: Literal["exact", "close", "phonetic", "different", "missing"]
    match_weight: float
    tf_adjustment: float
    total: float
    values_this: dict[str, Any]
    values_other: dict[str, Any]


class DecisionOut(BaseModel):
    version: int
    outcome: Outcome
    note: str
    decided_by: str
    agency: str | None
    decided_at: dt.datetime
    versions: dict[str, int] = Field(description="Version of each record when decided.")


class CandidateOut(BaseModel):
    id: int
    kind: Literal["link", "duplicate"]
    rank: int
    match_probability: float
    match_weight: float
    band: str
    band_label: str
    status: Literal["pending", "match", "not_match", "unsure"]
    previously_rejected: bool = Field(
        description="A not_match was recorded, but a record changed materially since."
    )
    this: SharedRecord
    other: SharedRecord
    explanation: list[ContributionOut]
    decision: DecisionOut | None = None
    source: str
    scored_at: dt.datetime


class CandidateDetail(CandidateOut):
    history: list[DecisionOut]


class DecisionIn(BaseModel):
    outcome: Outcome
    note: str = Field("", max_length=4000)
    expected_version: int | None = Field(
        None,
        ge=0,
        description="The decision version the reviewer saw (0: none). A mismatch gives 409 "
        "instead of silently overwriting someone else's revision.",
    )


class DecisionListItem(DecisionOut):
    candidate_id: int | None
    records: list[str]


class QueueItem(BaseModel):
    record_id: str
    record_type: str
    name: str | None
    best_probability: float
    band: str
    band_label: str
    pending: int


class DuplicatePair(BaseModel):
    candidate_id: int
    match_probability: float
    band: str
    band_label: str
    status: str
    records: list[SharedRecord]
    cluster: str | None = Field(
        None, description="Records in the same cluster are one child registered several times."
    )
    cluster_source: Literal["sweep", "pairs"] | None = Field(
        None,
        description="'sweep': the nightly sweep's stable cluster id (the same id from one "
        "night to the next); 'pairs': no sweep has run yet, grouped from the pairs now.",
    )


class BandOut(BaseModel):
    code: str
    label: str
    min_probability: float


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


class SessionOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: dt.datetime
    csrf_token: str


class MeOut(BaseModel):
    username: str
    full_name: str
    role: Role
    agency: str | None
    via: Literal["session", "token"]


class AgencyIn(BaseModel):
    code: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field("", max_length=500)
    shared_fields: list[str] | None = None


class AgencyOut(BaseModel):
    code: str
    name: str
    shared_fields: list[str]


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=10, max_length=1000)
    role: Role
    agency: str | None = None
    full_name: str = Field("", max_length=500)


class UserOut(BaseModel):
    username: str
    full_name: str
    role: Role
    agency: str | None
    active: bool


class TokenIn(BaseModel):
    username: str = Field(min_length=1, max_length=200)
    name: str = Field("machine client", max_length=200)
    days: int = Field(90, ge=1, le=3650)


class TokenCreated(BaseModel):
    id: int
    token: str = Field(description="Shown once; only its hash is stored.")
    expires_at: dt.datetime


class NotificationOut(BaseModel):
    id: int
    kind: str = Field(
        description="'new_candidates' (the sweep or real-time matching found likely matches "
        "for one of your records) or 'match_confirmed' (another agency confirmed a match)."
    )
    message: str
    created_at: dt.datetime
    record_id: str | None = Field(
        description="Your agency's record it is about (never another agency's)."
    )
    read_at: dt.datetime | None = None


class NotificationsRead(BaseModel):
    """Which notifications to mark read: the listed ids, or every unread one when omitted."""

    ids: list[int] | None = Field(None, max_length=1000)


class NotificationsMarked(BaseModel):
    marked: list[int]
    unread: int


class UnreadCount(BaseModel):
    unread: int


class AgencySweepCounts(BaseModel):
    """One agency's part of a sweep: counts only, never records."""

    new_cases: int = 0
    new_tracing_requests: int = 0
    new_pending_pairs: int = Field(0, description="New pairs to review touching its records.")
    records_in_clusters: int = 0


class SweepTotals(BaseModel):
    """The whole run's counts (supervisors and admins)."""

    stored_records: int = 0
    new_records: int = 0
    new_cases: int = 0
    new_tracing_requests: int = 0
    pairs_compared: int = 0
    pairs_kept: int = 0
    new_pending_pairs: int = 0
    new_pending_links: int = 0
    new_pending_duplicates: int = 0
    kept_not_match: int = Field(0, description="Rejected pairs found again and not raised.")
    kept_match: int = Field(0, description="Confirmed pairs found again and not raised.")
    reopened: int = Field(0, description="Rejected pairs raised again by a material change.")
    clusters: int = 0
    records_in_clusters: int = 0
    clusters_created: int = 0
    clusters_changed: int = 0
    clusters_retired: int = 0
    notifications: int = 0


class SweepRunOut(BaseModel):
    """One nightly sweep as a reviewer may see it.

    Caseworkers get their own agency's counts only (``totals`` and ``report`` are
    null, ``agencies`` has one entry); supervisors and admins get every agency.
    """

    id: int
    mode: str
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    seconds: float | None
    model_version: str | None
    model_fingerprint: str | None
    threshold: float | None
    scope: str = Field(description="'all', or the agency code the counts are limited to.")
    agencies: dict[str, AgencySweepCounts]
    totals: SweepTotals | None = None


class SweepRunDetail(SweepRunOut):
    report: dict[str, Any] | None = Field(
        None, description="The stored report as the sweep wrote it (supervisors and admins)."
    )
    error: str | None = None


class Health(BaseModel):
    status: str
    matching: str
