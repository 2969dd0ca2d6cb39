"""ASGI middleware: a request body size limit and the security headers of every answer."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 64 * 1024

# Pages for people: our own stylesheet, forms that post back to us, never framed.
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# Everything else (JSON, scripts): nothing to load, never framed.
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"


class BodyLimit:
    """Answer 413 to a body over ``limit`` bytes, declared or streamed, before a route reads it.

    A body without a ``Content-Length`` (chunked) is read here first, at most ``limit`` bytes,
    then handed on: small enough to hold, and no route ever sees a partial body.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.limit:
                await _too_large(send, self.limit)
                return
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                await _too_large(send, self.limit)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"code": "too_large", "reason": f"the body must be at most {limit} bytes"}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """Add nosniff, no-referrer (links carry tokens) and a CSP unless a route set its own.

    ``hsts`` (a server whose base URL is https) also tells browsers to use https only.
    """

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                _secure(message, self.hsts)
            await send(message)

        await self.app(scope, receive, send_with_headers)


_ALWAYS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"))
_PAGE_CSP, _DEFAULT_CSP = PAGE_CSP.encode(), DEFAULT_CSP.encode()


def _secure(message: Message, hsts: bool) -> None:
    """Add to a response's start the security headers its route did not set itself (on the
    raw header list: this runs for every answer)."""
    raw = message["headers"] = list(message.get("headers", ()))
    found: dict[bytes, bytes] = {}
    for name, value in raw:
        found.setdefault(name, value)  # the first of a name, as a route's headers are read
    added = [header for header in _ALWAYS if header[0] not in found]
    is_html = found.get(b"content-type", b"").startswith(b"text/html")
    csp = found.get(b"content-security-policy")
    if csp is None:
        csp = _PAGE_CSP if is_html else _DEFAULT_CSP
        added.append((b"content-security-policy", csp))
    # A page whose route names who may frame it (the no-JS thread) keeps that choice.
    framable = b"frame-ancestors" in csp and b"frame-ancestors 'none'" not in csp
    if is_html and not framable and b"x-frame-options" not in found:
        added.append((b"x-frame-options", b"DENY"))
    if hsts and b"strict-transport-security" not in found:
        added.append((b"strict-transport-security", b"max-age=31536000"))
    raw.extend(added)
