"""``kinlink audit``: check the audit log's hash chain, and read it.

``verify`` exits 0 when every entry's hash matches its content and its
predecessor, and 7 (``AUDIT_BROKEN``) naming each entry where the chain
breaks otherwise. It prints the head hash: writing that down elsewhere (a
ticket, an email) lets a later check prove that nothing was cut from the end.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from kinlink.cli import app, exitcodes
from kinlink.cli._common import fail, open_store
from kinlink.store import audit

audit_app = typer.Typer(help="Verify and read the review service's audit log.")
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def verify() -> None:
    """Recompute the hash chain; exit 7 if any entry was altered, removed or reordered."""
    store = open_store()
    with store.session() as session:
        result = audit.verify(session)
    if not result.ok:
        for problem in result.problems:
            typer.echo(f"BROKEN {problem}", err=True)
        raise fail(
            f"audit log chain is broken ({len(result.problems)} problem(s) in "
            f"{result.entries} entries)",
            exitcodes.AUDIT_BROKEN,
        )
    typer.echo(f"audit log OK: {result.entries} entries, head {result.head_hash}")


@audit_app.command("show")
def show(
    record_id: Annotated[str | None, typer.Option(help="Only entries naming this record.")] = None,
    actor: Annotated[str | None, typer.Option(help="Only entries by this user.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
) -> None:
    """Most recent entries first, one JSON object per line."""
    store = open_store()
    with store.session() as session:
        rows = audit.entries(session, record_id=record_id, actor=actor, limit=limit)
        if not rows and record_id:
            raise fail(f"no audit entries for {record_id!r}", exitcodes.NOT_FOUND)
        for row in rows:
            typer.echo(
                json.dumps(
                    {
                        "seq": row.seq,
                        "at": row.at.isoformat(),
                        "actor": row.actor,
                        "agency": row.agency,
                        "action": row.action,
                        "record_ids": row.record_ids,
                        "client_ip": row.client_ip,
                        "detail": row.detail,
                    },
                    ensure_ascii=False,
                )
            )
