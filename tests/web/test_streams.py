"""GET /api/v1/stream: a page's live thread, read from a real uvicorn as a browser would."""

from __future__ import annotations

import time

import httpx
import pytest

from engagement.config import Settings
from engagement.errors import Conflict
from engagement.services.admin.admins import add_admin
from engagement.services.discussion.moderation import mark_spam, moderation_token
from engagement.services.sites import SiteChanges, update_site
from engagement.web import create_app
from web.streaming import open_stream, served
from web.test_admin import PASSWORD, Admin

ARTICLE = "https://news.example.org/2026/11/article"
READER = "reader-0123456789"


def post(base: str, body: str, parent: int | None = None, page: str = ARTICLE) -> httpx.Response:
    payload = {"site": "daily", "page": page, "author": {"name": "Jane"}, "body": body}
    if parent is not None:
        payload["parent"] = parent
    return httpx.post(
        f"{base}/api/v1/comments", json=payload, headers={"X-Engagement-Reader": READER}, timeout=10
    )


@pytest.fixture
def base(app, site):
    with served(app) as url:
        yield url


@pytest.fixture
def first(base) -> int:
    """A first comment: the page exists, so a stream may watch it."""
    response = post(base, "First")
    assert response.status_code == 201, response.text
    return response.json()["comment"]["id"]


def test_a_published_comment_and_a_reply_reach_an_open_stream(base, first):
    with open_stream(base, "daily", ARTICLE) as stream:
        reply = post(base, "A reply", parent=first).json()["comment"]["id"]
        top = post(base, "Another").json()["comment"]["id"]
        assert stream.next_of("comment").data == {"id": reply, "parent": first}
        event = stream.next_of("comment")
        assert event.data == {"id": top, "parent": None}
        assert event.id is not None
        assert stream.retry == 5000


def test_the_stream_is_the_pages_own(base, first):
    assert post(base, "Elsewhere", page="https://news.example.org/other").status_code == 201
    with open_stream(base, "daily", ARTICLE) as stream:
        post(base, "Elsewhere again", page="https://news.example.org/other")
        mine = post(base, "Here").json()["comment"]["id"]
        assert stream.next_of("comment").data["id"] == mine


def test_a_reaction_sends_the_new_tallies(base, first):
    with open_stream(base, "daily", ARTICLE) as stream:
        response = httpx.put(
            f"{base}/api/v1/reactions",
            json={"site": "daily", "page": ARTICLE, "reaction": "like"},
            headers={"X-Engagement-Reader": READER},
        )
        assert response.status_code == 200, response.text
        counts = stream.next_of("counts").data
        assert counts["reactions"]["like"] == 1
        assert set(counts) == {"reactions"}


def test_a_held_comment_shows_only_once_approved(base, core, clock, first):
    update_site(core.uow(), "daily", SiteChanges(moderation="all"))
    with open_stream(base, "daily", ARTICLE) as stream:
        held = post(base, "Wait for me")
        assert held.status_code == 202
        held_id = held.json()["comment"]["id"]
        token = moderation_token(core.keys, held_id, "approve", issued_at=clock())
        assert httpx.post(f"{base}/m/{token}", timeout=10).status_code == 200
        # The first comment event is the approval's: holding it announced nothing.
        assert stream.next_of("comment").data == {"id": held_id, "parent": None}


def test_a_published_comment_removed_by_a_moderator_leaves_the_stream(base, core, first):
    with open_stream(base, "daily", ARTICLE) as stream:
        mark_spam(core.uow(), first)
        assert stream.next_of("removed").data == {"id": first}
        # Marking it again changes nothing and announces nothing before the next comment.
        with pytest.raises(Conflict):
            mark_spam(core.uow(), first)
        later = post(base, "After the spam").json()["comment"]["id"]
        assert stream.next_event().data == {"id": later, "parent": None}


def test_an_approval_in_the_admin_reaches_the_stream(base, core, first):
    add_admin(core.uow(), "owner@example.org", "owner", password=PASSWORD)
    update_site(core.uow(), "daily", SiteChanges(moderation="all"))
    with httpx.Client(base_url=base, timeout=10) as http, open_stream(base, "daily", ARTICLE) as stream:
        admin = Admin(http)
        admin.origin = base
        assert admin.sign_in("owner@example.org").status_code == 303
        held = post(base, "Held for the admin").json()["comment"]["id"]
        assert admin.post("/admin/queue", [("act", f"approve:{held}")]).status_code == 303
        assert stream.next_of("comment").data == {"id": held, "parent": None}


def test_a_stream_resumes_from_its_last_event(base, first):
    with open_stream(base, "daily", ARTICLE) as stream:
        seen = post(base, "Seen").json()["comment"]["id"]
        last = stream.next_of("comment")
        assert last.data["id"] == seen
    missed = post(base, "Missed while away").json()["comment"]["id"]
    with open_stream(base, "daily", ARTICLE, **{"Last-Event-ID": last.id or ""}) as stream:
        replayed = [stream.next_of("comment").data["id"]]
        while replayed[-1] != missed:
            replayed.append(stream.next_of("comment").data["id"])
    # The replay goes back a few seconds further (commits land out of clock order); the widget
    # skips what it shows. This test's clock stands still, so that is every comment.
    assert set(replayed) <= {first, seen, missed}


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"site": "daily", "page": "https://news.example.org/never-seen"}, 404),
        ({"site": "nosuch", "page": ARTICLE}, 404),
        ({"page": ARTICLE}, 422),
        ({"site": "daily"}, 422),
        ({"site": "bad key!", "page": ARTICLE}, 422),
    ],
)
def test_bad_stream_requests_get_a_reason(base, first, params, status):
    response = httpx.get(f"{base}/api/v1/stream", params=params, timeout=10)
    assert response.status_code == status, response.text
    assert response.json()["reason"]


def test_over_the_cap_a_stream_is_refused_with_retry_after(core, site):
    settings: Settings = core.settings.model_copy(update={"stream_max_connections": 1})
    with served(create_app(settings, core)) as base:
        assert post(base, "First").status_code == 201
        with open_stream(base, "daily", ARTICLE):
            refused = httpx.get(
                f"{base}/api/v1/stream", params={"site": "daily", "page": ARTICLE}, timeout=10
            )
            assert refused.status_code == 503
            assert int(refused.headers["Retry-After"]) > 0
            assert refused.json()["code"] == "streams_full"
        # Closed streams leave room again.
        with open_stream(base, "daily", ARTICLE):
            pass


def test_open_streams_are_counted_on_metrics(base, first):
    def open_streams() -> float:
        text = httpx.get(f"{base}/metrics", timeout=10).text
        return next(
            float(line.split()[-1])
            for line in text.splitlines()
            if line.startswith("engagement_live_streams ")
        )

    before = open_streams()
    with open_stream(base, "daily", ARTICLE), open_stream(base, "daily", ARTICLE):
        assert open_streams() == before + 2
    deadline = time.monotonic() + 10
    while open_streams() != before and time.monotonic() < deadline:  # the server sees the close
        time.sleep(0.05)
    assert open_streams() == before
