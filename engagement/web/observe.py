"""Every request: an id (taken from X-Request-ID when well-formed), one log line, its metrics."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engagement.logs import REQUEST_ID
from engagement.metrics import instruments

log = structlog.get_logger(__name__)
_records = logging.getLogger(__name__)  # where structlog's lines go (engagement.logs)
HEADER = "X-Request-ID"
# What a proxy or a client may send us; anything else (too long, spaces, an address) is replaced.
WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def request_id_from(scope: Scope) -> str:
    """The caller's request id when well-formed, a new one otherwise."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            given: str = value.decode("latin-1")
            if WELL_FORMED.fullmatch(given):
                return given
            break
    return uuid.uuid4().hex


class ObserveRequests:
    """Outermost of our middleware: it sees every answer, the others' refusals included.

    Requests are counted under their route template, never the raw path (tokens, pages).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.metrics = instruments()
        # Each (method, route, status)'s counter and histogram, looked up by their labels once.
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        bound = structlog.contextvars.bind_contextvars(**{REQUEST_ID: request_id})
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("http.unhandled")
            if not status:  # answer here, with the id; the server's handler sees it started
                await _internal_error(send_with_id)
            raise
        finally:
            self._record(scope, status or 500, time.perf_counter() - started)
            structlog.contextvars.reset_contextvars(**bound)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = getattr(scope.get("route"), "path", "unmatched")
        method = scope["method"]
        series = self._series.get((method, route, status))
        if series is None:
            labels = (method, route, str(status))
            series = (
                self.metrics.http_requests.labels(*labels),
                self.metrics.http_request_duration.labels(*labels),
            )
            self._series[method, route, status] = series
        series[0].inc()
        series[1].observe(seconds)
        # structlog builds a line in full before the standard library drops it by its level:
        # at the usual warning level, asked first, an answered request costs no line at all.
        if status < 500 and not _records.isEnabledFor(logging.INFO):
            return
        line = log.error if status >= 500 else log.info
        line("http.request", method=method, route=route, status=status, duration_ms=round(seconds * 1000, 2))


async def _internal_error(send: Send) -> None:
    body = json.dumps(
        {"code": "internal", "reason": "an unexpected error; X-Request-ID names this request in our logs"}
    ).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})
