"""Sign-in from the publisher's site: tokens PyJWT signs, in every good and bad shape, over HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import jwt
import pytest
import sqlalchemy as sa

from engagement.models import Comment, OutboxEvent, Reaction, Subscriber, Vote
from engagement.outbox import CONFIRMATION_REQUESTED, SUBSCRIPTION_CONFIRMED
from engagement.services.audience.privacy import erase_address
from engagement.services.sites import SiteChanges, add_site, update_site
from web.support import body, table_rows

ARTICLE = "https://news.example.org/2026/11/article"
SECRET = "s3cret-of-the-daily-example-0123456789-abcdefghijklmnopqrstuvwxyz-0123"
OTHER_SECRET = "another-site-s3cret-0123456789-abcdefghijklm"
ADDRESS = "ann.reader@mail.example.net"
READER = {"X-Engagement-Reader": "browser-one-0123456789"}
SECOND_BROWSER = {"X-Engagement-Reader": "browser-two-abcdefghij"}


@pytest.fixture
def sso_site(core, site):
    update_site(core.uow(), "daily", SiteChanges(sso_secret=SECRET))
    return site


def claims(clock, **changes):
    now = clock if isinstance(clock, int) else int(clock().timestamp())
    base = {"sub": "user-42", "name": "Ann Reader", "iat": now, "exp": now + 3600}
    return {k: v for k, v in (base | changes).items() if v is not None}


def token(clock, secret=SECRET, algorithm="HS256", headers=None, **changes):
    return jwt.encode(claims(clock, **changes), secret, algorithm=algorithm, headers=headers)


def signed(value, reader=READER):
    return reader | {"X-Engagement-SSO": value}


def post(client, headers, **changes):
    payload = {"site": "daily", "page": ARTICLE, "body": "Signed in, I say so."} | changes
    return client.post("/api/v1/comments", json=payload, headers=headers)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(clock) -> str:
    """``alg: none``: PyJWT makes it, with an empty signature."""
    return jwt.encode(claims(clock), None, algorithm="none")


def _bad_tokens(clock):
    hour = 3600
    now = clock if isinstance(clock, int) else int(clock().timestamp())
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    not_json = f"{header}.{_b64(b'[1, 2')}"
    not_json += "." + _b64(hmac.new(SECRET.encode(), not_json.encode(), hashlib.sha256).digest())
    return {
        "bad signature": (token(clock, secret=OTHER_SECRET), "signature"),
        "tampered claims": (_tamper(token(clock)), "signature"),
        "another algorithm": (token(clock, algorithm="HS512"), "HS256"),
        "alg none": (unsigned(clock), "HS256"),
        "expired": (token(clock, iat=now - 2 * hour, exp=now - 61), "expired"),
        "issued in the future": (token(clock, iat=now + 120, exp=now + hour), "not valid yet"),
        "not before": (token(clock, nbf=now + 120), "not valid yet"),
        "no exp": (token(clock, exp=None), "'exp'"),
        "no iat": (token(clock, iat=None), "'iat'"),
        "exp as text": (token(clock, exp="tomorrow"), "'exp'"),
        "lives too long": (token(clock, exp=now + 25 * hour), "24 hours"),
        "no sub": (token(clock, sub=None), "'sub'"),
        "sub not a string": (token(clock, sub=42), "'sub'"),
        "sub too long": (token(clock, sub="x" * 201), "'sub'"),
        "no name": (token(clock, name=None), "'name'"),
        "name too long": (token(clock, name="n" * 101), "'name'"),
        "name on two lines": (token(clock, name="Ann\nBcc: x"), "'name'"),
        "bad email": (token(clock, email="not-an-address"), "'email'"),
        "http avatar": (token(clock, avatar="http://cdn.example.org/a.png"), "https"),
        "supporter not a bool": (token(clock, supporter="yes"), "'supporter'"),
        "another audience": (token(clock, aud="weekly"), "another site"),
        "not a jwt": ("not-a-token", "malformed"),
        "two parts": ("abc.def", "malformed"),
        "garbage header": ("%%%.abc.def", "malformed"),
        "claims not json": (not_json, "malformed"),
        "empty": ("", "malformed"),
        "huge": ("a." + "b" * 5000 + ".c", "malformed"),
    }


def _tamper(value: str) -> str:
    head, payload, signature = value.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["sub"] = "admin"
    return f"{head}.{_b64(json.dumps(data).encode())}.{signature}"


BAD_SHAPES = list(_bad_tokens(0))


@pytest.mark.parametrize("shape", BAD_SHAPES)
def test_a_bad_token_is_401_with_its_reason_and_stores_nothing(client, core, clock, sso_site, shape):
    value, reason = _bad_tokens(clock)[shape]
    before = table_rows(core)
    answers = [
        post(client, signed(value)),
        client.get("/api/v1/me", params={"site": "daily"}, headers=signed(value)),
        client.get("/api/v1/comments", params={"site": "daily", "page": ARTICLE}, headers=signed(value)),
        client.put(
            "/api/v1/reactions",
            json={"site": "daily", "page": ARTICLE, "reaction": "like"},
            headers=signed(value),
        ),
    ]
    for answer in answers:
        assert answer.status_code == 401, (shape, answer.request.url, answer.text)
        assert body(answer)["code"] == "unauthenticated"
        assert reason in body(answer)["reason"], body(answer)
        assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert table_rows(core) == before


def test_a_token_signed_for_another_site_is_refused(client, core, clock, sso_site):
    add_site(core.uow(), "weekly", SiteChanges(name="The Weekly", sso_secret=OTHER_SECRET))
    for_weekly = token(clock, secret=OTHER_SECRET)
    assert client.get("/api/v1/me", params={"site": "weekly"}, headers=signed(for_weekly)).status_code == 200
    before = table_rows(core)
    answer = post(client, signed(for_weekly))
    assert answer.status_code == 401
    assert "signature" in body(answer)["reason"]
    assert table_rows(core) == before


def test_a_site_without_a_secret_refuses_tokens(client, core, clock, site):
    answer = post(client, signed(token(clock)))
    assert answer.status_code == 401
    assert "does not accept sign-in tokens" in body(answer)["reason"]


def test_leeway_of_a_minute_either_way(client, clock, sso_site):
    now = int(clock().timestamp())
    just_expired = token(clock, iat=now - 3600, exp=now - 50)
    slightly_ahead = token(clock, iat=now + 50, exp=now + 3600)
    for value in (just_expired, slightly_ahead):
        assert client.get("/api/v1/me", params={"site": "daily"}, headers=signed(value)).status_code == 200


def test_me_says_who_is_signed_in_and_never_the_address(client, clock, sso_site):
    guest = client.get("/api/v1/me", params={"site": "daily"}, headers=READER)
    assert body(guest) == {
        "signed_in": False,
        "name": None,
        "verified": False,
        "supporter": False,
        "editable": [],
    }
    value = token(
        clock, email=ADDRESS, email_verified=True, supporter=True, avatar="https://cdn.example.org/a.png"
    )
    me = client.get("/api/v1/me", params={"site": "daily"}, headers=signed(value))
    assert body(me) == {
        "signed_in": True,
        "name": "Ann Reader",
        "verified": True,
        "supporter": True,
        "editable": [],
    }
    assert me.headers["Cache-Control"] == "no-store"
    assert ADDRESS not in me.text


def test_a_signed_in_reader_comments_without_name_or_address(client, core, clock, sso_site):
    answer = post(client, signed(token(clock, email=ADDRESS)))
    assert answer.status_code == 201, answer.text
    comment = body(answer)["comment"]
    assert comment["author"] == {"name": "Ann Reader", "supporter": False, "verified": True}
    thread = client.get("/api/v1/comments", params={"site": "daily", "page": ARTICLE}, headers=READER)
    assert body(thread)["comments"][0]["author"]["verified"] is True
    context = client.get(
        f"/api/v1/comments/{comment['id']}/context", params={"site": "daily", "page": ARTICLE}
    )
    assert body(context)["comment"]["author"]["verified"] is True
    assert ADDRESS not in thread.text + answer.text + context.text
    with core.engine.connect() as conn:
        row = conn.execute(sa.select(Comment.author_email, Comment.author_verified)).one()
    assert row == (ADDRESS, True)  # stored, like any commenter's address, never returned


def test_the_tokens_name_wins_over_a_forms(client, clock, sso_site):
    answer = post(client, signed(token(clock)), author={"name": "Someone Else", "email": "x@example.org"})
    assert body(answer)["comment"]["author"]["name"] == "Ann Reader"


def test_a_guest_still_needs_a_name(client, sso_site):
    answer = post(client, READER)
    assert answer.status_code == 422
    assert body(answer)["field"] == "author_name"


def test_edits_and_deletes_from_a_second_device_with_the_same_subject(client, clock, sso_site):
    posted = body(post(client, signed(token(clock))))["comment"]
    url = f"/api/v1/comments/{posted['id']}"
    # Another browser, another token (issued later), the same user on the publisher's site.
    clock.advance(minutes=1)
    later = token(clock)
    edited = client.patch(url, json={"body": "Edited elsewhere."}, headers=signed(later, SECOND_BROWSER))
    assert edited.status_code == 200, edited.text
    assert "Edited elsewhere." in body(edited)["comment"]["html"]
    someone_else = client.patch(url, json={"body": "Mine now"}, headers=signed(token(clock, sub="user-7")))
    assert someone_else.status_code == 403
    guest = client.patch(url, json={"body": "Mine now"}, headers=READER)
    assert guest.status_code == 401
    clock.advance(minutes=20)  # past the site's 15-minute window
    closed = client.delete(url, headers=signed(token(clock), SECOND_BROWSER))
    assert closed.status_code == 403
    assert body(closed)["code"] == "edit_window_closed"


def test_delete_by_the_signed_in_author(client, clock, sso_site):
    posted = body(post(client, signed(token(clock))))["comment"]
    gone = client.delete(f"/api/v1/comments/{posted['id']}", headers=signed(token(clock), SECOND_BROWSER))
    assert gone.status_code == 204


def test_a_guests_comment_cannot_be_taken_over_by_signing_in(client, clock, sso_site):
    guest = body(post(client, READER, author={"name": "Guest"}))["comment"]
    answer = client.patch(
        f"/api/v1/comments/{guest['id']}", json={"body": "taken"}, headers=signed(token(clock))
    )
    assert answer.status_code == 403


def test_votes_and_reactions_follow_the_reader_across_devices(client, core, clock, sso_site):
    other = body(post(client, READER, author={"name": "Guest"}))["comment"]
    vote_url = f"/api/v1/comments/{other['id']}/vote"
    first = client.put(vote_url, json={"value": 1}, headers=signed(token(clock), READER))
    assert body(first) == {"score": 1, "my_vote": 1}
    second = client.put(vote_url, json={"value": 1}, headers=signed(token(clock), SECOND_BROWSER))
    assert body(second) == {"score": 1, "my_vote": 1}
    thread = client.get(
        "/api/v1/comments",
        params={"site": "daily", "page": ARTICLE},
        headers=signed(token(clock), SECOND_BROWSER),
    )
    assert body(thread)["comments"][0]["my_vote"] == 1
    reaction = {"site": "daily", "page": ARTICLE, "reaction": "wow"}
    client.put("/api/v1/reactions", json=reaction, headers=signed(token(clock), READER))
    again = client.put(
        "/api/v1/reactions",
        json=reaction | {"reaction": "love"},
        headers=signed(token(clock), SECOND_BROWSER),
    )
    assert body(again)["reactions"]["wow"] == 0
    assert body(again)["reactions"]["love"] == 1
    with core.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Vote)).scalar_one() == 1
        assert conn.execute(sa.select(sa.func.count()).select_from(Reaction)).scalar_one() == 1


def _confirmations(core, kind: str = CONFIRMATION_REQUESTED) -> int:
    with core.engine.connect() as conn:
        found = sa.select(sa.func.count()).where(OutboxEvent.kind == kind)
        return conn.execute(found.select_from(OutboxEvent)).scalar_one()


@pytest.mark.parametrize(
    ("verified", "mailed"), [(True, 0), (False, 1), (None, 1)], ids=["verified", "unverified", "unsaid"]
)
def test_notify_skips_the_confirmation_only_for_a_verified_address(
    client, core, clock, sso_site, verified, mailed
):
    answer = post(client, signed(token(clock, email=ADDRESS, email_verified=verified)), notify="all")
    assert answer.status_code == 201, answer.text
    assert body(answer)["confirmation_needed"] is (mailed == 1)
    assert _confirmations(core) == mailed
    assert _confirmations(core, SUBSCRIPTION_CONFIRMED) == 1 - mailed  # a webhook hears of it either way
    with core.engine.connect() as conn:
        confirmed = conn.execute(sa.select(Subscriber.confirmed_at)).scalar_one()
    assert (confirmed is not None) is (mailed == 0)


def test_notify_without_an_address_in_the_token_is_refused(client, core, clock, sso_site):
    before = table_rows(core)
    answer = post(client, signed(token(clock)), notify="all")
    assert answer.status_code == 422
    assert body(answer)["field"] == "notify"
    assert table_rows(core) == before


def test_supporter_badge_from_the_token_only_where_the_site_shows_badges(client, core, clock, sso_site):
    quiet = body(post(client, signed(token(clock, supporter=True))))["comment"]
    assert quiet["author"]["supporter"] is False
    update_site(core.uow(), "daily", SiteChanges(supporter_badges=True))
    shown = body(post(client, signed(token(clock, supporter=True))))["comment"]
    assert shown["author"]["supporter"] is True
    thread = body(client.get("/api/v1/comments", params={"site": "daily", "page": ARTICLE}))
    # Turning badges on marks the earlier comment too, turning them off clears both.
    assert [c["author"]["supporter"] for c in thread["comments"]] == [True, True]
    update_site(core.uow(), "daily", SiteChanges(supporter_badges=False))
    thread = body(client.get("/api/v1/comments", params={"site": "daily", "page": ARTICLE}))
    assert [c["author"]["supporter"] for c in thread["comments"]] == [False, False]


def test_sign_in_required_refuses_guests_writes_with_a_reason(client, core, clock, sso_site):
    posted = body(post(client, signed(token(clock))))["comment"]
    update_site(
        core.uow(), "daily", SiteChanges(sso_required=True, sso_login_url="https://news.example.org/login")
    )
    before = table_rows(core)
    writes = [
        post(client, READER, author={"name": "Guest"}),
        client.put(f"/api/v1/comments/{posted['id']}/vote", json={"value": 1}, headers=READER),
        client.put(
            "/api/v1/reactions", json={"site": "daily", "page": ARTICLE, "reaction": "like"}, headers=READER
        ),
        client.post(f"/api/v1/comments/{posted['id']}/report", json={"reason": "spam"}, headers=READER),
    ]
    for answer in writes:
        assert answer.status_code == 401, answer.text
        assert body(answer)["code"] == "sign_in_required"
    assert table_rows(core) == before
    # Reading stays open, and the widget learns where "Sign in" goes.
    assert client.get("/api/v1/comments", params={"site": "daily", "page": ARTICLE}).status_code == 200
    settings = body(client.get("/api/v1/sites/daily"))
    assert settings["sign_in"] == {
        "enabled": True,
        "required": True,
        "login_url": "https://news.example.org/login",
    }
    assert SECRET not in json.dumps(settings)
    assert post(client, signed(token(clock))).status_code == 201


def test_erasing_the_address_erases_the_signed_in_readers_data(client, core, clock, sso_site):
    with_address = token(clock, email=ADDRESS)
    without = token(clock)  # the same subject, a token that carried no address
    mine = body(post(client, signed(with_address)))["comment"]
    body(post(client, signed(without), body="No address in this token"))
    guest = body(post(client, SECOND_BROWSER, author={"name": "Guest"}))["comment"]
    client.put(f"/api/v1/comments/{guest['id']}/vote", json={"value": 1}, headers=signed(without))
    client.put(
        "/api/v1/reactions",
        json={"site": "daily", "page": ARTICLE, "reaction": "like"},
        headers=signed(without),
    )
    report = erase_address(core.uow(), ADDRESS)
    assert report.counts["comments"] == 2
    assert report.counts["votes"] == 1
    assert report.counts["reactions"] == 1
    with core.engine.connect() as conn:
        rows = conn.execute(
            sa.select(Comment.id, Comment.author_name, Comment.author_reader, Comment.score)
        ).all()
    by_id = {row.id: row for row in rows}
    assert by_id[mine["id"]].author_name == "deleted user"
    assert all(row.author_reader is None for row in rows if row.id != guest["id"])
    assert by_id[guest["id"]].score == 0  # the erased reader's vote no longer counts


def test_the_header_is_allowed_by_cors_preflight(client, sso_site):
    answer = client.options(
        "/api/v1/comments",
        headers={
            "Origin": "https://news.example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-engagement-sso",
        },
    )
    assert answer.status_code == 204
    assert "X-Engagement-SSO" in answer.headers["access-control-allow-headers"]


def test_a_signed_in_reader_stays_under_the_tokens_lifetime(client, clock, sso_site):
    value = token(clock)
    clock.advance(hours=1, seconds=61)
    answer = client.get("/api/v1/me", params={"site": "daily"}, headers=signed(value))
    assert answer.status_code == 401
    assert "expired" in body(answer)["reason"]


def test_replies_and_the_admin_show_the_author_verified(client, core, clock, sso_site):
    from engagement.models import Page, Site
    from engagement.services.admin.admin_comments import admin_comment

    top = body(post(client, READER, author={"name": "Guest"}))["comment"]
    reply = body(post(client, signed(token(clock)), parent=top["id"]))["comment"]
    replies = client.get(f"/api/v1/comments/{top['id']}/replies", params={"site": "daily"})
    assert [r["author"]["verified"] for r in body(replies)["replies"]] == [True]
    uow = core.uow()
    with uow:
        comment = uow.session.get_one(Comment, reply["id"])
        page = uow.session.get_one(Page, comment.page_id)
        seen = admin_comment(comment, page, uow.session.get_one(Site, page.site_id))
    assert seen.author_verified is True
    assert seen.author_name == "Ann Reader"


def test_me_lists_the_comments_on_a_page_still_open_to_editing(client, clock, sso_site):
    mine = body(post(client, signed(token(clock))))["comment"]["id"]
    body(post(client, signed(token(clock, sub="user-7", name="Ann Reader"))))  # same name, someone else
    body(post(client, READER, author={"name": "Ann Reader"}))  # a guest with that name too
    ask = {"site": "daily", "page": ARTICLE}
    clock.advance(minutes=1)
    answer = client.get("/api/v1/me", params=ask, headers=signed(token(clock), SECOND_BROWSER))
    assert body(answer)["editable"] == [mine]
    clock.advance(minutes=15)  # the site's window is 15 minutes
    answer = client.get("/api/v1/me", params=ask, headers=signed(token(clock), SECOND_BROWSER))
    assert body(answer)["editable"] == []


def test_banning_a_signed_in_author_follows_them_to_every_device(client, core, clock, sso_site):
    from engagement.services.discussion.moderation import ban_author

    posted = body(post(client, signed(token(clock))))["comment"]
    ban_author(core.uow(), posted["id"], "trolling")
    refused = post(client, signed(token(clock), SECOND_BROWSER))
    assert refused.status_code == 403
    assert body(refused)["code"] == "banned"
    assert post(client, signed(token(clock, sub="user-7"), SECOND_BROWSER)).status_code == 201


def test_sign_in_required_holds_for_comments_however_they_come(core, sso_site):
    from engagement.errors import SignInRequired
    from engagement.services.discussion.comments import PostComment, post_comment

    update_site(core.uow(), "daily", SiteChanges(sso_required=True))
    guest = PostComment(site="daily", page=ARTICLE, author_name="Guest", body="Through another door.")
    with pytest.raises(SignInRequired):
        post_comment(core.uow(), guest)
