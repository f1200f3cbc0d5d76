"""Dependencies every route declares: the session, who is asking, what they may see.

Authorisation lives here and only here. A route that declares ``Reviewer``
gets a caseworker or supervisor; one that declares ``OwnRecord`` gets a
record of the reviewer's own agency or a 404; ``VisibleCandidate`` gets a
pair with one side in the reviewer's agency and consent to share across
agencies, or a 404 (never 403: that would confirm another agency holds such a
child). ``AuditDep`` writes the audit entry with who/when/where filled in.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Path, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from kinlink.api.errors import ApiError, not_found
from kinlink.api.matching import RealtimeMatcher
from kinlink.config import Settings
from kinlink.store import Store, audit
from kinlink.store.accounts import session_user, token_user
from kinlink.store.decisions import shareable
from kinlink.store.review_schema import Agency, CandidatePair, LoginSession, User
from kinlink.store.schema import StoredRecord

SESSION_COOKIE = "kinlink_session"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_matcher(request: Request) -> RealtimeMatcher:
    return request.app.state.matcher


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
MatcherDep = Annotated[RealtimeMatcher, Depends(get_matcher)]


def get_db(store: StoreDep) -> Iterator[Session]:
    """One transaction per request, committed before the response is sent."""
    with store.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db, scope="function")]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@dataclass
class Principal:
    """The authenticated caller: a user, how they authenticated, and from where."""

    user: User
    via: Literal["session", "token"]
    ip: str | None
    login: LoginSession | None = None

    @property
    def agency(self) -> str:
        return self.user.agency or ""

    @property
    def role(self) -> str:
        return self.user.role


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


@dataclass
class _Authenticated:
    principal: Principal
    cookie: bool


def _authenticate(request: Request, session: SessionDep) -> _Authenticated:
    """Bearer API token or session token, else the session cookie (sync: it queries)."""
    ip = client_ip(request)
    bearer = _bearer(request)
    if bearer is not None:
        if bearer.startswith("klt_"):
            user = token_user(session, bearer)
            if user is not None:
                return _Authenticated(Principal(user, "token", ip), cookie=False)
        else:
            found = session_user(session, bearer)
            if found is not None:
                return _Authenticated(Principal(found[0], "session", ip, found[1]), cookie=False)
        raise ApiError(401, "unauthenticated", "the token is unknown, revoked or expired")
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        found = session_user(session, cookie)
        if found is not None:
            return _Authenticated(Principal(found[0], "session", ip, found[1]), cookie=True)
    raise ApiError(
        401,
        "unauthenticated",
        "log in first (POST /api/v1/auth/login) or send an API token",
        headers={"WWW-Authenticate": "Bearer"},
    )


async def get_principal(
    request: Request, auth: Annotated[_Authenticated, Depends(_authenticate)]
) -> Principal:
    """The caller; a cookie-authenticated state change must also carry the CSRF token."""
    if auth.cookie and request.method not in _SAFE_METHODS:
        assert auth.principal.login is not None
        await _check_csrf(request, auth.principal.login)
    return auth.principal


async def _check_csrf(request: Request, login: LoginSession) -> None:
    # A cookie is sent by the browser whatever page triggers the request, so a
    # state-changing request must also prove it came from a kinlink page.
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, login.csrf_token):
        raise ApiError(403, "csrf_failed", "missing or wrong CSRF token; reload the page")


CurrentUser = Annotated[Principal, Depends(get_principal)]


def _require(*roles: str):  # noqa: ANN202 - returns a FastAPI dependency
    async def check(principal: CurrentUser) -> Principal:
        if principal.role not in roles:
            raise ApiError(403, "forbidden", f"this needs the role {' or '.join(roles)}")
        return principal

    return check


#: Caseworkers and supervisors: the people who see children's records. Admins
#: manage accounts and do not see records (least privilege).
Reviewer = Annotated[Principal, Depends(_require("caseworker", "supervisor"))]
Supervisor = Annotated[Principal, Depends(_require("supervisor"))]
Admin = Annotated[Principal, Depends(_require("admin"))]
#: Anyone with an account: for what holds no child's record (sweep run counts).
AnyRole = Annotated[Principal, Depends(_require("caseworker", "supervisor", "admin"))]


class Auditor:
    """Writes audit entries for the current caller (who, from where) in their own transaction."""

    def __init__(self, store: Store, principal: Principal | None, ip: str | None) -> None:
        self.store = store
        self.principal = principal
        self.ip = ip

    def __call__(
        self,
        action: str,
        records: list[StoredRecord] | list[str] | None = None,
        actor: str | None = None,
        **detail: object,
    ) -> None:
        ids = [r if isinstance(r, str) else f"{r.agency}/{r.record_id}" for r in records or []]
        who = actor or (self.principal.user.username if self.principal else "anonymous")
        audit.record(
            self.store,
            audit.Event(
                actor=who,
                action=action,
                record_ids=ids,
                agency=self.principal.agency if self.principal else None,
                client_ip=self.ip,
                detail={"via": self.principal.via, **detail} if self.principal else dict(detail),
            ),
        )


def get_auditor(request: Request, store: StoreDep, principal: CurrentUser) -> Auditor:
    return Auditor(store, principal, client_ip(request))


def get_anonymous_auditor(request: Request, store: StoreDep) -> Auditor:
    return Auditor(store, None, client_ip(request))


AuditDep = Annotated[Auditor, Depends(get_auditor)]
AnonymousAuditDep = Annotated[Auditor, Depends(get_anonymous_auditor)]


def own_record(
    record_id: Annotated[str, Path(max_length=200)], principal: Reviewer, session: SessionDep
) -> StoredRecord:
    """A record of the reviewer's own agency, by its record_id; 404 otherwise."""
    record = session.scalar(
        select(StoredRecord).where(
            StoredRecord.agency == principal.agency, StoredRecord.record_id == record_id
        )
    )
    if record is None:
        raise not_found("record")
    return record


OwnRecord = Annotated[StoredRecord, Depends(own_record)]


@dataclass
class PairView:
    """A candidate pair from the viewer's side: ``this`` is theirs, ``other`` may not be."""

    candidate: CandidatePair
    this: StoredRecord
    other: StoredRecord


def pair_view(
    candidate: CandidatePair, principal: Principal, session: Session, this_pk: int | None = None
) -> PairView | None:
    """The pair as the reviewer may see it, or ``None`` when they may not see it at all."""
    lo = session.get(StoredRecord, candidate.pair_lo)
    hi = session.get(StoredRecord, candidate.pair_hi)
    if lo is None or hi is None:
        return None
    if this_pk is not None:
        this, other = (lo, hi) if lo.id == this_pk else (hi, lo)
    else:
        this, other = (lo, hi) if lo.agency == principal.agency else (hi, lo)
    if this.agency != principal.agency:
        return None
    # Consent is checked on every read, not only when the pair was stored: a
    # record's consent can be withdrawn after the engine proposed it.
    if not shareable(this, other):
        return None
    return PairView(candidate, this, other)


#: Database ids are 32-bit on every backend; larger path ids are a 422, not a 500.
IdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]


def visible_candidate(candidate_id: IdPath, principal: Reviewer, session: SessionDep) -> PairView:
    candidate = session.get(CandidatePair, candidate_id)
    view = pair_view(candidate, principal, session) if candidate is not None else None
    if view is None:
        raise not_found("candidate")
    return view


VisibleCandidate = Annotated[PairView, Depends(visible_candidate)]


def agency_sharing(session: Session) -> dict[str, list[str] | None]:
    """Each agency's configured shared fields (``None``: the default list)."""
    return dict(session.execute(select(Agency.code, Agency.shared_fields)).all())
