"""Domain errors to HTTP statuses in one table, and the JSON body every error answer carries."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from engagement.errors import (
    Conflict,
    EngagementError,
    Forbidden,
    InvalidInput,
    InvalidToken,
    LiveUnavailable,
    Malformed,
    NotFound,
    RateLimited,
    Unauthenticated,
)

log = structlog.get_logger(__name__)

# The one place a domain error becomes a status. Subclasses inherit their base's status
# (EditWindowClosed and Banned are Forbidden, SiteNotFound is NotFound…).
STATUS: dict[type[EngagementError], int] = {
    InvalidInput: 422,
    Malformed: 400,
    Unauthenticated: 401,
    InvalidToken: 403,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    RateLimited: 429,
    LiveUnavailable: 503,
    EngagementError: 400,
}

DESCRIPTIONS = {
    400: "The request is malformed (not JSON, a bad header).",
    401: "The request must prove who sent it (a signature or a token), and did not.",
    403: "Refused: a wrong or expired token, a closed edit window, a ban, a foreign origin.",
    404: "No such site, page or comment.",
    409: "The request conflicts with the current state.",
    413: "The request body is too large.",
    422: "A value is invalid; `field` names it.",
    429: "Too many requests; retry after `Retry-After` seconds.",
    503: "Briefly unavailable (the database; a stream: the server's cap); retry after `Retry-After` seconds.",
}


class ErrorBody(BaseModel):
    """What every 4xx answer of the API carries: a stable code and a reason a person can read."""

    code: str
    reason: str
    field: str | None = None
    retry_after: int | None = None


def status_for(exc: EngagementError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def error_response(status: int, body: dict[str, Any]) -> JSONResponse:
    headers = {}
    if status in (429, 503) and "retry_after" in body:
        headers["Retry-After"] = str(body["retry_after"])
    if status == 401:  # a 401 says how to authenticate (RFC 9110), as the API's schema declares
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, headers=headers)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` entry declaring each error status a route can answer."""
    result: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"model": ErrorBody, "description": DESCRIPTIONS[status]}
        if status == 401:
            entry["headers"] = {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}}
        if status in (429, 503):
            entry["headers"] = {
                "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
            }
        result[status] = entry
    return result


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, EngagementError)
    return error_response(status_for(exc), exc.as_dict())


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request", "type": ""}
    if first.get("type") == "json_invalid":
        return error_response(400, {"code": "malformed", "reason": "the body is not valid JSON"})
    field = _field(tuple(first.get("loc", ())))
    message = str(first.get("msg", "is invalid")).removeprefix("Value error, ")
    return error_response(422, {"code": "invalid", "reason": f"{field}: {message}", "field": field})


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {401: "unauthenticated", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}
    code = codes.get(exc.status_code, "error")
    response = error_response(exc.status_code, {"code": code, "reason": str(exc.detail)})
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def database_down(request: Request, exc: Exception) -> JSONResponse:
    # The database is unreachable (restart, failover): not a bug, and worth retrying soon.
    log.warning("web.database_unavailable", path=request.url.path, error=str(exc).splitlines()[0])
    body = {"code": "unavailable", "reason": "the service is briefly unavailable; try again shortly"}
    return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})


def install(app: FastAPI) -> None:
    """Register the handlers that turn domain and validation errors into JSON answers."""
    app.add_exception_handler(EngagementError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(sa.exc.OperationalError, database_down)
    app.add_exception_handler(sa.exc.InterfaceError, database_down)
