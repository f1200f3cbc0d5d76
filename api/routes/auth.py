"""Logging in and out (sessions for people; API tokens are issued by admins)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from kinlink.api.deps import (
    SESSION_COOKIE,
    AnonymousAuditDep,
    AuditDep,
    Auditor,
    CurrentUser,
    SessionDep,
    SettingsDep,
    client_ip,
)
from kinlink.api.errors import ERROR_RESPONSES, ApiError
from kinlink.api.schemas import LoginIn, MeOut, SessionOut
from kinlink.config import Settings
from kinlink.store.accounts import LoginLimits, TooManyAttempts, authenticate, start_session
from kinlink.store.schema import utcnow

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], responses=ERROR_RESPONSES)


def limits(settings: Settings) -> LoginLimits:
    return LoginLimits(
        settings.login_max_failures,
        settings.login_max_failures_per_ip,
        settings.login_window_minutes,
    )


def login_user(
    session: Session,
    settings: Settings,
    username: str,
    password: str,
    ip: str | None,
    audit: Auditor,
) -> SessionOut:
    """Check the password (rate-limited), start a session, audit either outcome."""
    try:
        user = authenticate(session, username, password, ip, limits(settings))
    except TooManyAttempts as err:
        audit("login.throttled", actor=username[:200])
        raise ApiError(
            429, "too_many_attempts", str(err), headers={"Retry-After": str(err.retry_after)}
        ) from None
    if user is None:
        session.commit()  # keep the failed attempt: it counts towards the limit
        audit("login.failed", actor=username[:200])
        raise ApiError(401, "bad_credentials", "wrong username or password")
    new = start_session(session, user, settings.session_minutes, ip)
    session.commit()
    audit("login", actor=user.username)
    return SessionOut(access_token=new.token, expires_at=new.expires_at, csrf_token=new.csrf_token)


def set_session_cookie(response: Response, new: SessionOut, settings: Settings) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        new.access_token,
        max_age=settings.session_minutes * 60,
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
        path="/",
    )


@router.post("/login", response_model=SessionOut, responses={429: ERROR_RESPONSES[401]})
def login(
    body: LoginIn,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    audit: AnonymousAuditDep,
) -> SessionOut:
    """Start a session: the token works as a bearer token and is also set as a cookie."""
    new = login_user(session, settings, body.username, body.password, client_ip(request), audit)
    set_session_cookie(response, new, settings)
    return new


@router.post("/logout", status_code=204)
def logout(
    principal: CurrentUser, session: SessionDep, audit: AuditDep, response: Response
) -> None:
    """End the current session (API tokens are revoked by an admin instead)."""
    if principal.login is not None:
        principal.login.ended_at = utcnow()
        session.commit()
    response.delete_cookie(SESSION_COOKIE, path="/")
    audit("logout")


@router.get("/me", response_model=MeOut)
def me(principal: CurrentUser) -> MeOut:
    user = principal.user
    return MeOut(
        username=user.username,
        full_name=user.full_name,
        role=user.role,  # type: ignore[arg-type]
        agency=user.agency,
        via=principal.via,
    )
