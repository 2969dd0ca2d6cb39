"""Pages: found by their normalised key, created on first use, safely under concurrency."""

from __future__ import annotations

import functools
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement import validation as check
from engagement.db import UTCDateTime, insert_ignoring_conflict
from engagement.errors import InvalidInput
from engagement.models import Page, Site
from engagement.pagekeys import clean_url, normalise_page_key
from engagement.uow import UnitOfWork

# Built once (every comment, reaction and count looks a page up): binding is all a call pays.
_PAGE_BY_KEY = sa.select(Page).where(Page.site_id == sa.bindparam("site_id"), Page.key == sa.bindparam("key"))

_table = cast(sa.Table, Page.__table__)
_pages = _table.c

# A new comment's page in one statement: found by key, its title and URL filled in as
# ensure_page does, and a comment published at once counted (``added`` 1, else 0).
CLAIM = (
    sa.update(_table)
    .where(_pages.site_id == sa.bindparam("b_site"), _pages.key == sa.bindparam("b_key"))
    .values(
        comment_count=_pages.comment_count + sa.bindparam("added", type_=sa.Integer()),
        last_comment_at=sa.case(
            (sa.bindparam("added", type_=sa.Integer()) > 0, sa.bindparam("now", type_=UTCDateTime())),
            else_=_pages.last_comment_at,
        ),
        title=sa.func.coalesce(sa.func.nullif(sa.bindparam("b_title", type_=sa.String()), ""), _pages.title),
        url=sa.func.coalesce(
            sa.func.nullif(_pages.url, ""), sa.bindparam("b_url", type_=sa.String()), _pages.url
        ),
    )
    .returning(_pages.id)
)


def page_key(ref: str) -> str:
    """Validate a page reference (URL, path or explicit id) and return its key."""
    return _known_key(ref) if type(ref) is str else _page_key(ref)


def _page_key(ref: str) -> str:
    ref = check.required_text("page", ref, max_length=check.MAX_URL)
    if "\n" in ref or "\r" in ref:
        raise InvalidInput("page", "must be a single line")
    return normalise_page_key(ref)


# Hot pages are asked for again and again (every thread read, every listing's counts): each
# reference is checked and normalised once; a refused one raises again, as nothing is kept.
_known_key = functools.lru_cache(maxsize=1024)(_page_key)


def find_page(session: Session, site: Site, ref: str) -> Page | None:
    """The page ``ref`` names on ``site``, or None when nobody has engaged with it yet."""
    return session.scalars(_PAGE_BY_KEY, {"site_id": site.id, "key": page_key(ref)}).one_or_none()


def ensure_page(uow: UnitOfWork, site: Site, ref: str, title: str | None = None) -> Page:
    """The page, created if new; runs inside the caller's transaction and never commits.

    Two first comments on a new page race to create it: INSERT … ON CONFLICT DO NOTHING
    lets both succeed and read the same row, where a plain INSERT fails one of them.
    """
    key = page_key(ref)
    title = check.single_line("page_title", title, max_length=check.MAX_TITLE, required=False)
    url = clean_url(ref)
    found = {"site_id": site.id, "key": key}
    page = uow.session.scalars(_PAGE_BY_KEY, found).one_or_none()
    if page is None:
        _create(uow, site.id, key, url, title)
        page = uow.session.scalars(_PAGE_BY_KEY, found).one()
    if title and page.title != title:
        page.title = title
    if url and not page.url:
        page.url = url
    return page


def claim_page(uow: UnitOfWork, site_id: int, ref: str, title: str | None, *, published: bool) -> int:
    """The id of a new comment's page, created if new, as :func:`ensure_page` would leave it;
    counts the comment when ``published`` (a write, so the page's row is locked until commit).

    One statement for a page that exists; a new one is created as ensure_page does.
    """
    params = claim_params(uow, site_id, ref, title, published=published)
    page_id = uow.session.execute(CLAIM, params, execution_options={"synchronize_session": False}).scalar()
    if page_id is None:
        create_claimed(uow, params)
        page_id = uow.session.execute(
            CLAIM, params, execution_options={"synchronize_session": False}
        ).scalar_one()
    return int(page_id)


def claim_params(
    uow: UnitOfWork, site_id: int, ref: str, title: str | None, *, published: bool
) -> dict[str, Any]:
    """The bound values of :data:`CLAIM` for a new comment on the page ``ref``."""
    return {
        "b_site": site_id,
        "b_key": page_key(ref),
        "added": int(published),
        "now": uow.now(),
        "b_title": check.single_line("page_title", title, max_length=check.MAX_TITLE, required=False),
        "b_url": clean_url(ref),
    }


def create_claimed(uow: UnitOfWork, params: dict[str, Any]) -> None:
    """Create the page :data:`CLAIM` found missing, for the claim to run again."""
    _create(uow, params["b_site"], params["b_key"], params["b_url"], params["b_title"])


def _create(uow: UnitOfWork, site_id: int, key: str, url: str | None, title: str | None) -> None:
    """INSERT … ON CONFLICT DO NOTHING: two first comments on a new page both succeed."""
    insert_ignoring_conflict(
        uow.session,
        Page.__table__,  # type: ignore[arg-type]
        {
            "site_id": site_id,
            "key": key,
            "url": url,
            "title": title,
            "created_at": uow.now(),
            "comment_count": 0,
        },
        ["site_id", "key"],
    )
