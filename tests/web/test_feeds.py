"""Atom feeds of a site's and a page's comments: they parse, carry the right entries, answer 304."""

from __future__ import annotations

from xml.etree import ElementTree

import feedparser
import pytest

from engagement.services.sites import SiteChanges, update_site

ARTICLE = "https://news.example.org/2026/11/article"
OTHER = "https://news.example.org/2026/11/other"
ATOM = "{http://www.w3.org/2005/Atom}"


def post(client, text, page=ARTICLE, **changes):
    payload = {"site": "daily", "page": page, "author": {"name": "Jane"}, "body": text} | changes
    response = client.post("/api/v1/comments", json=payload)
    assert response.status_code in (201, 202), response.text
    return response.json()["comment"]


def feed(client, path="/feeds/daily/comments.atom", **params):
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def test_a_site_with_no_comments_has_a_valid_empty_feed(client):
    parsed = feed(client)
    assert parsed.version == "atom10"
    assert parsed.entries == []
    assert parsed.feed.title == "Comments on The Daily Example"
    assert parsed.feed.id.startswith("tag:")


def test_entries_carry_author_content_link_and_stable_ids(client):
    first = post(client, "Hello *there*", author={"name": "Ada", "email": "ada@mail.example.net"})
    post(client, "On another page", page=OTHER)
    parsed = feed(client)
    assert [e.content[0].value for e in parsed.entries] == [
        "<p>On another page</p>",
        "<p>Hello <em>there</em></p>",
    ]
    entry = parsed.entries[1]
    assert entry.author == "Ada"
    assert "email" not in entry.get("author_detail", {})
    assert entry.link == f"{ARTICLE}#engagement-comment-{first['id']}"
    assert entry.published == first["created_at"].split(".")[0].removesuffix("Z") + "Z"
    assert entry.id.endswith(f":comment:{first['id']}")
    assert [e.id for e in feed(client).entries] == [e.id for e in parsed.entries]


def test_the_site_feed_holds_the_latest_50_published(client, core):
    for n in range(53):
        post(client, f"Comment {n}")
    update_site(core.uow(), "daily", SiteChanges(moderation="all"))
    post(client, "Held for a moderator")
    parsed = feed(client)
    assert len(parsed.entries) == 50
    assert parsed.entries[0].content[0].value == "<p>Comment 52</p>"
    assert parsed.entries[-1].content[0].value == "<p>Comment 3</p>"


def test_a_page_feed_has_that_pages_comments_only(client):
    post(client, "Here")
    post(client, "Elsewhere", page=OTHER)
    parsed = feed(client, "/feeds/daily/page.atom", page=ARTICLE)
    assert [e.content[0].value for e in parsed.entries] == ["<p>Here</p>"]
    assert parsed.feed.link == ARTICLE


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/feeds/nosuch/comments.atom", {}),
        ("/feeds/nosuch/page.atom", {"page": ARTICLE}),
        ("/feeds/daily/page.atom", {"page": "https://news.example.org/never-commented"}),
    ],
)
def test_unknown_sites_and_pages_are_404(client, path, params):
    assert client.get(path, params=params).status_code == 404


def test_etag_and_last_modified_answer_304_until_a_new_comment(client):
    post(client, "One")
    first = client.get("/feeds/daily/comments.atom")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert client.get("/feeds/daily/comments.atom", headers={"If-None-Match": etag}).status_code == 304
    assert (
        client.get("/feeds/daily/comments.atom", headers={"If-Modified-Since": modified}).status_code == 304
    )
    post(client, "Two")
    changed = client.get("/feeds/daily/comments.atom", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


def test_comment_html_is_sanitised_as_in_the_widget_and_names_are_text(client, core):
    update_site(core.uow(), "daily", SiteChanges(name="<script>alert('site')</script>"))
    post(client, "<script>alert(1)</script> [x](javascript:alert(1))", author={"name": "<b>Eve</b>"})
    raw = client.get("/feeds/daily/comments.atom").content
    # Read without feedparser, which sanitises on its own: this is what any reader gets.
    root = ElementTree.fromstring(raw)
    content = root.find(f"{ATOM}entry/{ATOM}content")
    assert content.get("type") == "html"
    assert "<script" not in content.text
    assert 'href="javascript' not in content.text
    assert root.find(f"{ATOM}title").text == "Comments on <script>alert('site')</script>"
    assert root.find(f"{ATOM}entry/{ATOM}author/{ATOM}name").text == "<b>Eve</b>"
