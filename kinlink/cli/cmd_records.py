"""``kinlink records``: what the store holds (counts, lists, one record and its history)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from kinlink.cli import app, exitcodes
from kinlink.cli._common import fail, open_store
from kinlink.store import Source, counts, find_records, history, list_records

records_app = typer.Typer(
    help="Counts by agency and type (no subcommand), list records, show one.",
    no_args_is_help=False,
)
app.add_typer(records_app, name="records")


@records_app.callback(invoke_without_command=True)
def summary(ctx: typer.Context) -> None:
    """Counts of stored records by agency and record type."""
    if ctx.invoked_subcommand is not None:
        return
    store = open_store()
    with store.session() as session:
        rows = counts(session)
    if not rows:
        typer.echo(f"no records stored yet (store: {store.display_url})")
        return
    width = max(len(r.agency or "(none)") for r in rows)
    typer.echo(f"{'agency':<{width}}  {'record_type':<16} {'count':>9}")
    for r in rows:
        typer.echo(f"{r.agency or '(none)':<{width}}  {r.record_type:<16} {r.count:>9}")
    typer.echo(f"{'total':<{width}}  {'':<16} {sum(r.count for r in rows):>9}")


@records_app.command("list")
def list_(
    agency: Annotated[str | None, typer.Option(help="Only this agency.")] = None,
    record_type: Annotated[
        str | None, typer.Option("--type", help="case or tracing_request.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List stored records, ordered by agency and record_id."""
    store = open_store()
    with store.session() as session:
        rows = list_records(
            session, agency=agency, record_type=record_type, limit=limit, offset=offset
        )
    for row in rows:
        if as_json:
            typer.echo(json.dumps(row.data, ensure_ascii=False))
        else:
            name = (
                row.data.get("name")
                or " ".join(
                    row.data.get(k, "") for k in ("name_first", "name_middle", "name_last")
                ).strip()
            )
            typer.echo(f"{row.agency or '(none)'}\t{row.record_id}\t{row.record_type}\t{name}")


@records_app.command("show")
def show(
    record_id: Annotated[str, typer.Argument(help="The record_id to show.")],
    agency: Annotated[str | None, typer.Option(help="Agency, when several used the id.")] = None,
    with_history: Annotated[
        bool, typer.Option("--history", help="Also print every earlier version.")
    ] = False,
) -> None:
    """Show one record as JSON (with its versions on --history)."""
    store = open_store()
    with store.session() as session:
        found = find_records(session, record_id, agency)
        if not found:
            raise fail(f"no record {record_id!r}", exitcodes.NOT_FOUND)
        if len(found) > 1:
            agencies = ", ".join(r.agency or "(none)" for r in found)
            raise fail(
                f"record_id {record_id!r} is used by several agencies ({agencies}); give --agency",
                exitcodes.USAGE,
            )
        row = found[0]
        source = session.get(Source, row.source_id) if row.source_id else None
        out = {
            "agency": row.agency,
            "record_id": row.record_id,
            "version": row.version,
            "updated_at": row.updated_at.isoformat(),
            "source": None
            if source is None
            else {
                "file_name": source.file_name,
                "file_sha256": source.file_sha256,
                "loaded_at": source.loaded_at.isoformat(),
                "agency": source.agency,
            },
            "data": row.data,
        }
        if with_history:
            out["history"] = [
                {"version": v.version, "stored_at": v.stored_at.isoformat(), "data": v.data}
                for v in history(session, row.id)
            ]
    typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
