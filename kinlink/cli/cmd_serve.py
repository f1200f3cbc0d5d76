"""``kinlink serve``: the review API and web pages, on the embedded store by default.

One command, no other server: uvicorn serves the FastAPI app in this process,
over the same store the other commands use (SQLite under ``KINLINK_HOME``, or
PostgreSQL via ``KINLINK_DATABASE_URL``). It listens on 127.0.0.1 unless told
otherwise: put it behind a TLS proxy (and set ``KINLINK_COOKIE_SECURE=true``)
before opening it to a network.
"""

from __future__ import annotations

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
) -> None:
    """Start the review service: JSON API at /api/v1 (docs at /docs), pages at /."""
    import uvicorn

    from kinlink.api import RealtimeMatcher, create_app
    from kinlink.config import get_settings

    settings = get_settings()
    store = open_store()
    matcher = RealtimeMatcher(store, settings)
    application = create_app(settings, store, matcher, start_matcher=False)
    matcher.start(match_existing=match_existing)
    typer.echo(f"kinlink review service on http://{host}:{port}/ (store: {store.display_url})")
    uvicorn.run(application, host=host, port=port, log_level=log_level, proxy_headers=False)
