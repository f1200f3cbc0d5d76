"""``kinlink serve``: the review API and web pages, on the embedded store by default.

One command, no other server: uvicorn serves the FastAPI app in this process,
over the same store the other commands use (SQLite under ``KINLINK_HOME``, or
PostgreSQL via ``KINLINK_DATABASE_URL``). It listens on 127.0.0.1 unless told
otherwise: put it behind a TLS proxy (and set ``KINLINK_COOKIE_SECURE=true``)
before opening it to a network.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from kinlink.cli import app
from kinlink.cli._common import open_store


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    match_existing: Annotated[
        bool,
        typer.Option(
            help="After start-up, match every stored record that has no candidates yet "
            "(first start on data loaded with `kinlink ingest`)."
        ),
    ] = False,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    sweep_at: Annotated[
        str | None,
        typer.Option(
            envvar="KINLINK_SWEEP_AT",
            help="Also run `kinlink sweep` every day at this local time (HH:MM), as a "
            "child process (instead of cron or a systemd timer).",
        ),
    ] = None,
    sweep_every: Annotated[
        float | None,
        typer.Option(
            envvar="KINLINK_SWEEP_EVERY_MINUTES",
            min=1,
            help="Also run `kinlink sweep` every N minutes (counted from each start).",
        ),
    ] = None,
) -> None:
    """Start the review service: JSON API at /api/v1 (docs at /docs), pages at /."""
    import uvicorn

    from kinlink.api import RealtimeMatcher, create_app
    from kinlink.config import get_settings
    from kinlink.matching.sweep.schedule import Schedule, SweepScheduler

    scheduler = None
    if sweep_at is not None or sweep_every is not None:
        if sweep_at is not None and sweep_every is not None:
            raise typer.BadParameter("give --sweep-at or --sweep-every, not both")
        try:
            scheduler = SweepScheduler(Schedule.parse(sweep_at, sweep_every))
        except ValueError as err:
            raise typer.BadParameter(str(err)) from err
    settings = get_settings()
    store = open_store()
    matcher = RealtimeMatcher(store, settings)
    application = create_app(settings, store, matcher, start_matcher=False)
    matcher.start(match_existing=match_existing)
    typer.echo(f"kinlink review service on http://{host}:{port}/ (store: {store.display_url})")
    if scheduler is not None:
        # the sweeps' reports and failures in the server's output (uvicorn configures
        # only its own loggers)
        log = logging.getLogger("kinlink.matching.sweep.schedule")
        if not log.handlers:
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
            log.addHandler(handler)
            log.setLevel(logging.INFO)
        scheduler.start()
        when = sweep_at if sweep_at is not None else f"every {sweep_every:g} minutes"
        typer.echo(f"kinlink sweep scheduled: {when} (a child process; see the server log)")
    try:
        uvicorn.run(application, host=host, port=port, log_level=log_level, proxy_headers=False)
    finally:
        if scheduler is not None:
            scheduler.stop(timeout=1)
