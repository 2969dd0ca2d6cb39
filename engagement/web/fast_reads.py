"""The hot reads (a thread, counts) answered before FastAPI when their input is plainly valid.

FastAPI's routing (a walk through every included route) and its parameter, body and
dependency solving cost more CPU than a cached read itself. This middleware, the innermost,
answers a request of one of the reads below whose input is each given once and plainly valid,
with the route's own code (``comments.thread_response``, ``counts.counts_response``).
Anything else (a missing, repeated, empty or doubtful value, a body of another type, a
sign-in token to check) goes on to the FastAPI route, which answers as the OpenAPI schema
says: a 422 with its reason. Domain and database errors are answered through the same
handlers as the routes'.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import orjson
import sqlalchemy as sa
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engagement.errors import EngagementError
from engagement.services.discussion.threads import MAX_COUNT_PAGES, SORTS, ThreadQuery
from engagement.services.sites import SITE_KEY
from engagement.uow import UnitOfWork
from engagement.web import comments, counts, sites
from engagement.web.cors import bind_site
from engagement.web.deps import READER_PATTERN
from engagement.web.errors import database_down, error_response, status_for

_READER = re.compile(READER_PATTERN)
_LIMIT = re.compile(r"[1-9][0-9]{0,2}")
_READER_HEADER = b"x-engagement-reader"
_SSO_HEADER = b"x-engagement-sso"
# The routes' bounds (comments.get_thread, counts.*): a value past them goes to the route for its 422.
_MAX_LENGTH = {"site": 64, "page": 2000, "sort": 6, "limit": 3, "cursor": 200, "passage": 200}
_MAX_PAGE = _MAX_LENGTH["page"]


@dataclass(frozen=True)
class PlainRead:
    """One read the middleware may answer: its route, how to read plainly valid input (None
    for anything else: the route answers), and the route's own answer for that input."""

    route: APIRoute
    parse: Callable[[Scope, bytes], Any]
    answer: Callable[[Request, UnitOfWork, Any], Response]


class FastReads:
    """Answer the hot reads' common case before the router; hand every other request on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        read = None
        if scope["type"] == "http":
            path = scope["path"]
            read = _READS.get((scope["method"], _SITE_PATH if path.startswith(_SITES) else path))
        if read is None:
            await self.app(scope, receive, send)
            return
        body = b""
        if scope["method"] == "POST":
            receive, body = await _buffered(receive)
        parsed = read.parse(scope, body)
        if parsed is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = read.route  # the route's name in logs and metrics, as if it had answered
        request = Request(scope, receive)
        try:
            response = read.answer(request, request.app.state.core.uow(), parsed)
        except EngagementError as exc:
            response = error_response(status_for(exc), exc.as_dict())
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            response = await database_down(request, exc)
        await response(scope, receive, send)


async def _buffered(receive: Receive) -> tuple[Receive, bytes]:
    """The request's body (bounded by ``BodyLimit`` already), and a ``receive`` that gives it
    again to the route when the fast path leaves the request to it."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay, body


def _query(scope: Scope, *, repeated: str | None = None) -> dict[str, Any] | None:
    """The parameters the routes take, each given once, non-empty and within its bound (the
    ``repeated`` one as a list), or None."""
    given: dict[str, Any] = {}
    for key, value in _pairs(scope["query_string"].decode("latin-1")):
        limit = _MAX_LENGTH.get(key)
        if limit is None:
            continue  # the routes ignore parameters they do not take
        if not value or len(value) > limit:
            return None
        if key == repeated:
            given.setdefault(key, []).append(value)
        elif key in given:
            return None
        else:
            given[key] = value
    site = given.get("site")
    return given if site is not None and SITE_KEY.fullmatch(site) else None


def _pairs(query: str) -> list[tuple[str, str]]:
    """``parse_qsl(query, keep_blank_values=True)``, as Starlette reads a query for the routes,
    without its work for the names and values that need no decoding (nearly all)."""
    pairs = []
    for field in query.split("&"):
        if not field:
            continue
        key, _, value = field.partition("=")
        if "%" in key or "+" in key:
            key = unquote(key.replace("+", " "))
        if "%" in value or "+" in value:
            value = unquote(value.replace("+", " "))
        pairs.append((key, value))
    return pairs


def _thread_query(scope: Scope, _body: bytes) -> ThreadQuery | None:
    """The thread query when every parameter is given once and plainly valid, else None."""
    given = _query(scope)
    if given is None or "page" not in given:
        return None
    readers = []
    for name, value in scope["headers"]:
        if name == _READER_HEADER:
            readers.append(value)
        elif name == _SSO_HEADER:
            return None  # a sign-in token is checked by the route (its 401s)
    reader = readers[0].decode("latin-1") if readers else None
    if len(readers) > 1 or (reader is not None and not _READER.fullmatch(reader)):
        return None
    values: dict[str, Any] = {"site": given["site"], "page": given["page"], "reader_id": reader}
    if "sort" in given:
        if given["sort"] not in SORTS:
            return None
        values["sort"] = given["sort"]
    if "limit" in given:
        if not _LIMIT.fullmatch(given["limit"]) or int(given["limit"]) > 100:
            return None
        values["limit"] = int(given["limit"])
    for key in ("cursor", "passage"):
        if key in given:
            values[key] = given[key]
    return ThreadQuery(**values)


def _thread(request: Request, uow: UnitOfWork, query: ThreadQuery) -> Response:
    bind_site(request, query.site)
    return comments.thread_response(request, uow, query)


def _counts_query(scope: Scope, _body: bytes) -> tuple[str, list[str]] | None:
    """GET /api/v1/counts?site=…&page=…&page=…: the site and its pages, else None."""
    given = _query(scope, repeated="page")
    if given is None or not 0 < len(given.get("page", ())) <= MAX_COUNT_PAGES:
        return None
    return given["site"], given["page"]


def _counts_body(scope: Scope, body: bytes) -> tuple[str, list[str]] | None:
    """POST /api/v1/counts's JSON as ``CountsIn`` (strict) takes it, plainly valid, else None."""
    types = [value for name, value in scope["headers"] if name == b"content-type"]
    if types != [b"application/json"]:
        return None  # another type, a parameter to it or none: the route decides
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict) or data.keys() != {"site", "pages"}:
        return None
    site, pages = data["site"], data["pages"]
    if not isinstance(site, str) or not SITE_KEY.fullmatch(site):
        return None
    if not isinstance(pages, list) or len(pages) > MAX_COUNT_PAGES:
        return None
    if not all(isinstance(page, str) and len(page) <= _MAX_PAGE for page in pages):
        return None
    return site, pages


def _get_counts(request: Request, uow: UnitOfWork, asked: tuple[str, list[str]]) -> Response:
    return counts.counts_response(request, uow, *asked, counts.GET_HEADERS)


def _post_counts(request: Request, uow: UnitOfWork, asked: tuple[str, list[str]]) -> Response:
    return counts.counts_response(request, uow, *asked)


_SITES = "/api/v1/sites/"
_SITE_PATH = "/api/v1/sites/{site}"


def _site_settings_query(scope: Scope, _body: bytes) -> str | None:
    """GET /api/v1/sites/{site}: the site key, when the path is a plain one's (not its popular pages)."""
    site = scope["path"][len(_SITES) :]
    return site if SITE_KEY.fullmatch(site) else None


def _route(router: Any, name: str) -> APIRoute:
    return next(r for r in router.routes if isinstance(r, APIRoute) and r.name == name)


_READS = {
    ("GET", "/api/v1/comments"): PlainRead(_route(comments.router, "get_thread"), _thread_query, _thread),
    ("GET", "/api/v1/counts"): PlainRead(_route(counts.router, "get_counts"), _counts_query, _get_counts),
    ("POST", "/api/v1/counts"): PlainRead(_route(counts.router, "post_counts"), _counts_body, _post_counts),
    ("GET", _SITE_PATH): PlainRead(
        _route(sites.router, "get_site_settings"), _site_settings_query, sites.settings_response
    ),
}
