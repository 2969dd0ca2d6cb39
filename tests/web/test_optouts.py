"""The unsubscribe page behind a moderation request's and an approval notice's one-click link."""

from __future__ import annotations

import sqlalchemy as sa

from engagement import links
from engagement.models import Site, Subscriber

ONE_CLICK = {
    "content": b"List-Unsubscribe=One-Click",
    "headers": {"content-type": "application/x-www-form-urlencoded"},
}


def moderators(core) -> list[str]:
    with core.engine.connect() as conn:
        return list(conn.execute(sa.select(Site.moderator_emails).where(Site.key == "daily")).scalar_one())


def approval_off(core, email: str) -> list[bool]:
    with core.engine.connect() as conn:
        stmt = sa.select(Subscriber.approval_notices_off_at).where(Subscriber.email == email)
        return [value is not None for value in conn.execute(stmt).scalars()]


def test_a_moderator_link_shows_a_button_and_the_post_stops_moderation_mails(client, core, site):
    token = links.moderator_optout_token(core.keys, site.id, "mod@example.org")

    page = client.get(f"/s/unsubscribe/{token}")
    assert page.status_code == 200
    assert '<form method="post">' in page.text
    assert moderators(core) == ["mod@example.org"]  # a scanner opening the link changes nothing

    done = client.post(f"/s/unsubscribe/{token}", **ONE_CLICK)
    assert done.status_code == 200
    assert "will receive no more of these mails from The Daily Example" in done.text
    assert moderators(core) == []

    again = client.post(f"/s/unsubscribe/{token}", **ONE_CLICK)
    assert again.status_code == 200
    assert "Nothing was left to stop" in again.text
    assert moderators(core) == []


def test_an_author_link_shows_a_button_and_the_post_stops_approval_notices(client, core, site):
    token = links.approval_optout_token(core.keys, site.id, "jane@example.org")

    page = client.get(f"/s/unsubscribe/{token}")
    assert page.status_code == 200
    assert '<form method="post">' in page.text
    assert approval_off(core, "jane@example.org") == []

    done = client.post(f"/s/unsubscribe/{token}", files={"List-Unsubscribe": (None, "One-Click")})
    assert done.status_code == 200
    assert "will receive no more of these mails" in done.text
    assert approval_off(core, "jane@example.org") == [True]

    again = client.post(f"/s/unsubscribe/{token}", **ONE_CLICK)
    assert "Nothing was left to stop" in again.text
    assert approval_off(core, "jane@example.org") == [True]


def test_an_opt_out_token_does_nothing_else(client, core, site):
    token = links.moderator_optout_token(core.keys, site.id, "mod@example.org")
    for path in (f"/s/confirm/{token}", f"/s/preferences/{token}", f"/m/{token}"):
        assert client.post(path).status_code in (403, 405), path
    assert moderators(core) == ["mod@example.org"]
