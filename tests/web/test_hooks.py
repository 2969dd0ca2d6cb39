"""POST /hooks/patreon/{site}: signed member events set supporters; the API shows only a badge."""

from __future__ import annotations

import hashlib
import hmac
import json

from engagement.services.audience.supporters import list_supporters
from engagement.services.sites import SiteChanges, update_site
from web.support import table_rows

SECRET = "patreon-webhook-secret-" + "w" * 40
ARTICLE = "https://news.example.org/2026/11/article"


def event(email: str = "ann@example.org", status: str = "active_patron") -> bytes:
    attributes = {"email": email, "patron_status": status, "last_charge_date": "2026-11-01T10:00:00Z"}
    return json.dumps({"data": {"type": "member", "attributes": attributes}}).encode()


def send(client, body: bytes, *, signature: str | None = None, kind: str = "members:create", site="daily"):
    headers = {"Content-Type": "application/json", "X-Patreon-Event": kind}
    headers["X-Patreon-Signature"] = (
        signature if signature is not None else hmac.new(SECRET.encode(), body, hashlib.md5).hexdigest()
    )
    return client.post(f"/hooks/patreon/{site}", content=body, headers=headers)


def test_a_signed_event_makes_a_supporter_and_the_answer_holds_no_address(client, core, site):
    update_site(core.uow(), "daily", SiteChanges(patreon_webhook_secret=SECRET))
    answer = send(client, event())
    assert answer.status_code == 200
    assert answer.json() == {"result": "applied"}
    assert [s.email for s in list_supporters(core.uow(), "daily") if s.active] == ["ann@example.org"]


def test_refusals_change_nothing_and_name_the_reason(client, core, site):
    body = event()
    assert send(client, body).status_code == 404  # no secret set yet
    update_site(core.uow(), "daily", SiteChanges(patreon_webhook_secret=SECRET))
    before = table_rows(core)

    wrong = send(client, body, signature="0" * 32)
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "unauthenticated"
    assert send(client, body, signature="").status_code == 401
    assert send(client, b"{not json", signature=None).status_code == 400
    assert send(client, body, kind="posts:publish").status_code == 400
    assert send(client, body, site="nosuch").status_code == 404
    assert send(client, body, site="Not A Key").status_code == 422
    big = json.dumps({"data": {"attributes": {"email": "a@example.org"}}, "pad": "x" * 70_000}).encode()
    assert send(client, big).status_code == 413
    assert table_rows(core) == before
    for answer in (wrong,):
        assert "ann@example.org" not in answer.text


def test_the_thread_carries_the_badge_only_when_the_site_shows_badges(client, core, site):
    update_site(core.uow(), "daily", SiteChanges(patreon_webhook_secret=SECRET))
    send(client, event())
    posted = client.post(
        "/api/v1/comments",
        json={
            "site": "daily",
            "page": ARTICLE,
            "author": {"name": "Ann", "email": "ann@example.org"},
            "body": "Hi",
        },
    )
    assert posted.status_code == 201

    def authors() -> list[dict]:
        found = client.get("/api/v1/comments", params={"site": "daily", "page": ARTICLE}).json()
        return [c["author"] for c in found["comments"]]

    assert authors() == [{"name": "Ann", "supporter": False, "verified": False}]
    update_site(core.uow(), "daily", SiteChanges(supporter_badges=True))
    assert authors() == [{"name": "Ann", "supporter": True, "verified": False}]
