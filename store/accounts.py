"""Accounts: agencies, users, passwords, sessions, API tokens, login throttling.

Passwords are hashed with argon2id (argon2-cffi's current defaults, re-hashed
on login when those defaults change). Session and API tokens are 256-bit
random strings shown once; only their SHA-256 is stored, so a copy of the
database does not let anyone log in. Every credential expires.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kinlink.store.review_schema import (
    ROLES,
    Agency,
    ApiToken,
    LoginAttempt,
    LoginSession,
    User,
)
from kinlink.store.schema import utcnow

_hasher = PasswordHasher()
#: Verified against when the username is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash("kinlink-no-such-user")
MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """A request about accounts that cannot be honoured (unknown agency, weak password...)."""


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite gives back naive datetimes; every time kinlink stores is UTC.
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# -- agencies ----------------------------------------------------------------------------
def create_agency(
    session: Session, code: str, name: str, shared_fields: list[str] | None = None
) -> Agency:
    code = code.strip()
    if not code:
        raise AccountError("agency code must not be empty")
    if session.scalar(select(Agency).where(Agency.code == code)) is not None:
        raise AccountError(f"agency {code!r} already exists")
    agency = Agency(code=code, name=name or code, shared_fields=shared_fields)
    session.add(agency)
    session.flush()
    return agency


def get_agency(session: Session, code: str) -> Agency | None:
    return session.scalar(select(Agency).where(Agency.code == code))


def list_agencies(session: Session) -> list[Agency]:
    return list(session.scalars(select(Agency).order_by(Agency.code)))


# -- users -------------------------------------------------------------------------------
def create_user(
    session: Session,
    username: str,
    password: str | None,
    role: str,
    agency: str | None,
    full_name: str = "",
) -> User:
    """A new user. Caseworkers and supervisors belong to an agency; admins may not."""
    username = username.strip()
    if not username:
        raise AccountError("username must not be empty")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if role != "admin" and not agency:
        raise AccountError(f"a {role} must belong to an agency")
    if agency and get_agency(session, agency) is None:
        raise AccountError(f"no agency {agency!r}; create it first")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise AccountError(f"user {username!r} already exists")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    user = User(
        username=username,
        full_name=full_name,
        password_hash=_hasher.hash(password) if password is not None else None,
        role=role,
        agency=agency or None,
        active=True,
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def list_users(session: Session, agency: str | None = None) -> list[User]:
    query = select(User).order_by(User.username)
    if agency is not None:
        query = query.where(User.agency == agency)
    return list(session.scalars(query))


def set_password(session: Session, user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    user.password_hash = _hasher.hash(password)
    session.flush()


# -- login -------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoginLimits:
    max_failures: int = 5
    max_failures_per_ip: int = 30
    window_minutes: int = 15


class TooManyAttempts(Exception):
    """Login refused without checking the password: too many recent failures."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many failed logins; try again in {retry_after} seconds")


def authenticate(
    session: Session,
    username: str,
    password: str,
    client_ip: str | None,
    limits: LoginLimits | None = None,
) -> User | None:
    """The user if the password is right; ``None`` if not; raises :class:`TooManyAttempts`.

    Counting failures in the database (not in memory) keeps the limit across
    restarts and across several server processes. The attempt is recorded
    either way; the caller commits.
    """
    limits = limits or LoginLimits()
    now = utcnow()
    since = now - dt.timedelta(minutes=limits.window_minutes)
    failures = session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.username == username, LoginAttempt.at >= since, ~LoginAttempt.success)
    )
    ip_failures = 0
    if client_ip:
        ip_failures = session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                LoginAttempt.client_ip == client_ip,
                LoginAttempt.at >= since,
                ~LoginAttempt.success,
            )
        )
    if (failures or 0) >= limits.max_failures or (ip_failures or 0) >= limits.max_failures_per_ip:
        raise TooManyAttempts(limits.window_minutes * 60)

    user = get_user(session, username)
    ok = False
    try:
        if user is not None and user.active and user.password_hash:
            ok = _hasher.verify(user.password_hash, password)
            if ok and _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _hasher.hash(password)
        else:
            _hasher.verify(_DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        ok = False
    session.add(LoginAttempt(username=username[:200], client_ip=client_ip, at=now, success=ok))
    session.flush()
    return user if ok else None


# -- sessions ----------------------------------------------------------------------------
@dataclass(frozen=True)
class NewSession:
    token: str
    csrf_token: str
    expires_at: dt.datetime


def start_session(
    session: Session, user: User, minutes: int, client_ip: str | None = None
) -> NewSession:
    token = "kls_" + secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    expires = utcnow() + dt.timedelta(minutes=minutes)
    session.add(
        LoginSession(
            user_id=user.id,
            token_hash=token_digest(token),
            csrf_token=csrf,
            expires_at=expires,
            client_ip=client_ip,
        )
    )
    session.flush()
    return NewSession(token, csrf, expires)


def session_user(session: Session, token: str) -> tuple[User, LoginSession] | None:
    """The active user of a live session token, or ``None`` (expired, ended, unknown)."""
    found = session.scalar(
        select(LoginSession).where(LoginSession.token_hash == token_digest(token))
    )
    if found is None or found.ended_at is not None or _aware(found.expires_at) <= utcnow():
        return None
    user = session.get(User, found.user_id)
    if user is None or not user.active:
        return None
    return user, found


def end_session(session: Session, token: str) -> None:
    found = session.scalar(
        select(LoginSession).where(LoginSession.token_hash == token_digest(token))
    )
    if found is not None and found.ended_at is None:
        found.ended_at = utcnow()
        session.flush()


# -- API tokens --------------------------------------------------------------------------
def create_token(session: Session, user: User, name: str, days: int) -> tuple[ApiToken, str]:
    """A new API token for ``user``; the secret is returned once and never stored."""
    if days < 1:
        raise AccountError("a token must live at least one day")
    secret = "klt_" + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=token_digest(secret),
        expires_at=utcnow() + dt.timedelta(days=days),
    )
    session.add(row)
    session.flush()
    return row, secret


def token_user(session: Session, secret: str) -> User | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(secret)))
    if row is None or row.revoked_at is not None or _aware(row.expires_at) <= utcnow():
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None


def revoke_token(session: Session, token_id: int) -> bool:
    row = session.get(ApiToken, token_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    session.flush()
    return True
