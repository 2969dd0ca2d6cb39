"""Live streams' reads: the page a stream watches, and what a reconnecting one missed."""

from __future__ import annotations

import sqlalchemy as sa

from engagement.errors import PageNotFound
from engagement.live.notices import Notice, parse_event_id
from engagement.live.replay import published_since
from engagement.models import Page
from engagement.services.pages import page_key
from engagement.services.site_cache import site_rules
from engagement.uow import UnitOfWork

_PAGE_ID = sa.select(Page.id).where(Page.site_id == sa.bindparam("site_id"), Page.key == sa.bindparam("key"))


def stream_page(uow: UnitOfWork, site_key: str, page_ref: str) -> int:
    """The id of the page a stream watches: an unknown site or page is NotFound."""
    key = page_key(page_ref)
    with uow:
        site = site_rules(uow, site_key)  # the site cache: readers arriving together cost one read
    # One statement outside a transaction: a reconnecting crowd (after a deploy) opens thousands.
    with uow.reading() as connection:
        page_id = connection.execute(_PAGE_ID, {"site_id": site.id, "key": key}).scalar()
    if page_id is None:
        raise PageNotFound(f"no page {page_ref!r} on site {site_key!r} yet")
    return int(page_id)


def missed(uow: UnitOfWork, page_id: int, last_event_id: str | None) -> list[Notice]:
    """What was published on the page after the event ``last_event_id`` names (none for an
    id we did not write: the stream simply starts from now)."""
    since = parse_event_id(last_event_id)
    return [] if since is None else published_since(uow, page_id, since)
