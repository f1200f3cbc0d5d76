"""The FastAPI application: JSON API under /api/v1, review pages, OpenAPI at /docs.

:func:`create_app` takes its store, settings and matcher as arguments so that
tests and ``kinlink serve`` build the same application from different parts.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

import kinlink
from kinlink.api import errors
from kinlink.api.i18n import LANGUAGES, translations
from kinlink.api.matching import RealtimeMatcher
from kinlink.api.routes import (
    admin,
    auth,
    candidates,
    decisions,
    meta,
    notifications,
    queue,
    records,
    sweeps,
    ui,
)
from kinlink.config import Settings, get_settings
from kinlink.store import Store

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"

DESCRIPTION = """
kinlink's review service: caseworkers register separated children and tracing
requests, see the engine's ranked candidates side by side, and decide.

* Authenticate with `POST /api/v1/auth/login` (session token, also set as a
  cookie) or an API token from an admin: `Authorization: Bearer <token>`.
* Every error has the body `{"error": {"code", "message", "fields": [...]}}`.
* Lists are paged with `limit` and `offset` and return `total`.
* Probability bands are fixed (see `GET /api/v1/bands`).
* Every view of a record or candidate list, every decision and export is
  written to the hash-chained audit log (`kinlink audit verify`).
"""

_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
}
_DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: "
    "https://fastapi.tiangolo.com; frame-ancestors 'none'"
)


def create_app(
    settings: Settings | None = None,
    store: Store | None = None,
    matcher: RealtimeMatcher | None = None,
    *,
    start_matcher: bool = True,
) -> FastAPI:
    """The review service over ``store`` (default: the configured store)."""
    settings = settings or get_settings()
    store = store or Store.open(settings)
    matcher = matcher or RealtimeMatcher(store, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for code in LANGUAGES:
            translations(code)  # compile the catalogues now: a broken .po fails at start-up
        if start_matcher and matcher.index is None:
            matcher.start()
        yield
        matcher.stop()

    app = FastAPI(
        title="kinlink review API",
        version=kinlink.__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.matcher = matcher
    errors.install(app)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path in ("/docs", "/redoc"):
            response.headers["Content-Security-Policy"] = _DOCS_CSP
        if not request.url.path.startswith("/static/"):
            # Children's data must not linger in shared computers' caches.
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    for module in (
        meta,
        auth,
        records,
        candidates,
        decisions,
        queue,
        notifications,
        sweeps,
        admin,
        ui,
    ):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
