"""Helpers of the HTTP adapter's tests: a client that records what it sent and received."""

from __future__ import annotations

import json
import re
import warnings

import httpx

with warnings.catch_warnings():
    # Starlette asks for httpx2, which the lock does not carry; httpx works the same here.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
ORIGIN = "https://news.example.org"


class RecordingClient(TestClient):
    """A TestClient that remembers the addresses it sent and every body it received."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sent_addresses: set[str] = set()
        self.bodies: list[tuple[str, str]] = []
        self.event_hooks = {"request": [self._record_request], "response": [self._record_response]}

    def _record_request(self, request: httpx.Request) -> None:
        if not hasattr(request, "_content"):
            return  # a streamed body: the tests that stream send no address
        sent = request.content.decode("utf-8", "replace") + str(request.url)
        self.sent_addresses.update(m.lower() for m in EMAIL.findall(sent))

    def _record_response(self, response: httpx.Response) -> None:
        response.read()
        self.bodies.append((str(response.request.url), response.text))

    def leaked(self, also: set[str] = frozenset()) -> list[str]:
        addresses = self.sent_addresses | {a.lower() for a in also}
        return [
            f"{url} returned {address}"
            for url, text in self.bodies
            for address in addresses
            if address in text.lower()
        ]


def body(response: httpx.Response) -> dict:
    return json.loads(response.content)


def table_rows(core) -> dict[str, list[tuple]]:
    """Every row of every table: equal before and after a refused request means nothing changed."""
    import sqlalchemy as sa

    from engagement.models import Base

    with core.engine.connect() as conn:
        return {
            table.name: [
                tuple(r) for r in conn.execute(sa.select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }


def make_comment(core, site, *, page: str = "https://news.example.org/2026/11/article", body: str = "Hi"):
    """An approved comment row written directly, for tests about something other than posting."""
    from engagement.models import Comment, Site
    from engagement.services.pages import ensure_page

    uow = core.uow()
    with uow:
        the_page = ensure_page(uow, uow.session.get(Site, site.id), page, "An article")
        now = uow.now()
        comment = Comment(
            page_id=the_page.id,
            path="",
            depth=0,
            author_name="Jane",
            author_email="jane@mail.example.net",
            body=body,
            html=f"<p>{body}</p>",
            status="approved",
            created_at=now,
            published_at=now,
            score=0,
            reply_count=0,
        )
        uow.session.add(comment)
        uow.session.flush()
        comment.thread_id = comment.id
        the_page.comment_count += 1
        uow.commit()
        return comment
