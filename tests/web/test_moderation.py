"""/m/<token>: a moderation link shows the comment; only the button's POST acts."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from engagement.models import Comment
from engagement.services.discussion.moderation import moderation_token
from engagement.services.sites import SiteChanges, update_site
from web.support import body, table_rows

ARTICLE = "https://news.example.org/2026/11/article"


@pytest.fixture
def pending(client, core):
    update_site(core.uow(), "daily", SiteChanges(moderation="all"))
    payload = {"site": "daily", "page": ARTICLE, "author": {"name": "Jane"}, "body": "Wait for **me**"}
    response = client.post("/api/v1/comments", json=payload)
    assert response.status_code == 202, response.text
    return body(response)["comment"]["id"]


def status_of(core, comment_id):
    with core.engine.connect() as conn:
        return conn.execute(sa.select(Comment.status).where(Comment.id == comment_id)).scalar_one()


@pytest.mark.parametrize(
    ("action", "status"), [("approve", "approved"), ("reject", "rejected"), ("spam", "spam")]
)
def test_the_link_shows_the_comment_and_the_button_acts(client, core, clock, pending, action, status):
    token = moderation_token(core.keys, pending, action, issued_at=clock())
    before = table_rows(core)
    page = client.get(f"/m/{token}")
    assert page.status_code == 200
    assert "<strong>me</strong>" in page.text
    assert '<form method="post">' in page.text
    assert table_rows(core) == before
    done = client.post(f"/m/{token}")
    assert done.status_code == 200
    assert status_of(core, pending) == status
    again = client.get(f"/m/{token}")
    assert "Nothing to do" in again.text
    assert client.post(f"/m/{token}").status_code == 409


def test_an_approved_comment_appears_in_the_thread(client, core, clock, pending):
    client.post(f"/m/{moderation_token(core.keys, pending, 'approve', issued_at=clock())}")
    thread = body(client.get("/api/v1/comments", params={"site": "daily", "page": ARTICLE}))
    assert [c["id"] for c in thread["comments"]] == [pending]


def test_forged_and_expired_links_change_nothing(client, core, clock, pending):
    token = moderation_token(core.keys, pending, "approve", issued_at=clock())
    before = table_rows(core)
    assert client.get("/m/forged").status_code == 403
    assert client.post("/m/forged").status_code == 403
    clock.advance(days=8)
    expired = client.post(f"/m/{token}")
    assert expired.status_code == 403
    assert "expired" in expired.text
    assert table_rows(core) == before
