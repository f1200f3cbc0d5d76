"""Administration: agencies, users and API tokens (admins; they do not see records)."""

from __future__ import annotations

from fastapi import APIRouter

from kinlink.api.deps import Admin, AuditDep, IdPath, SessionDep, SettingsDep
from kinlink.api.errors import ERROR_RESPONSES, ApiError, FieldError
from kinlink.api.schemas import AgencyIn, AgencyOut, TokenCreated, TokenIn, UserIn, UserOut
from kinlink.api.sharing import shared_fields
from kinlink.ingest import RECORD_COLUMNS
from kinlink.store.accounts import (
    AccountError,
    create_agency,
    create_token,
    create_user,
    get_user,
    list_agencies,
    list_users,
    revoke_token,
)

router = APIRouter(prefix="/api/v1/admin", tags=["admin"], responses=ERROR_RESPONSES)


def _bad(err: AccountError, field: str) -> ApiError:
    return ApiError(422, "invalid_request", str(err), [FieldError(field=field, message=str(err))])


@router.get("/agencies", response_model=list[AgencyOut])
def agencies(principal: Admin, session: SessionDep) -> list[AgencyOut]:
    return [
        AgencyOut(code=a.code, name=a.name, shared_fields=list(shared_fields(a.shared_fields)))
        for a in list_agencies(session)
    ]


@router.post("/agencies", response_model=AgencyOut, status_code=201)
def add_agency(body: AgencyIn, principal: Admin, session: SessionDep, audit: AuditDep) -> AgencyOut:
    """Create an agency; ``shared_fields`` sets what other agencies see on candidates."""
    unknown = [f for f in body.shared_fields or [] if f not in RECORD_COLUMNS]
    if unknown:
        raise ApiError(
            422,
            "invalid_request",
            "unknown field(s) in shared_fields",
            [FieldError(field="shared_fields", message=", ".join(unknown))],
        )
    try:
        agency = create_agency(session, body.code, body.name, body.shared_fields)
    except AccountError as err:
        raise _bad(err, "code") from None
    session.commit()
    audit("admin.agency.create", code=body.code)
    return AgencyOut(
        code=agency.code, name=agency.name, shared_fields=list(shared_fields(agency.shared_fields))
    )


@router.get("/users", response_model=list[UserOut])
def users(principal: Admin, session: SessionDep) -> list[UserOut]:
    return [
        UserOut(
            username=u.username,
            full_name=u.full_name,
            role=u.role,
            agency=u.agency,
            active=u.active,
        )  # type: ignore[arg-type]
        for u in list_users(session)
    ]


@router.post("/users", response_model=UserOut, status_code=201)
def add_user(body: UserIn, principal: Admin, session: SessionDep, audit: AuditDep) -> UserOut:
    try:
        user = create_user(
            session, body.username, body.password, body.role, body.agency, body.full_name
        )
    except AccountError as err:
        raise _bad(err, "username" if "exists" in str(err) else "agency") from None
    session.commit()
    audit("admin.user.create", username=user.username, role=user.role, user_agency=user.agency)
    return UserOut(
        username=user.username,
        full_name=user.full_name,
        role=user.role,
        agency=user.agency,
        active=user.active,
    )  # type: ignore[arg-type]


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def add_token(
    body: TokenIn, principal: Admin, session: SessionDep, settings: SettingsDep, audit: AuditDep
) -> TokenCreated:
    """An API token for a machine client acting as ``username``; shown once."""
    user = get_user(session, body.username)
    if user is None:
        raise ApiError(
            422,
            "invalid_request",
            "no such user",
            [FieldError(field="username", message="unknown")],
        )
    row, secret = create_token(session, user, body.name, min(body.days, settings.token_days * 40))
    session.commit()
    audit("admin.token.create", username=user.username, token_id=row.id)
    return TokenCreated(id=row.id, token=secret, expires_at=row.expires_at)


@router.delete("/tokens/{token_id}", status_code=204)
def delete_token(token_id: IdPath, principal: Admin, session: SessionDep, audit: AuditDep) -> None:
    if not revoke_token(session, token_id):
        raise ApiError(404, "not_found", "no such active token")
    session.commit()
    audit("admin.token.revoke", token_id=token_id)
