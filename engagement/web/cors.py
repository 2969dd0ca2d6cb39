"""CORS for each site's allowed origins, read from the database and kept for a short while.

A preflight carries no body, so it is answered for any origin that some site allows. A real
request is answered for the origins of the site it names: the route binds the site
(:func:`bind_site`), which also refuses a foreign origin before anything is written.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import sqlalchemy as sa
import structlog
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engagement.core import Core
from engagement.errors import Forbidden
from engagement.models import Site

log = structlog.get_logger(__name__)
CACHE_SECONDS = 30.0
ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE"
ALLOW_HEADERS = "Authorization, Content-Type, If-None-Match, X-Engagement-Reader, X-Engagement-SSO"
EXPOSE_HEADERS = "ETag, Retry-After"
SITE_STATE = "engagement_site"


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` in lower case, as browsers send it in ``Origin``."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


class SiteOrigins:
    """The allowed origins of every site, reloaded at most every ``ttl`` seconds."""

    def __init__(
        self, core: Core, ttl: float = CACHE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.core = core
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()
        self._loaded_at = -ttl - 1.0
        self._by_site: dict[str, frozenset[str]] = {}
        self._any: frozenset[str] = frozenset()
        self._generation = -1  # of the core's site cache when loaded

    def _refresh(self) -> None:
        # A commit of this process that changes a site (a new one, its origins) empties the site
        # cache: the origins follow at once, another process's change within ``ttl``.
        generation = self.core.site_cache.generation()
        if generation == self._generation and self.clock() - self._loaded_at < self.ttl:
            return
        with self._lock:
            if generation == self._generation and self.clock() - self._loaded_at < self.ttl:
                return
            try:
                with self.core.session_factory() as session:
                    rows = session.execute(sa.select(Site.key, Site.origins)).all()
            except sa.exc.SQLAlchemyError as exc:
                # Keep answering with what we knew; the routes report the database's state.
                log.warning("cors.origins_unavailable", error=str(exc).splitlines()[0])
                return
            self._by_site = {key: frozenset(origin_of(o) for o in origins or ()) for key, origins in rows}
            self._any = frozenset().union(*self._by_site.values())
            self._loaded_at = self.clock()
            self._generation = generation

    def for_site(self, key: str) -> frozenset[str]:
        self._refresh()
        return self._by_site.get(key, frozenset())

    def any_site(self) -> frozenset[str]:
        self._refresh()
        return self._any

    def forget(self) -> None:
        """Reload at the next request (after a site's origins changed in this process)."""
        self._loaded_at = -self.ttl - 1.0


def _header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header, as ``Headers.get`` gives it (read on every request)."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _own_origin(scope: Scope) -> str:
    host = _header(scope, b"host") or ""
    return f"{scope.get('scheme', 'http')}://{host.lower()}"


def bind_site(request: Request, site_key: str) -> None:
    """Tie this request to ``site_key``: a browser on another site's page is refused (403)."""
    request.state.engagement_site = site_key
    origin = _header(request.scope, b"origin")
    if origin is None or origin == _own_origin(request.scope):
        return
    origins: SiteOrigins = request.app.state.origins
    if origin_of(origin) not in origins.for_site(site_key):
        raise Forbidden(f"the origin {origin} is not allowed for site {site_key!r}")


class SiteCORS:
    """Answer preflights and add CORS headers for the origins a site allows, nothing else."""

    def __init__(self, app: ASGIApp, origins: SiteOrigins) -> None:
        self.app = app
        self.origins = origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = _header(scope, b"origin")
        if origin is None or origin == _own_origin(scope):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and _header(scope, b"access-control-request-method") is not None:
            await self._preflight(origin, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out.add_vary_header("Origin")
                site = scope.get("state", {}).get(SITE_STATE)
                allowed = self.origins.for_site(site) if site else self.origins.any_site()
                if origin_of(origin) in allowed:
                    out["Access-Control-Allow-Origin"] = origin
                    out["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, origin: str, send: Send) -> None:
        headers = [(b"vary", b"Origin"), (b"content-length", b"0")]
        status = 403
        if origin_of(origin) in self.origins.any_site():
            status = 204
            headers += [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-allow-methods", ALLOW_METHODS.encode()),
                (b"access-control-allow-headers", ALLOW_HEADERS.encode()),
                (b"access-control-max-age", b"600"),
            ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
