"""/admin/sites/KEY/webhooks: owners list, add (the secret once), switch off and on, rotate, remove."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from engagement.models import WebhookEndpoint
from engagement.services.admin.admins import add_admin
from engagement.services.sites import SiteChanges, add_site
from engagement.web import create_app
from web.test_admin import PASSWORD, Admin

SCREEN = "/admin/sites/daily/webhooks"


@pytest.fixture
def owner(core, site):
    from fastapi.testclient import TestClient

    add_site(core.uow(), "other", SiteChanges(name="Other Times"))
    add_admin(core.uow(), "owner@example.org", "owner", password=PASSWORD)
    add_admin(core.uow(), "mod@example.org", "moderator", ["daily"], password=PASSWORD)
    settings = core.settings.model_copy(update={"webhooks_allow_private": True})
    with TestClient(create_app(settings, core), base_url="http://testserver") as client:
        admin = Admin(client)
        admin.sign_in("owner@example.org")
        yield admin


def _endpoints(core) -> list[WebhookEndpoint]:
    with core.engine.connect() as connection:
        return list(connection.execute(sa.select(WebhookEndpoint).order_by(WebhookEndpoint.id)))  # type: ignore[arg-type]


def test_an_owner_adds_a_webhook_and_sees_its_secret_once(core, owner):
    assert "No webhook yet." in owner.get(SCREEN).text
    added = owner.post(
        SCREEN, [("url", "http://127.0.0.1:9/hook"), ("format", "standard"), ("events", "comment.published")]
    )
    assert added.status_code == 200, added.text[-2000:]
    secret = re.search(r'id="secret" readonly value="(whsec_[^"]+)"', added.text).group(1)
    (endpoint,) = _endpoints(core)
    assert endpoint.secret == secret
    assert endpoint.events == ["comment.published"]
    later = owner.get(SCREEN).text
    assert "http://127.0.0.1:9/hook" in later
    assert secret not in later


def test_switch_off_on_rotate_and_remove(core, owner):
    owner.post(SCREEN, {"url": "http://127.0.0.1:9/hook", "format": "slack"})
    path = f"{SCREEN}/1"
    assert owner.post(path, {"action": "disable"}, token_from=SCREEN).status_code == 303
    assert _endpoints(core)[0].enabled is False
    assert "webhook 1 disabled" in owner.get(SCREEN + "?done=webhook+1+disabled").text
    owner.post(path, {"action": "enable"}, token_from=SCREEN)
    assert _endpoints(core)[0].enabled is True
    old = _endpoints(core)[0].secret
    rotated = owner.post(path, {"action": "rotate"}, token_from=SCREEN)
    assert rotated.status_code == 200
    assert _endpoints(core)[0].secret != old
    owner.post(path, {"action": "remove"}, token_from=SCREEN)
    assert _endpoints(core) == []


def test_a_private_url_is_refused_with_the_reason_and_nothing_added(core, site):
    from fastapi.testclient import TestClient

    add_admin(core.uow(), "owner@example.org", "owner", password=PASSWORD)
    with TestClient(create_app(core.settings, core), base_url="http://testserver") as client:
        admin = Admin(client)
        admin.sign_in("owner@example.org")
        refused = admin.post(SCREEN, {"url": "http://10.0.0.1/hook", "format": "standard"})
    assert refused.status_code == 422
    assert "10.0.0.1, a private address" in refused.text
    assert _endpoints(core) == []


def test_moderators_and_other_sites_endpoints_are_kept_out(core, owner):
    owner.post(SCREEN, {"url": "http://127.0.0.1:9/hook", "format": "standard"})
    other = owner.post("/admin/sites/other/webhooks/1", {"action": "remove"}, token_from=SCREEN)
    assert other.status_code == 404
    assert len(_endpoints(core)) == 1
    owner.post("/admin/sign-out", {}, token_from=SCREEN)
    owner.sign_in("mod@example.org")
    assert owner.get(SCREEN).status_code == 403
