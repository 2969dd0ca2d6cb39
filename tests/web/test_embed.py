"""The thread without JavaScript (/embed/thread): reading, paging, posting through the form, refusals."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from engagement.models import Comment, OutboxEvent
from engagement.outbox import COMMENT_PENDING, COMMENT_PUBLISHED
from engagement.services.sites import SiteChanges, update_site
from web.support import table_rows

ARTICLE = "https://news.example.org/2026/11/article"
PARAMS = {"site": "daily", "page": ARTICLE}
SAME_ORIGIN = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
XSS = "<script>alert('x')</script><img src=x onerror=alert(1)>"


def api_post(client, text="A comment.", name="Jane", **changes):
    payload = {"site": "daily", "page": ARTICLE, "author": {"name": name}, "body": text} | changes
    response = client.post("/api/v1/comments", json=payload)
    assert response.status_code in (201, 202), response.text
    return response.json()["comment"]["id"]


def page(client, **params):
    return client.get("/embed/thread", params=PARAMS | params)


def token_of(html: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', html)
    assert found, "the form carries a token"
    return found.group(1)


def form_post(client, fields, headers=SAME_ORIGIN, **params):
    return client.post(
        "/embed/thread", params=PARAMS | params, data=fields, headers=headers, follow_redirects=False
    )


def fields(client, **values):
    return {"token": token_of(page(client).text), "name": "Ada", "body": "From the form."} | values


def test_the_page_shows_the_thread_with_the_sanitised_html_and_frame_headers(client):
    api_post(client, "Hello *world*")
    response = page(client)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<p>Hello <em>world</em></p>" in response.text
    assert "1 Comment" in response.text
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'self' https://news.example.org" in csp
    assert "script-src" not in csp
    assert "default-src 'none'" in csp
    assert "x-frame-options" not in response.headers
    assert response.headers["referrer-policy"] == "same-origin"
    assert 'href="https://news.example.org/2026/11/article#engagement-comment-' in response.text


def test_xss_payloads_stay_inert(client):
    api_post(client, XSS, name=XSS)
    response = page(client, title=XSS)
    assert "<script>" not in response.text
    assert "<img src=x" not in response.text
    assert "&lt;script&gt;" in response.text


def test_an_unknown_site_is_404_and_an_unknown_page_an_empty_thread(client):
    assert client.get("/embed/thread", params={"site": "nosuch", "page": ARTICLE}).status_code == 404
    response = page(client, page="https://news.example.org/new-story")
    assert response.status_code == 200
    assert "No comments yet" in response.text


def test_pages_are_linked_by_the_threads_cursor(client):
    for n in range(23):
        api_post(client, f"Comment number {n}.")
    first = page(client)
    assert "Comment number 22." in first.text
    assert "Comment number 2." not in first.text
    link = re.search(r'href="(/embed/thread\?[^"]+cursor=[^"]+)" target="_self" rel="next"', first.text)
    assert link
    second = client.get(link.group(1).replace("&amp;", "&"))
    assert second.status_code == 200
    assert "Comment number 2." in second.text
    assert "Comment number 22." not in second.text
    assert "First comments" in second.text
    assert 'rel="next"' not in second.text


def test_the_form_posts_a_comment_and_redirects_to_it(client, core):
    response = form_post(client, fields(client, body="Posted *without* script."))
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/embed/thread?")
    assert "posted=approved" in location
    comment_id = int(location.rsplit("#engagement-comment-", 1)[1])
    shown = client.get(location)
    assert "Thanks, your comment is published." in shown.text
    assert "<p>Posted <em>without</em> script.</p>" in shown.text
    with core.uow() as uow:
        kinds = uow.session.scalars(sa.select(OutboxEvent.kind)).all()
        assert uow.session.get(Comment, comment_id).author_name == "Ada"
    assert kinds == [COMMENT_PUBLISHED]


def test_a_reply_link_opens_the_form_with_its_parent(client, core):
    parent = api_post(client, "The first word.", name="Bea")
    reply_form = page(client, reply=parent)
    assert "@Bea" in reply_form.text
    assert f'name="parent" value="{parent}"' in reply_form.text
    response = form_post(client, fields(client, body="A reply.", parent=str(parent)))
    assert response.status_code == 303
    with core.uow() as uow:
        reply = uow.session.scalars(sa.select(Comment).where(Comment.parent_id == parent)).one()
    assert reply.author_name == "Ada"


def test_a_held_comment_waits_and_notify_asks_for_confirmation(client, core):
    update_site(core.uow(), "daily", SiteChanges(moderation="all"))
    response = form_post(client, fields(client, email="ada@mail.example.net", notify="all"))
    assert response.status_code == 303
    shown = client.get(response.headers["location"])
    assert "Your comment is waiting for moderation." in shown.text
    assert "confirm your e-mail address" in shown.text
    assert "From the form." not in shown.text
    with core.uow() as uow:
        kinds = set(uow.session.scalars(sa.select(OutboxEvent.kind)).all())
    assert COMMENT_PENDING in kinds
    assert "subscriber.confirmation_requested" in kinds


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"token": ""}, id="missing token"),
        pytest.param({"token": "forged.token.value"}, id="forged token"),
    ],
)
def test_a_form_without_a_good_token_is_403_and_stores_nothing(client, core, change):
    good = fields(client)
    before = table_rows(core)
    response = form_post(client, good | change)
    assert response.status_code == 403
    assert "security token" in response.text
    assert table_rows(core) == before


def test_a_token_of_another_page_is_refused(client, core):
    other = client.get("/embed/thread", params={"site": "daily", "page": "https://news.example.org/other"})
    before = table_rows(core)
    response = form_post(client, {"token": token_of(other.text), "name": "Ada", "body": "Hi"})
    assert response.status_code == 403
    assert table_rows(core) == before


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, id="cross-site"),
        pytest.param({"Origin": "https://evil.example"}, id="foreign origin"),
        pytest.param({"Origin": "null"}, id="opaque origin"),
    ],
)
def test_a_post_from_another_site_is_403_and_stores_nothing(client, core, headers):
    good = fields(client)
    before = table_rows(core)
    response = form_post(client, good, headers=headers)
    assert response.status_code == 403
    assert table_rows(core) == before


def test_invalid_input_shows_the_reason_with_4xx_and_keeps_the_text_but_not_the_address(client, core):
    good = fields(client, name="", email="ada@mail.example.net", body="Kept text.")
    before = table_rows(core)
    response = form_post(client, good)
    assert response.status_code == 422
    assert 'role="alert"' in response.text
    assert "author_name" in response.text
    assert ">Kept text.</textarea>" in response.text
    assert "ada@mail.example.net" not in response.text
    assert table_rows(core) == before


def test_notify_without_an_address_is_refused_like_the_api(client, core):
    before = table_rows(core)
    response = form_post(client, fields(client, notify="all"))
    assert response.status_code == 422
    assert table_rows(core) == before


def test_a_filled_honeypot_reads_like_moderation(client, core):
    response = form_post(client, fields(client, website="http://spam.example"))
    assert response.status_code == 303
    assert "posted=pending" in response.headers["location"]
    assert "From the form." not in client.get(response.headers["location"]).text


def test_replies_past_a_thread_page_go_on_in_a_page_of_their_own(client):
    top = api_post(client, "A busy comment.", name="Bea")
    for n in range(53):
        api_post(client, f"Reply number {n}.", parent=top)
    thread = page(client).text
    assert "Reply number 49." in thread
    assert "Reply number 50." not in thread
    link = re.search(r'href="(/embed/replies\?[^"]+)" target="_self">Show 3 more replies<', thread)
    assert link
    more = client.get(link.group(1).replace("&amp;", "&"))
    assert more.status_code == 200
    assert "Reply number 50." in more.text
    assert "Reply number 52." in more.text
    assert "Reply number 49." not in more.text
    assert "frame-ancestors 'self' https://news.example.org" in more.headers["content-security-policy"]


def test_sort_links_keep_the_page(client):
    first = api_post(client, "Older.")
    api_post(client, "Newer.")
    text = page(client, sort="oldest").text
    assert text.index("Older.") < text.index("Newer.")
    assert '<strong aria-current="true">Oldest</strong>' in text
    assert "sort=top" in text
    assert f"engagement-comment-{first}" in text


def test_replies_of_an_unknown_comment_are_404(client):
    response = client.get("/embed/replies", params=PARAMS | {"comment": 999})
    assert response.status_code == 404


def test_a_comment_from_the_form_notifies_the_pages_followers(client, core):
    from engagement import links
    from engagement.models import NotificationItem, Site, Subscriber
    from engagement.services.audience.subscriptions import add_subscription, confirm_subscriber
    from engagement.services.delivery.relay import sweep_unrelayed
    from engagement.services.pages import ensure_page

    with core.uow() as uow:
        site = uow.session.scalars(sa.select(Site).where(Site.key == "daily")).one()
        follow = add_subscription(
            uow, site, "alice@example.org", "thread", page=ensure_page(uow, site, ARTICLE)
        )
        follower = follow.subscription.subscriber_id
        uow.commit()
    confirm_subscriber(core.uow(), links.confirm_token(core.keys, follower))
    assert form_post(client, fields(client, body="News for Alice.")).status_code == 303
    sweep_unrelayed(core.uow(), older_than_seconds=0, window_seconds=0)
    with core.uow() as uow:
        items = uow.session.execute(
            sa.select(Subscriber.email).join(
                NotificationItem, NotificationItem.subscriber_id == Subscriber.id
            )
        ).all()
    assert [email for (email,) in items] == ["alice@example.org"]


def test_a_reply_on_a_later_page_lands_back_on_that_page(client):
    oldest = api_post(client, "The oldest comment.", name="Bea")
    for n in range(21):
        api_post(client, f"Comment number {n}.")
    first = page(client).text
    cursor = re.search(r'cursor=([^"&]+)[^"]*" target="_self" rel="next"', first).group(1)
    later = client.get("/embed/thread", params=PARAMS | {"cursor": cursor, "reply": oldest})
    assert "@Bea" in later.text
    response = form_post(client, fields(client, body="A late reply.", parent=str(oldest)), cursor=cursor)
    assert response.status_code == 303
    assert f"cursor={cursor}" in response.headers["location"]
    assert "A late reply." in client.get(response.headers["location"]).text


def test_the_rate_limit_answers_429_with_the_reason_and_retry_after(tmp_path):
    from engagement.config import load_settings
    from engagement.core import build_core
    from engagement.models import Base
    from engagement.services.sites import add_site
    from engagement.web import create_app
    from web.support import RecordingClient

    settings = load_settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'limited.db'}",
        secret_key="test-secret-" + "x" * 32,
        rate_limit_storage_url="memory://",
        comment_rate_limit="1/minute",
    )
    core = build_core(settings)
    Base.metadata.create_all(core.engine)
    add_site(core.uow(), "daily", SiteChanges(name="Daily", origins=["https://news.example.org"]))
    try:
        with RecordingClient(create_app(settings, core), base_url="http://testserver") as client:
            assert form_post(client, fields(client)).status_code == 303
            before = table_rows(core)
            refused = form_post(client, fields(client, body="One too many."))
            assert refused.status_code == 429
            assert int(refused.headers["retry-after"]) >= 1
            assert 'role="alert"' in refused.text
            assert ">One too many.</textarea>" in refused.text
            assert table_rows(core) == before
    finally:
        core.dispose()


def test_the_page_speaks_lang_then_the_browsers_language_then_the_sites(client, core):
    api_post(client, "Hallo.")
    german = page(client, lang="de")
    assert '<html lang="de" dir="ltr">' in german.text
    assert "1 Kommentar" in german.text
    assert "lang=de" in re.search(r'action="([^"]+)"', german.text).group(1)
    browser = client.get("/embed/thread", params=PARAMS, headers={"Accept-Language": "fr-CH, fr;q=0.9"})
    assert '<html lang="fr"' in browser.text
    update_site(core.uow(), "daily", SiteChanges(language="pl"))
    site_default = client.get("/embed/thread", params=PARAMS, headers={"Accept-Language": "ja, tlh"})
    assert '<html lang="pl"' in site_default.text


def test_a_comment_from_a_german_page_keeps_german_for_its_mails(client, core):
    from engagement.models import Subscriber

    token = token_of(page(client, lang="de").text)
    body = {"token": token, "name": "Ada", "body": "Hallo.", "email": "ada@mail.example.net", "notify": "all"}
    assert form_post(client, body, lang="de").status_code == 303
    with core.uow() as uow:
        assert uow.session.scalars(sa.select(Subscriber.locale)).one() == "de"


def test_where_the_site_requires_sign_in_the_page_has_no_form_and_a_post_is_refused(client, core):
    from engagement.services.thread_forms import thread_form_token

    update_site(core.uow(), "daily", SiteChanges(sso_secret="s" * 40, sso_required=True))
    shown = page(client)
    assert "Sign in to comment" in shown.text
    assert 'name="token"' not in shown.text
    before = table_rows(core)
    token = thread_form_token(core.keys, "daily", ARTICLE)
    refused = form_post(client, {"token": token, "name": "Guest", "body": "Let me in."})
    assert refused.status_code == 401
    assert table_rows(core) == before
