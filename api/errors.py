"""One error body for every failure, so clients parse errors one way.

``{"error": {"code": "...", "message": "...", "fields": [{"field": ..., "message": ...}]}}``
``fields`` names each invalid request field (dotted path, without the
``body``/``query`` prefix) so a form can put the message next to the input.
Unexpected exceptions give a 500 with no internals; the server log has them.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)


class FieldError(BaseModel):
    field: str
    message: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    fields: list[FieldError] = []


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


#: For OpenAPI: the error responses every protected route may give.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Not logged in, or the session/token expired."},
    403: {"model": ErrorBody, "description": "Logged in, but the role does not allow this."},
    404: {"model": ErrorBody, "description": "Not found (or not visible to this user)."},
    422: {"model": ErrorBody, "description": "The request is invalid; `fields` names each field."},
}


class ApiError(Exception):
    """An expected failure with a status, a stable code and a sentence for people."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or []
        self.headers = headers


def not_found(what: str = "record") -> ApiError:
    # The same answer whether it does not exist or belongs to someone else:
    # a 403 would confirm that another agency holds such a child.
    return ApiError(404, "not_found", f"no such {what}")


def _body(code: str, message: str, fields: list[FieldError] | None = None) -> dict[str, Any]:
    return ErrorBody(
        error=ErrorDetail(code=code, message=message, fields=fields or [])
    ).model_dump()


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        if exc.status == 401 and _wants_html(request):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return JSONResponse(
            _body(exc.code, exc.message, exc.fields), status_code=exc.status, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        fields = []
        for issue in exc.errors():
            loc = [str(p) for p in issue.get("loc", ())]
            if loc and loc[0] in ("body", "query", "path", "header", "cookie", "form"):
                loc = loc[1:]
            message = str(issue.get("msg", "invalid")).removeprefix("Value error, ")
            fields.append(FieldError(field=".".join(loc) or "(request)", message=message))
        names = ", ".join(f.field for f in fields[:5])
        return JSONResponse(
            _body("invalid_request", f"invalid value(s): {names}", fields), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            _body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            _body("internal_error", "something went wrong on the server; it has been logged"),
            status_code=500,
        )
