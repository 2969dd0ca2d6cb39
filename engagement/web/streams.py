"""GET /api/v1/stream: a page's live thread as Server-Sent Events, one coroutine per reader."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Query, Request
from sse_starlette import ServerSentEvent
from sse_starlette.sse import AppStatus
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from engagement.errors import LiveUnavailable
from engagement.live.hub import Subscription
from engagement.live.notices import Notice
from engagement.live.wiring import Live
from engagement.services.discussion.streams import missed, stream_page
from engagement.web.cors import bind_site
from engagement.web.deps import SiteQuery, Uow
from engagement.web.errors import responses

router = APIRouter(prefix="/api/v1", tags=["stream"])
# A comment line this often keeps proxies from closing a quiet stream.
KEEPALIVE_SECONDS = 20
KEEPALIVE = b": keep-alive\r\n\r\n"
# How long a browser waits before reconnecting by itself (the widget adds its own backoff).
RETRY_MILLISECONDS = 5000
UNAVAILABLE_RETRY_SECONDS = 30
SHUTDOWN_POLL_SECONDS = 0.5
# No length (it never ends), no cache keeps it, and a proxy (nginx) passes it on as it comes.
STREAM_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),
]
EventId = Annotated[str | None, Header(alias="Last-Event-ID", max_length=40)]
STREAM_DOC = {
    "description": (
        "`event: comment` `{id, parent}` when a comment is published on the page (after "
        "moderation, if held); `event: removed` `{id}` when a published comment is withdrawn "
        "(deleted, removed, held again); `event: counts` `{reactions}` when its reactions change; "
        "`event: reset` when more was missed than a resumption carries (reload the thread)."
    ),
    "content": {"text/event-stream": {"schema": {"type": "string"}}},
}


@router.get("/stream", responses={200: STREAM_DOC, **responses(403, 404, 422, 503)})
async def stream(
    request: Request,
    uow: Uow,
    site: SiteQuery,
    page: Annotated[str, Query(max_length=2000, description="The page's URL, path or explicit id")],
    last_event_id: EventId = None,
    last: Annotated[
        str | None, Query(max_length=40, description="The last event id seen, when no header can carry it")
    ] = None,
) -> Response:
    """The page's live thread; with `Last-Event-ID` it first replays what was published since.

    Over the process's cap (`ENGAGEMENT_STREAM_MAX_CONNECTIONS`): 503 with `Retry-After`.
    """
    bind_site(request, site)
    live: Live = request.app.state.live
    page_id = stream_page(uow, site, page)
    if not await live.ready():
        raise LiveUnavailable("live updates are unavailable for now", retry_after=UNAVAILABLE_RETRY_SECONDS)
    # Subscribed before the replay is read: a comment published in between comes twice at
    # worst (the widget skips what it shows), never not at all.
    subscription = live.hub.subscribe(page_id)
    try:
        backlog = missed(uow, page_id, last_event_id or last)
    except BaseException:
        subscription.close()
        raise
    return EventStream(subscription, backlog)


class EventStream(Response):
    """The answer of one stream: one coroutine on the event loop, waiting on its hub queue.

    Leaner than a general streaming response (a process holding 5,000 streams pays for every
    task and frame): one more small task notices the reader leaving, and the keep-alive
    comment is a timeout on the same wait.
    """

    media_type = "text/event-stream"

    def __init__(self, subscription: Subscription, backlog: Sequence[Notice]) -> None:
        self.status_code = 200
        self.background = None
        self.raw_headers = list(STREAM_HEADERS)  # middleware adds to them
        self.subscription = subscription
        self.backlog = backlog

    async def __call__(self, _scope: Scope, receive: Receive, send: Send) -> None:
        subscription = self.subscription
        watcher = asyncio.get_running_loop().create_task(_watch_disconnect(receive, subscription))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            first = ServerSentEvent(comment="engagement live thread", retry=RETRY_MILLISECONDS).encode()
            await send(_body(first + b"".join(_encode(notice) for notice in self.backlog)))
            while True:
                try:
                    async with asyncio.timeout(KEEPALIVE_SECONDS):
                        notice = await subscription.next()
                except TimeoutError:
                    await send(_body(KEEPALIVE))
                    continue
                if notice is None:  # ended: the reader reconnects (and resumes)
                    await send({"type": "http.response.body", "body": b""})
                    return
                await send(_body(_encode(notice)))
        finally:
            subscription.close()
            watcher.cancel()


async def _watch_disconnect(receive: Receive, subscription: Subscription) -> None:
    """End the stream when its reader goes (the server's send says nothing of it)."""
    while (await receive())["type"] != "http.disconnect":
        pass
    subscription.end()


def _body(chunk: bytes) -> Message:
    return {"type": "http.response.body", "body": chunk, "more_body": True}


def _encode(notice: Notice) -> bytes:
    """The notice as an event; a fan-out hands the same notice to every stream of its page in a
    row, so the last one's bytes are kept and encoding happens once per notice, not per stream."""
    global _last_encoded
    last_notice, last_bytes = _last_encoded
    if notice is last_notice:
        return last_bytes
    encoded = ServerSentEvent(orjson.dumps(notice.data).decode(), event=notice.event, id=notice.id).encode()
    _last_encoded = (notice, encoded)
    return encoded


_last_encoded: tuple[Notice | None, bytes] = (None, b"")


async def end_streams_on_shutdown(live: Live) -> None:
    """End every stream as soon as the server is told to stop, so that a deploy does not wait
    out the graceful timeout for connections that never finish by themselves."""
    while not _server_exiting():
        await asyncio.sleep(SHUTDOWN_POLL_SECONDS)
    live.hub.end_all()


def _server_exiting() -> bool:
    # sse-starlette wraps uvicorn's exit handler to raise this flag; the processes of
    # ``serve --workers N`` bind the handler before the app (and sse-starlette) is imported,
    # so the server behind the SIGTERM handler is asked too.
    if AppStatus.should_exit:
        return True
    server = getattr(signal.getsignal(signal.SIGTERM), "__self__", None)
    return bool(getattr(server, "should_exit", False))
