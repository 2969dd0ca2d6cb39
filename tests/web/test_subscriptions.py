"""POST /api/v1/subscriptions and the subscriber pages: confirm, one-click unsubscribe, preferences."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from engagement import links
from engagement.core import build_core
from engagement.models import OutboxEvent, Subscriber, Subscription
from engagement.web import create_app
from web.support import RecordingClient, body, table_rows

ARTICLE = "https://news.example.org/2026/11/article"
ADDRESS = "reader@mail.example.net"


def subscribe(client, **changes):
    payload = {"site": "daily", "email": ADDRESS, "kind": "thread", "page": ARTICLE} | changes
    return client.post("/api/v1/subscriptions", json=payload)


def subscriber_id(core) -> int:
    with core.engine.connect() as conn:
        return conn.execute(sa.select(Subscriber.id).where(Subscriber.email == ADDRESS)).scalar_one()


def subscriptions(core) -> list[tuple[str, str | None]]:
    with core.engine.connect() as conn:
        rows = conn.execute(sa.select(Subscription.kind, Subscription.cadence).order_by(Subscription.id))
        return [tuple(r) for r in rows]


def test_subscribing_answers_202_and_asks_for_confirmation_once(client, core):
    first = subscribe(client)
    assert first.status_code == 202
    assert body(first)["status"] == "accepted"
    again = subscribe(client)
    assert again.status_code == 202
    assert again.content == first.content
    assert subscriptions(core) == [("thread", None)]
    with core.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(OutboxEvent)).scalar_one() == 1


def test_a_confirmed_address_gets_the_same_answer(client, core, clock):
    subscribe(client)
    uow = core.uow()
    with uow:
        uow.session.get(Subscriber, subscriber_id(core)).confirmed_at = clock()
        uow.commit()
    known = subscribe(client, kind="digest", page=None, cadence="daily")
    unknown = subscribe(client, email="stranger@mail.example.net", kind="digest", page=None, cadence="daily")
    assert (
        (known.status_code, known.content) == (unknown.status_code, unknown.content) == (202, known.content)
    )
    assert ("digest", "daily") in subscriptions(core)


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"email": "not-an-address"}, 422, "email"),
        ({"email": 42}, 422, "email"),
        ({"kind": "replies"}, 422, "kind"),
        ({"kind": "thread", "page": None}, 422, "page"),
        ({"kind": "digest", "cadence": "hourly"}, 422, "cadence"),
        ({"site": "nope"}, 404, None),
        ({"unexpected": True}, 422, "unexpected"),
        ({"page": "x" * 2001}, 422, "page"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(client, core, changes, status, field):
    before = table_rows(core)
    response = subscribe(client, **changes)
    assert response.status_code == status, response.text
    error = body(response)
    assert error["reason"]
    if field:
        assert error["field"] == field
    assert table_rows(core) == before


def test_a_body_that_is_not_json_is_400(client, core):
    before = table_rows(core)
    response = client.post(
        "/api/v1/subscriptions", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert body(response)["code"] == "malformed"
    assert table_rows(core) == before


def test_too_many_requests_is_429_with_retry_after(core, site):
    settings = core.settings.model_copy(
        update={"rate_limits_enabled": True, "subscribe_rate_limit": "2/minute"}
    )
    limited = build_core(settings, clock=core.clock)
    try:
        with RecordingClient(create_app(settings, limited)) as client:
            assert [subscribe(client).status_code for _ in range(2)] == [202, 202]
            refused = subscribe(client)
    finally:
        limited.dispose()
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert body(refused)["code"] == "rate_limited"


def test_confirm_link_shows_a_button_and_only_the_post_confirms(client, core):
    subscribe(client)
    token = links.confirm_token(core.keys, subscriber_id(core))
    page = client.get(f"/s/confirm/{token}")
    assert page.status_code == 200
    assert '<form method="post">' in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    with core.engine.connect() as conn:
        assert conn.execute(sa.select(Subscriber.confirmed_at)).scalar_one() is None
    done = client.post(f"/s/confirm/{token}")
    assert done.status_code == 200
    assert "Subscription confirmed" in done.text
    assert ADDRESS not in done.text
    assert "r***@mail.example.net" in done.text
    with core.engine.connect() as conn:
        assert conn.execute(sa.select(Subscriber.confirmed_at)).scalar_one() is not None
    preferences = re.search(r'href="(/s/preferences/[^"]+)"', done.text).group(1)
    assert client.get(preferences).status_code == 200


def test_a_forged_or_misused_token_gets_an_error_page(client, core):
    subscribe(client)
    before = table_rows(core)
    unsubscribe = links.unsubscribe_token(core.keys, subscriber_id(core))
    for path in ("/s/confirm/forged", f"/s/confirm/{unsubscribe}", "/s/unsubscribe/forged"):
        response = client.post(path)
        assert response.status_code == 403, path
        assert "This link cannot be used" in response.text
    assert client.get("/s/preferences/forged").status_code == 403
    assert table_rows(core) == before


def test_one_click_unsubscribe_accepts_the_rfc_8058_post(client, core):
    subscribe(client)
    token = links.unsubscribe_token(core.keys, subscriber_id(core))
    page = client.get(f"/s/unsubscribe/{token}")
    assert page.status_code == 200
    assert subscriptions(core) == [("thread", None)]
    done = client.post(
        f"/s/unsubscribe/{token}",
        content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200
    assert "You are unsubscribed" in done.text
    assert subscriptions(core) == []


def test_one_click_unsubscribe_accepts_a_multipart_body(client, core):
    subscribe(client)
    token = links.unsubscribe_token(core.keys, subscriber_id(core))
    done = client.post(f"/s/unsubscribe/{token}", files={"List-Unsubscribe": (None, "One-Click")})
    assert done.status_code == 200
    assert subscriptions(core) == []


def test_preferences_set_the_digest_and_stop_one_line(client, core):
    subscribe(client)
    subscribe(client, kind="digest", page=None, cadence="weekly")
    token = links.preferences_token(core.keys, subscriber_id(core))
    page = client.get(f"/s/preferences/{token}")
    assert page.status_code == 200
    assert 'value="weekly" checked' in page.text
    assert ADDRESS not in page.text

    saved = client.post(f"/s/preferences/{token}", data={"cadence": "daily"}, follow_redirects=False)
    assert saved.status_code == 303
    assert client.get(saved.headers["location"]).text.count('value="daily" checked') == 1
    assert ("digest", "daily") in subscriptions(core)

    stop = re.search(r'action="(/s/unsubscribe/[^"]+)"', client.get(f"/s/preferences/{token}").text).group(1)
    removed = client.post(stop, data={"preferences": token}, follow_redirects=False)
    assert removed.status_code == 303
    assert subscriptions(core) == [("digest", "daily")]

    off = client.post(f"/s/preferences/{token}", data={"cadence": "off"})
    assert off.status_code == 200
    assert subscriptions(core) == []


def test_preferences_refuse_an_unknown_cadence(client, core):
    subscribe(client, kind="digest", page=None)
    token = links.preferences_token(core.keys, subscriber_id(core))
    before = table_rows(core)
    response = client.post(f"/s/preferences/{token}", data={"cadence": "hourly"})
    assert response.status_code == 422
    assert table_rows(core) == before


def test_the_pages_behind_forged_links_say_so_before_any_button(client):
    for path in ("/s/confirm/forged", "/s/unsubscribe/forged"):
        page = client.get(path)
        assert page.status_code == 403
        assert "This link cannot be used" in page.text
        assert "<form" not in page.text
