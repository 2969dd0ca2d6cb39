"""The admin's site screen sets sign-in from the publisher's site: the secret never shown back."""

from __future__ import annotations

import sqlalchemy as sa

from engagement.models import Site
from web.support import table_rows
from web.test_admin import admin_client  # noqa: F401  (the fixture)

SECRET = "admin-set-sign-in-secret-0123456789-abcdefghij"


def _daily(core) -> Site:
    with core.uow() as uow:
        site = uow.session.scalars(sa.select(Site).where(Site.key == "daily")).one()
        uow.session.expunge(site)
        return site


def test_owner_sets_requires_and_removes_sign_in(admin_client, core):  # noqa: F811
    admin_client.sign_in("owner@example.org")
    form = {
        "name": "The Daily",
        "reactions": "like=👍 Like",
        "edit_window_seconds": "900",
        "link_limit": "3",
        "report_threshold": "3",
        "digest_hour": "8",
        "digest_weekday": "0",
        "timezone": "UTC",
        "supporter_badges": "off",
        "moderation": "off",
    }
    sign_in = {
        "sso_secret": SECRET,
        "sso_required": "required",
        "sso_login_url": "https://news.example.org/login",
    }
    saved = admin_client.post("/admin/sites/daily", form | sign_in)
    assert saved.status_code == 303
    page = admin_client.get(saved.headers["location"]).text
    assert SECRET not in page
    assert "set; leave empty to keep it" in page
    daily = _daily(core)
    assert (daily.sso_secret, daily.sso_required, daily.sso_login_url) == (
        SECRET,
        True,
        "https://news.example.org/login",
    )
    # Saved again with the box empty: the secret stays.
    admin_client.post("/admin/sites/daily", form | sign_in | {"sso_secret": ""})
    assert _daily(core).sso_secret == SECRET
    before = table_rows(core)
    short = admin_client.post("/admin/sites/daily", form | sign_in | {"sso_secret": "short"})
    assert short.status_code == 422
    assert "at least 32 characters" in short.text
    assert table_rows(core) == before
    admin_client.post("/admin/sites/daily", form | sign_in | {"sso_secret": "", "remove_sso_secret": "yes"})
    daily = _daily(core)
    assert (daily.sso_secret, daily.sso_required) == (None, False)
