"""What the server-rendered thread pages share: links, dates and the headers that let a site frame them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import urlencode

from fastapi import Request

from engagement.i18n.formatting import when
from engagement.services.discussion.permalinks import comment_url
from engagement.services.discussion.public import CommentView
from engagement.web.cors import SiteOrigins

# An origin as a CSP source expression takes it: anything else in a site's list is left out.
CSP_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
# The no-JS page: our stylesheet, forms back to us, no script at all, framed by the site alone.
EMBED_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors {ancestors}"
)


@dataclass(frozen=True)
class ThreadLinks:
    """The links a rendered comment carries: its permalink, its date, maybe a reply link."""

    page_url: str | None
    reply_href: Callable[[int], str] | None = None
    more_href: Callable[[CommentView], str] | None = None
    locale: str = "en"

    def permalink(self, comment_id: int) -> str:
        return comment_url(self.page_url or "", comment_id)

    @property
    def reply(self) -> Callable[[int], str] | None:
        return self.reply_href

    def more(self, view: CommentView) -> str:
        """Where a comment's replies beyond a thread page's go on: our page of them, or the article."""
        return self.more_href(view) if self.more_href else self.permalink(view.id)

    def date(self, iso: str) -> str:
        """``6 Dec 2026, 21:10 UTC`` as the page's language writes it (the API's times are UTC)."""
        return _minute(iso[:16], self.locale)


def frame_headers(request: Request, site: str) -> dict[str, str]:
    """Headers that let the site's own pages (its allowed origins) and no one else frame a page.

    ``frame-ancestors`` supersedes X-Frame-Options in browsers; the security middleware leaves
    that header out when a route sets its own ancestors. Posting back needs our Origin sent.
    """
    origins: SiteOrigins = request.app.state.origins
    allowed = sorted(o for o in origins.for_site(site) if CSP_ORIGIN.match(o))
    ancestors = " ".join(["'self'", *allowed])
    return {
        "Content-Security-Policy": EMBED_CSP.format(ancestors=ancestors),
        "Referrer-Policy": "same-origin",
    }


def query(**params: str | int | None) -> str:
    """A query string of the parameters that are set, in a stable order."""
    return urlencode({k: v for k, v in params.items() if v is not None and v != ""})


def find_comment(comments: tuple[CommentView, ...], comment_id: int) -> CommentView | None:
    """A comment shown on this page of the thread, at any depth."""
    stack = list(comments)
    while stack:
        view = stack.pop()
        if view.id == comment_id:
            return view
        stack.extend(view.replies)
    return None


@lru_cache(maxsize=8192)
def _minute(minute: str, locale: str) -> str:
    """One minute as ``locale`` writes it: Babel takes ~0.1 ms a date, and a page shows the same
    comments' minutes again and again."""
    try:
        moment = datetime.fromisoformat(minute).replace(tzinfo=UTC)
    except ValueError:
        return minute
    return when(moment, None, locale)
