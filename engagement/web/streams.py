"""GET /api/v1/stream: a page's live thread as Server-Sent Events, one coroutine per reader."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.background import BackgroundTask

from engagement.errors import LiveUnavailable
from engagement.live.hub import Subscription
from engagement.live.notices import Notice
from engagement.live.wiring import Live
from engagement.services.streams import missed, stream_page
from engagement.web.cors import bind_site
from engagement.web.deps import SiteQuery, Uow
from engagement.web.errors import responses

router = APIRouter(prefix="/api/v1", tags=["stream"])
# A comment line this often keeps proxies from closing a quiet stream.
KEEPALIVE_SECONDS = 20
# How long a browser waits before reconnecting by itself (the widget adds its own backoff).
RETRY_MILLISECONDS = 5000
UNAVAILABLE_RETRY_SECONDS = 30
EventId = Annotated[str | None, Header(alias="Last-Event-ID", max_length=40)]
STREAM_DOC = {
    "description": (
        "`event: comment` `{id, parent}` when a comment is published on the page (after "
        "moderation, if held); `event: counts` `{reactions}` when its reactions change; "
        "`event: reset` when more was missed than a resumption carries (reload the thread)."
    ),
    "content": {"text/event-stream": {"schema": {"type": "string"}}},
}


@router.get(
    "/stream",
    response_class=EventSourceResponse,
    responses={200: STREAM_DOC, **responses(403, 404, 422, 503)},
)
async def stream(
    request: Request,
    uow: Uow,
    site: SiteQuery,
    page: Annotated[str, Query(max_length=2000, description="The page's URL, path or explicit id")],
    last_event_id: EventId = None,
    last: Annotated[
        str | None, Query(max_length=40, description="The last event id seen, when no header can carry it")
    ] = None,
) -> EventSourceResponse:
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
    return EventSourceResponse(
        _events(subscription, backlog),
        ping=KEEPALIVE_SECONDS,
        headers={"Cache-Control": "no-store"},
        # Also when the stream never started (a HEAD, a client gone at once).
        background=BackgroundTask(subscription.close),
    )


async def _events(subscription: Subscription, backlog: Sequence[Notice]) -> AsyncIterator[ServerSentEvent]:
    try:
        yield ServerSentEvent(comment="engagement live thread", retry=RETRY_MILLISECONDS)
        for missed_notice in backlog:
            yield _event(missed_notice)
        while (notice := await subscription.next()) is not None:
            yield _event(notice)
    finally:
        subscription.close()


def _event(notice: Notice) -> ServerSentEvent:
    return ServerSentEvent(orjson.dumps(notice.data).decode(), event=notice.event, id=notice.id)
