"""What routes take from a request besides its body: the core, the reader id, the client address."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request
from pydantic import Field

from engagement.core import Core
from engagement.services.sites import SITE_KEY
from engagement.uow import UnitOfWork

READER_HEADER = "X-Engagement-Reader"
# The shape of a site key, from the core: anything else names no site, and never reaches SQL.
SITE_PATTERN = SITE_KEY.pattern
# The widget makes the id (random, URL-safe); anything else is refused rather than stored.
READER_PATTERN = r"^[A-Za-z0-9_-]{8,128}$"


# These are ``async`` only because they never block: FastAPI runs a plain ``def`` dependency
# on its thread pool, a hand-over that costs more than the dependency itself.
#
# The same holds for the read routes (threads, counts, passages, site settings): declared
# ``async``, they call the core on the event loop. A read never waits on a lock (SQLite in
# WAL mode, PostgreSQL's MVCC) and takes about a millisecond, less than the hand-over to the
# pool and back. Writes stay plain ``def`` routes on the pool: on SQLite one may wait for
# the write lock, and the loop must never wait with it.


async def get_core(request: Request) -> Core:
    core: Core = request.app.state.core
    return core


async def get_uow(request: Request) -> UnitOfWork:
    return uow_of(request)


async def client_ip(request: Request) -> str:
    return client_ip_of(request)


# The same two without a dependency of their own: for the comment's POST, where FastAPI's
# solving of each dependency costs more than what it gives.
def uow_of(request: Request) -> UnitOfWork:
    """A fresh unit of work for this request."""
    core: Core = request.app.state.core
    return core.uow()


def client_ip_of(request: Request) -> str:
    """The client address for rate limits (uvicorn resolves trusted proxy headers before us)."""
    return request.client.host if request.client else "unknown"


CoreDep = Annotated[Core, Depends(get_core)]
Uow = Annotated[UnitOfWork, Depends(get_uow)]
ClientIp = Annotated[str, Depends(client_ip)]
ReaderId = Annotated[
    str | None,
    Header(
        alias=READER_HEADER,
        pattern=READER_PATTERN,
        description="The reader's opaque id (random, kept by the widget in localStorage).",
    ),
]
RequiredReaderId = Annotated[
    str,
    Header(
        alias=READER_HEADER,
        pattern=READER_PATTERN,
        description="The reader's opaque id (random, kept by the widget in localStorage).",
    ),
]
SiteKey = Annotated[str, Field(pattern=SITE_PATTERN, description="The site's key")]
SiteQuery = Annotated[str, Query(pattern=SITE_PATTERN, description="The site's key", examples=["demo"])]
SitePath = Annotated[str, Path(pattern=SITE_PATTERN, description="The site's key", examples=["demo"])]
