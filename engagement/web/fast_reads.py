"""GET /api/v1/comments without FastAPI's parameter solving, for a query that is plainly valid.

The thread read is the hottest route, and FastAPI's dependency and parameter solving was about
a quarter of its CPU. This middleware, the innermost, answers a GET whose parameters are each
given once and plainly valid, with the route's own code (``comments.thread_response``).
Anything else (a missing, repeated, empty or doubtful value, a sign-in token to check) goes on
to the FastAPI route,
which answers as the OpenAPI schema says: a 422 with its reason. Domain and database errors
are answered through the same handlers as the route's.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

import sqlalchemy as sa
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from engagement.errors import EngagementError
from engagement.services.sites import SITE_KEY
from engagement.services.threads import SORTS, ThreadQuery
from engagement.web import comments
from engagement.web.cors import bind_site
from engagement.web.deps import READER_PATTERN
from engagement.web.errors import database_down, error_response, status_for

PATH = "/api/v1/comments"
_READER = re.compile(READER_PATTERN)
_LIMIT = re.compile(r"[1-9][0-9]{0,2}")
_READER_HEADER = b"x-engagement-reader"
_SSO_HEADER = b"x-engagement-sso"
# The route's bounds (comments.get_thread): a value past them goes to the route for its 422.
_MAX_LENGTH = {"site": 64, "page": 2000, "sort": 6, "limit": 3, "cursor": 200, "passage": 200}
_ROUTE = next(r for r in comments.router.routes if isinstance(r, APIRoute) and r.name == "get_thread")


class FastThreadReads:
    """Answer the thread read's common case before the router; hand every other request on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = _plain_query(scope) if scope["type"] == "http" and scope["path"] == PATH else None
        if query is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = _ROUTE  # the route's name in logs and metrics, as if it had answered
        request = Request(scope, receive)
        try:
            bind_site(request, query.site)
            response = comments.thread_response(request, request.app.state.core.uow(), query)
        except EngagementError as exc:
            response = error_response(status_for(exc), exc.as_dict())
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            response = await database_down(request, exc)
        await response(scope, receive, send)


def _plain_query(scope: Scope) -> ThreadQuery | None:
    """The thread query when every parameter is given once and plainly valid, else None."""
    if scope["method"] != "GET":
        return None
    given: dict[str, str] = {}
    for key, value in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True):
        limit = _MAX_LENGTH.get(key)
        if limit is None:
            continue  # the route ignores parameters it does not take
        if key in given or not value or len(value) > limit:
            return None
        given[key] = value
    readers = []
    for name, value in scope["headers"]:
        if name == _READER_HEADER:
            readers.append(value)
        elif name == _SSO_HEADER:
            return None  # a sign-in token is checked by the route (its 401s)
    reader = readers[0].decode("latin-1") if readers else None
    if len(readers) > 1 or (reader is not None and not _READER.fullmatch(reader)):
        return None
    site, page = given.get("site"), given.get("page")
    if site is None or page is None or not SITE_KEY.fullmatch(site):
        return None
    values: dict[str, Any] = {"site": site, "page": page, "reader_id": reader}
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
