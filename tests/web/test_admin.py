"""/admin over HTTP: sign-in and sessions, the CSRF and Origin checks, the queue and every screen."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from engagement.models import AdminSession, Ban, Comment, OutboxEvent, Site
from engagement.outbox import COMMENT_PUBLISHED
from engagement.services.admin.admins import add_admin
from engagement.services.discussion.comments import PostComment, post_comment
from engagement.services.discussion.moderation import approve_comment
from engagement.services.discussion.reports import report_comment
from engagement.services.sites import SiteChanges, add_site, update_site
from engagement.web import create_app
from web.support import table_rows

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Admin:
    """A browser-like client of /admin: keeps the cookie, sends the server's own Origin."""

    def __init__(self, client) -> None:
        self.client = client
        self.origin = "http://testserver"

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def token(self, path: str) -> str:
        found = CSRF.search(self.get(path).text)
        assert found, path
        return found.group(1)

    def post(self, path: str, data: dict | list, *, token_from: str | None = None, origin: str | None = None):
        fields = list(data.items()) if isinstance(data, dict) else list(data)
        if not any(k == "csrf" for k, _ in fields):
            fields.append(("csrf", self.token(token_from or path)))
        headers = {"Origin": origin or self.origin, "Content-Type": "application/x-www-form-urlencoded"}
        return self.client.post(path, content=urlencode(fields), headers=headers, follow_redirects=False)

    def sign_in(self, email: str, password: str = PASSWORD):
        return self.post("/admin/sign-in", {"email": email, "password": password})


@pytest.fixture
def admin_client(core, site):
    from fastapi.testclient import TestClient

    add_site(core.uow(), "other", SiteChanges(name="Other Times"))
    add_admin(core.uow(), "owner@example.org", "owner", password=PASSWORD)
    add_admin(core.uow(), "mod@example.org", "moderator", ["daily"], password=PASSWORD)
    with TestClient(create_app(core.settings, core), base_url="http://testserver") as client:
        yield Admin(client)


def held(core, site: str = "daily", body: str = "Held for a look.", **values):
    update_site(core.uow(), site, SiteChanges(moderation="all"))
    fields = {"site": site, "page": "https://news.example.org/a", "author_name": "Jane", "body": body}
    return post_comment(core.uow(), PostComment(**{**fields, **values})).comment


def test_sign_in_wrong_password_and_sign_out(admin_client, core):
    assert (
        admin_client.get("/admin/queue", follow_redirects=False)
        .headers["location"]
        .startswith("/admin/sign-in?next=%2Fadmin%2Fqueue")
    )
    page = admin_client.get("/admin/sign-in").text
    assert 'for="email">E-mail<' in page
    assert 'for="password">Password<' in page
    assert ">Sign in<" in page
    wrong = admin_client.sign_in("owner@example.org", "not the password at all")
    unknown = admin_client.sign_in("nobody@example.org", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong e-mail address or password." in wrong.text
    assert "Wrong e-mail address or password." in unknown.text
    signed = admin_client.sign_in("owner@example.org")
    assert signed.status_code == 303
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/admin" in cookie
    assert "Secure" not in cookie
    assert admin_client.get("/admin/").status_code == 200
    assert admin_client.post("/admin/sign-out", {}, token_from="/admin/").status_code == 303
    with core.uow() as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(AdminSession)) == 0


def test_a_session_idle_for_12_hours_ends(admin_client, core, clock):
    admin_client.sign_in("owner@example.org")
    clock.advance(hours=11)
    assert admin_client.get("/admin/queue").status_code == 200
    clock.advance(hours=12, seconds=1)
    assert admin_client.get("/admin/queue", follow_redirects=False).status_code == 303
    admin_client.sign_in("mod@example.org")  # any sign-in drops the sessions idle too long
    with core.uow() as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(AdminSession)) == 1


def test_forged_and_cross_origin_forms_change_nothing(admin_client, core):
    comment = held(core)
    admin_client.sign_in("owner@example.org")
    before = table_rows(core)
    act = [("act", f"approve:{comment.id}")]
    assert admin_client.post("/admin/queue", [*act, ("csrf", "forged")]).status_code == 403
    assert (
        admin_client.post(
            "/admin/queue", act, token_from="/admin/queue", origin="https://evil.example"
        ).status_code
        == 403
    )
    no_origin = admin_client.client.post(
        "/admin/queue",
        content=urlencode([*act, ("csrf", admin_client.token("/admin/queue"))]),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert no_origin.status_code == 403
    assert table_rows(core) == before


def test_approve_in_bulk_publishes_as_the_mail_link_does(admin_client, core):
    first, second = held(core, body="First."), held(core, body="Second.", author_email="jane@example.net")
    admin_client.sign_in("owner@example.org")
    listing = admin_client.get("/admin/queue").text
    assert "First." in listing
    assert "Second." in listing
    assert "every comment is moderated" in listing
    done = admin_client.post(
        "/admin/queue", [("action", "approve"), ("ids", str(first.id)), ("ids", str(second.id))]
    )
    assert done.status_code == 303
    with core.uow() as uow:
        statuses = uow.session.scalars(sa.select(Comment.status).order_by(Comment.id)).all()
        published = uow.session.scalars(
            sa.select(OutboxEvent.payload).where(OutboxEvent.kind == COMMENT_PUBLISHED)
        ).all()
    assert statuses == ["approved", "approved"]
    assert {p["comment_id"] for p in published} == {first.id, second.id}
    assert all(p.get("after_moderation") for p in published)
    again = admin_client.post("/admin/queue", [("act", f"approve:{first.id}")])
    assert again.status_code == 409


def test_bulk_with_an_unknown_comment_applies_none(admin_client, core):
    comment = held(core)
    admin_client.sign_in("owner@example.org")
    before = table_rows(core)
    answer = admin_client.post(
        "/admin/queue", [("action", "reject"), ("ids", str(comment.id)), ("ids", "999999")]
    )
    assert answer.status_code == 400
    assert "999999" in answer.text
    assert table_rows(core) == before


def test_a_moderator_acts_on_their_sites_only(admin_client, core):
    mine, theirs = held(core, "daily"), held(core, "other", body="Elsewhere.")
    admin_client.sign_in("mod@example.org")
    listing = admin_client.get("/admin/queue").text
    assert "Held for a look." in listing
    assert "Elsewhere." not in listing
    assert admin_client.post("/admin/queue", [("act", f"spam:{theirs.id}")]).status_code == 403
    assert admin_client.get(f"/admin/queue/{theirs.id}").status_code == 403
    assert admin_client.get("/admin/sites").status_code == 403
    assert admin_client.post("/admin/queue", [("act", f"spam:{mine.id}")]).status_code == 303


def test_ban_bans_the_author_and_rejects(admin_client, core):
    comment = held(core, author_email="troll@example.net", reader_id="troll-reader-1")
    admin_client.sign_in("owner@example.org")
    assert admin_client.post("/admin/queue", [("act", f"ban:{comment.id}")]).status_code == 303
    with core.uow() as uow:
        ban = uow.session.scalars(sa.select(Ban)).one()
        assert ban.email == "troll@example.net"
        assert ban.reader_hash
        assert uow.session.get(Comment, comment.id).status == "rejected"


def test_queue_filters_and_thread_context(admin_client, core):
    update_site(core.uow(), "daily", SiteChanges(moderation="off"))
    fields = {"site": "daily", "page": "https://news.example.org/a", "author_name": "Ann"}
    parent = post_comment(
        core.uow(),
        PostComment(**fields, body="The parent.", reader_id="reader-ann-1", author_email="ann@example.net"),
    ).comment
    post_comment(core.uow(), PostComment(**fields, body="Ann again, elsewhere.", reader_id="reader-ann-1"))
    child = held(
        core,
        body="A 100% held reply.",
        parent=parent.id,
        reader_id="reader-ann-1",
        author_email="ann@example.net",
    )
    # Published, answered, then reported back into the queue: the queue shows its reply too.
    approve_comment(core.uow(), child.id)
    update_site(core.uow(), "daily", SiteChanges(moderation="off", report_threshold=1))
    post_comment(core.uow(), PostComment(**fields, body="A reply to the held one.", parent=child.id))
    report_comment(core.uow(), child.id, "reader-reporter-1", "off_topic", None, "127.0.0.1")
    admin_client.sign_in("owner@example.org")
    listing = admin_client.get("/admin/queue").text
    assert "In reply to Ann" in listing
    assert "A reply to the held one." in listing
    assert "reported by 1 reader" in listing
    assert "1 other comment by this author on The Daily Example." in listing
    assert "A 100% held reply." in admin_client.get("/admin/queue", params={"q": "100%"}).text
    assert "A 100% held reply." not in admin_client.get("/admin/queue", params={"q": "nothing like it"}).text
    assert "A 100% held reply." not in admin_client.get("/admin/queue", params={"site": "other"}).text
    context = admin_client.get(f"/admin/queue/{child.id}").text
    assert "The parent." in context
    assert "Ann again, elsewhere." in context
    assert admin_client.get("/admin/queue", params={"status": "weird"}).status_code == 422
    assert admin_client.get("/admin/queue", params={"before": "garbage"}).status_code == 422


def test_every_screen_answers(admin_client, core):
    held(core)
    admin_client.sign_in("owner@example.org")
    screens = ["/admin/", "/admin/queue", "/admin/comments", "/admin/sites", "/admin/sites/daily"]
    screens += ["/admin/subscribers", "/admin/deliveries"]
    screens += ["/admin/admins"]
    for path in screens:
        answer = admin_client.get(path)
        assert answer.status_code == 200, (path, answer.text[:500])
        assert answer.headers["referrer-policy"] == "same-origin"
    unknown = admin_client.get("/admin/no-such-screen")
    assert unknown.status_code == 404
    assert "There is no such admin page." in unknown.text
    assert admin_client.get("/api/v1/no-such-route").json()["code"] == "not_found"
    missing = admin_client.get("/admin/queue/999999")
    assert missing.status_code == 404
    assert "no comment 999999" in missing.text.lower()


def test_retry_a_failed_delivery_never_a_sent_one(admin_client, core):
    from engagement.models import Delivery

    with core.uow() as uow:
        now = uow.now()
        for key, status in (("k-failed", "failed"), ("k-sent", "sent")):
            uow.session.add(
                Delivery(
                    idempotency_key=key,
                    recipient="reader@example.net",
                    template="reply_notification",
                    context={},
                    status=status,
                    reason="smtp_permanent" if status == "failed" else None,
                    last_error="550 mailbox unavailable" if status == "failed" else None,
                    attempts=1,
                    created_at=now,
                )
            )
        uow.commit()
        ids = dict(uow.session.execute(sa.select(Delivery.idempotency_key, Delivery.id)).all())
    admin_client.sign_in("owner@example.org")
    log = admin_client.get("/admin/deliveries", params={"status": "failed"}).text
    assert "550 mailbox unavailable" in log
    fields = {"recipient": "reader@example.net", "status": "sent", "template": ""}
    by_recipient = admin_client.post("/admin/deliveries", fields, token_from="/admin/deliveries").text
    assert f'id="delivery-{ids["k-sent"]}"' in by_recipient
    assert f'id="delivery-{ids["k-failed"]}"' not in by_recipient
    sent = admin_client.post(
        "/admin/deliveries/retry", [("ids", str(ids["k-sent"]))], token_from="/admin/deliveries"
    )
    assert sent.status_code == 409
    failed = admin_client.post(
        "/admin/deliveries/retry", [("ids", str(ids["k-failed"]))], token_from="/admin/deliveries"
    )
    assert failed.status_code == 303
    with core.uow() as uow:
        statuses = dict(uow.session.execute(sa.select(Delivery.idempotency_key, Delivery.status)).all())
    assert statuses == {"k-failed": "pending", "k-sent": "sent"}
    admin_client.sign_in("mod@example.org")
    assert admin_client.get("/admin/deliveries").status_code == 403


def test_one_time_link_is_single_use_and_expires(core, site, clock):
    from fastapi.testclient import TestClient

    link = add_admin(core.uow(), "new@example.org", "moderator", ["daily"])
    stale = add_admin(core.uow(), "late@example.org", "moderator", ["daily"])
    with TestClient(create_app(core.settings, core), base_url="http://testserver") as client:
        admin = Admin(client)
        path = f"/admin/password/{link.token}"
        short = admin.post(path, {"password": "too short", "repeat": "too short"}, token_from=path)
        assert short.status_code == 422
        assert "at least 12 characters" in short.text
        differ = admin.post(path, {"password": PASSWORD, "repeat": PASSWORD + "!"}, token_from=path)
        assert differ.status_code == 422
        done = admin.post(path, {"password": PASSWORD, "repeat": PASSWORD}, token_from=path)
        assert done.status_code == 303
        assert admin.get(path).status_code == 403  # used
        clock.advance(hours=24, seconds=1)
        expired = admin.get(f"/admin/password/{stale.token}")
        assert expired.status_code == 403
        assert "expired" in expired.text
        assert admin.sign_in("new@example.org").status_code == 303


def test_sign_in_is_rate_limited_and_next_stays_local(core, site, tmp_path):
    from fastapi.testclient import TestClient

    from engagement.core import build_core

    settings = core.settings.model_copy(
        update={
            "rate_limits_enabled": True,
            "signin_rate_limit": "3/minute",
            "base_url": "https://c.example.org",
        }
    )
    limited = build_core(settings, clock=core.clock)
    add_admin(limited.uow(), "owner@example.org", "owner", password=PASSWORD)
    with TestClient(create_app(settings, limited), base_url="https://c.example.org") as client:
        admin = Admin(client)
        admin.origin = "https://c.example.org"
        for _ in range(3):
            assert admin.sign_in("owner@example.org", "a wrong password here").status_code == 401
        assert admin.sign_in("owner@example.org").status_code == 429
        limited.limiter.reset()
        signed = admin.post(
            "/admin/sign-in",
            {"email": "owner@example.org", "password": PASSWORD, "next": "https://evil.example/admin/"},
            token_from="/admin/sign-in",
        )
        assert signed.headers["location"] == "/admin/"
        assert "Secure" in signed.headers["set-cookie"]
    limited.dispose()


def test_site_settings_and_subscribers(admin_client, core):
    admin_client.sign_in("owner@example.org")
    form = {
        "name": "The Daily",
        "moderation": "first",
        "origins": "https://news.example.org\nhttps://www.example.org",
        "moderator_emails": "mod@example.org",
        "reactions": "like=👍 Like\nwow=😮 Wow",
        "edit_window_seconds": "600",
        "banned_words": "casino",
        "link_limit": "2",
        "report_threshold": "4",
        "support_text": "Support us",
        "support_url": "https://www.patreon.com/daily",
        "digest_hour": "7",
        "digest_weekday": "4",
        "timezone": "Europe/Paris",
        "language": "pl",
        "supporter_thanks": "",
        "supporter_badges": "on",
        "patreon_webhook_secret": "a-webhook-secret-of-32-characters",
        "popular": "off",
        "popular_title": "Elsewhere on The Daily",
    }
    saved = admin_client.post("/admin/sites/daily", form)
    assert saved.status_code == 303
    settings = admin_client.get(saved.headers["location"]).text
    assert "Saved." in settings
    assert 'value="Europe/Paris"' in settings
    assert '<option value="pl" lang="pl" selected>Polski</option>' in settings
    assert 'data-site="daily"' in settings
    assert "a-webhook-secret-of-32-characters" not in settings
    with core.uow() as uow:
        daily = uow.session.scalars(sa.select(Site).where(Site.key == "daily")).one()
        assert (daily.report_threshold, daily.supporter_badges, daily.digest_weekday) == (4, True, 4)
        assert (daily.popular, daily.popular_title) == (False, "Elsewhere on The Daily")
        assert daily.language == "pl"
        assert daily.patreon_webhook_secret == "a-webhook-secret-of-32-characters"
        assert daily.reactions == [{"key": "like", "label": "👍 Like"}, {"key": "wow", "label": "😮 Wow"}]
    before = table_rows(core)
    bad = admin_client.post("/admin/sites/daily", {**form, "digest_hour": "25", "name": "Changed"})
    assert bad.status_code == 422
    assert "digest_hour: must be a whole number from 0 to 23" in bad.text.lower()
    assert admin_client.post("/admin/sites/daily", {**form, "reactions": "no label"}).status_code == 422
    assert table_rows(core) == before

    address = "reader@example.net"

    def subscriber(action: str, **extra: str):
        fields = {"email": address, "action": action, **extra}
        return admin_client.post("/admin/subscribers", fields, token_from="/admin/subscribers")

    suppressed = subscriber("suppress")
    assert suppressed.status_code == 200
    assert "reader@example.net suppressed." in suppressed.text
    assert "suppressed</strong> (manual" in subscriber("lookup").text
    assert subscriber("export").json()["suppression"]["reason"] == "manual"
    assert "reader@example.net unsuppressed." in subscriber("unsuppress").text
    assert subscriber("unsuppress").status_code == 409
    assert subscriber("erase").status_code == 422
    assert "reader@example.net erased." in subscriber("erase", confirm="yes").text
    # Addresses travel in form bodies only, never in a URL that a log would keep.
    assert "reader%40example.net" not in admin_client.get("/admin/subscribers").text
    admin_client.sign_in("mod@example.org")
    assert admin_client.get("/admin/subscribers").status_code == 403
    assert admin_client.get("/admin/sites/daily").status_code == 403


def test_owners_manage_admins(admin_client, core):
    admin_client.sign_in("owner@example.org")
    added = admin_client.post(
        "/admin/admins",
        [("action", "add"), ("email", "new@example.org"), ("role", "moderator"), ("sites", "daily")],
        token_from="/admin/admins",
    )
    assert added.status_code == 200
    link = re.search(r'value="(http://[^"]+/admin/password/[A-Za-z0-9_-]+)"', added.text)
    assert link is not None
    assert admin_client.get(link.group(1).removeprefix("http://127.0.0.1:8000")).status_code == 200
    last = admin_client.post(
        "/admin/admins", {"action": "remove", "email": "owner@example.org"}, token_from="/admin/admins"
    )
    assert last.status_code == 409
    gone = admin_client.post(
        "/admin/admins", {"action": "remove", "email": "new@example.org"}, token_from="/admin/admins"
    )
    assert "new@example.org removed." in gone.text
    admin_client.sign_in("mod@example.org")
    assert admin_client.get("/admin/admins").status_code == 403


def test_reported_comments_and_approving_clears_their_reports(admin_client, core):
    update_site(core.uow(), "daily", SiteChanges(moderation="off", report_threshold=5))
    fields = {"site": "daily", "page": "https://news.example.org/a", "author_name": "Bo", "body": "Disputed."}
    comment = post_comment(core.uow(), PostComment(**fields)).comment
    for n, reason in enumerate(("spam", "abuse", "abuse")):
        report_comment(
            core.uow(), comment.id, f"reader-report-{n}", reason, "Look at this" if n else None, "10.0.0.1"
        )
    admin_client.sign_in("owner@example.org")
    reported = " ".join(admin_client.get("/admin/queue", params={"status": "reported"}).text.split())
    assert "Reported 3 times: spam (1), abuse (2) <br><q>Look at this</q>" in reported
    assert "Disputed." in reported
    assert "Disputed." not in admin_client.get("/admin/queue").text  # still published, not pending
    assert admin_client.post("/admin/queue", [("act", f"approve:{comment.id}")]).status_code == 303
    assert "Disputed." not in admin_client.get("/admin/queue", params={"status": "reported"}).text
    with core.uow() as uow:
        assert uow.session.get(Comment, comment.id).status == "approved"
