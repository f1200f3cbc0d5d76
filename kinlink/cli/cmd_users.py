"""``kinlink users``: agencies, users and API tokens of the review service.

The first admin has to come from somewhere that needs no login: this command,
run by whoever runs the server. Passwords are read from a prompt (or the
``KINLINK_NEW_PASSWORD`` environment variable for scripts), never from argv,
where other users of the machine could read them.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from kinlink.cli import app, exitcodes
from kinlink.cli._common import fail, open_store
from kinlink.store import audit
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

users_app = typer.Typer(help="Create agencies, users and API tokens for `kinlink serve`.")
app.add_typer(users_app, name="users")


def _actor() -> str:
    return f"cli:{os.environ.get('USER', 'unknown')}"


@users_app.command("add-agency")
def add_agency(
    code: Annotated[str, typer.Argument(help="Agency code, as in the records' agency column.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
) -> None:
    """Create an agency."""
    store = open_store()
    try:
        with store.session() as session:
            create_agency(session, code, name or code)
    except AccountError as err:
        raise fail(str(err), exitcodes.USAGE) from None
    audit.record(
        store, audit.Event(actor=_actor(), action="admin.agency.create", detail={"code": code})
    )
    typer.echo(f"agency {code} created")


@users_app.command("add")
def add_user(
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option(help="caseworker, supervisor or admin.")] = "caseworker",
    agency: Annotated[str | None, typer.Option(help="Agency code (not needed for admin).")] = None,
    full_name: Annotated[str, typer.Option(help="Name shown in the audit log and UI.")] = "",
) -> None:
    """Create a user; the password is prompted for (or read from KINLINK_NEW_PASSWORD)."""
    password = os.environ.get("KINLINK_NEW_PASSWORD") or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    store = open_store()
    try:
        with store.session() as session:
            create_user(session, username, password, role, agency, full_name)
    except AccountError as err:
        raise fail(str(err), exitcodes.USAGE) from None
    audit.record(
        store,
        audit.Event(
            actor=_actor(),
            action="admin.user.create",
            agency=agency,
            detail={"username": username, "role": role},
        ),
    )
    typer.echo(f"user {username} ({role}{', ' + agency if agency else ''}) created")


@users_app.command("token")
def token(
    username: Annotated[str, typer.Argument(help="User the machine client acts as.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "machine client",
    days: Annotated[int, typer.Option(min=1, max=3650, help="Lifetime in days.")] = 90,
) -> None:
    """Create an API token; it is printed once and cannot be shown again."""
    store = open_store()
    with store.session() as session:
        user = get_user(session, username)
        if user is None:
            raise fail(f"no user {username!r}", exitcodes.NOT_FOUND)
        row, secret = create_token(session, user, name, days)
        token_id, agency = row.id, user.agency
    audit.record(
        store,
        audit.Event(
            actor=_actor(),
            action="admin.token.create",
            agency=agency,
            detail={"username": username, "token_id": token_id, "days": days},
        ),
    )
    typer.echo(secret)


@users_app.command("revoke-token")
def revoke(token_id: Annotated[int, typer.Argument(help="Token id (see the audit log).")]) -> None:
    """Revoke an API token at once."""
    store = open_store()
    with store.session() as session:
        if not revoke_token(session, token_id):
            raise fail(f"no active token {token_id}", exitcodes.NOT_FOUND)
    audit.record(
        store,
        audit.Event(actor=_actor(), action="admin.token.revoke", detail={"token_id": token_id}),
    )
    typer.echo(f"token {token_id} revoked")


@users_app.command("list")
def list_() -> None:
    """Agencies and users."""
    store = open_store()
    with store.session() as session:
        for agency in list_agencies(session):
            typer.echo(f"agency\t{agency.code}\t{agency.name}")
        for user in list_users(session):
            state = "active" if user.active else "disabled"
            typer.echo(f"user\t{user.username}\t{user.role}\t{user.agency or '-'}\t{state}")
