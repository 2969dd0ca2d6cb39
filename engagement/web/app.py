"""The app factory: builds the FastAPI app for given settings; nothing is built at import time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from engagement import __version__
from engagement.config import Settings
from engagement.core import Core, build_core
from engagement.live.wiring import build_live
from engagement.web import (
    admin,
    assets,
    comments,
    counts,
    embed,
    errors,
    feeds,
    fragments,
    health,
    hooks,
    metrics,
    moderation,
    previews,
    reactions,
    reports,
    signin,
    sites,
    streams,
    strings,
    subscriber_pages,
    subscriptions,
    votes,
)
from engagement.web import demo as demo_pages
from engagement.web.cors import SiteCORS, SiteOrigins
from engagement.web.fast_reads import FastReads
from engagement.web.middleware import BodyLimit, SecurityHeaders
from engagement.web.observe import ObserveRequests
from engagement.web.responses import FastJSON
from engagement.web.templating import make_templates
from workers import make_celery
from workers.app import Handoff

DESCRIPTION = """Reader engagement for publishers: reactions, threaded comments, inline feedback
and subscriptions. Errors answer with `{code, reason, field?}`; e-mail addresses never appear in
any answer. The reader's opaque id travels in the `X-Engagement-Reader` header."""


def create_app(settings: Settings, core: Core | None = None, *, demo: bool = False) -> FastAPI:
    """The web app over ``core``; without one, a core is built from ``settings`` (and disposed
    at exit) whose commits hand their outbox events to the relay through the broker, from a
    thread of their own: no request waits for the broker.

    ``demo`` adds the demo's article pages and mail viewer; they exist in no other mode.
    """
    relay = Handoff(make_celery(settings), background=True) if core is None else None
    live = build_live(settings)
    the_core = core if core is not None else build_core(settings, on_commit=relay, broadcast=live.broadcast)
    if the_core.broadcast is None:  # a core made elsewhere (the demo's) announces to this app
        the_core.broadcast = live.broadcast

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        live.start()
        watcher = asyncio.get_running_loop().create_task(streams.end_streams_on_shutdown(live))
        yield
        watcher.cancel()
        await live.stop()
        if relay is not None:
            relay.close()
            the_core.dispose()

    app = FastAPI(
        title="engagement",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        default_response_class=FastJSON,
    )
    app.state.settings = settings
    app.state.core = the_core
    app.state.live = live
    app.state.origins = SiteOrigins(the_core)
    app.state.scrape = metrics.web_scrape(settings, the_core)
    app.state.assets = assets.Assets()
    errors.install(app)
    admin.install(app)
    app.state.templates = make_templates()
    # In the order requests most often need them: a request is matched against each in turn.
    routers = (
        comments,
        health,
        metrics,
        assets,
        sites,
        fragments,
        embed,
        feeds,
        previews,
        votes,
        reports,
        reactions,
        counts,
        streams,
        subscriptions,
        strings,
        subscriber_pages,
        moderation,
        hooks,
        admin,
        signin,
    )
    for module in routers:
        app.include_router(module.router)
    if demo:
        app.include_router(demo_pages.router)
    # Outermost last: every answer is observed, the size limit runs before anything reads.
    app.add_middleware(FastReads)  # innermost: the hot reads' common case, before the router
    app.add_middleware(SiteCORS, origins=app.state.origins)
    app.add_middleware(SecurityHeaders, hsts=settings.base_url.startswith("https://"))
    app.add_middleware(BodyLimit)
    app.add_middleware(ObserveRequests)
    return app
