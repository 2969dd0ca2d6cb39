"""GET /api/v1/sites/{site}/popular and the site settings' "More discussions" part."""

from __future__ import annotations

import pytest

from engagement.services.sites import SiteChanges, update_site
from web.support import body, table_rows

NEWS = "https://news.example.org"


def comment(client, path: str, title: str) -> None:
    payload = {"site": "daily", "page": f"{NEWS}{path}", "page_title": title, "author": {"name": "Jane"}}
    response = client.post("/api/v1/comments", json={**payload, "body": "Worth discussing."})
    assert response.status_code == 201, response.text


def test_the_most_discussed_pages_without_the_readers_own(client):
    for path, title, n in (("/a", "Alpha", 3), ("/b", "Beta", 2), ("/c", "Gamma", 1)):
        for _ in range(n):
            comment(client, path, title)

    got = client.get("/api/v1/sites/daily/popular", params={"days": 7, "limit": 5, "page": f"{NEWS}/a"})

    assert got.status_code == 200, got.text
    assert body(got) == {
        "enabled": True,
        "title": None,
        "days": 7,
        "pages": [
            {"title": "Beta", "url": f"{NEWS}/b", "comments": 2},
            {"title": "Gamma", "url": f"{NEWS}/c", "comments": 1},
        ],
    }
    assert "max-age" in got.headers["cache-control"]
    assert len(body(client.get("/api/v1/sites/daily/popular", params={"limit": 1}))["pages"]) == 1


def test_the_site_settings_say_whether_it_shows_and_its_heading(client, core):
    assert body(client.get("/api/v1/sites/daily"))["popular"] == {"enabled": True, "title": None}
    comment(client, "/a", "Alpha")
    update_site(core.uow(), "daily", SiteChanges(popular=False, popular_title="Elsewhere"))

    assert body(client.get("/api/v1/sites/daily"))["popular"] == {"enabled": False, "title": "Elsewhere"}
    off = body(client.get("/api/v1/sites/daily/popular"))
    assert (off["enabled"], off["pages"]) == (False, [])


@pytest.mark.parametrize(
    ("url", "params", "status", "field"),
    [
        ("/api/v1/sites/daily/popular", {"days": 0}, 422, "days"),
        ("/api/v1/sites/daily/popular", {"days": 365}, 422, "days"),
        ("/api/v1/sites/daily/popular", {"days": "week"}, 422, "days"),
        ("/api/v1/sites/daily/popular", {"limit": 21}, 422, "limit"),
        ("/api/v1/sites/daily/popular", {"page": "x" * 2001}, 422, "page"),
        ("/api/v1/sites/daily/popular", {"page": "/a\nb"}, 422, "page"),
        ("/api/v1/sites/Not%20A%20Key/popular", {}, 422, "site"),
        ("/api/v1/sites/nowhere/popular", {}, 404, None),
    ],
)
def test_bad_input_gives_the_reason_and_changes_nothing(client, core, url, params, status, field):
    before = table_rows(core)
    response = client.get(url, params=params)
    assert response.status_code == status, response.text
    if field is not None:
        assert body(response)["field"] == field
    assert table_rows(core) == before
