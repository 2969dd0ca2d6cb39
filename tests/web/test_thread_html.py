"""The thread as an HTML fragment with schema.org JSON-LD (GET /api/v1/comments.html)."""

from __future__ import annotations

import json
import re

from engagement.services.structured_data import plain_text

ARTICLE = "https://news.example.org/2026/11/article"
PARAMS = {"site": "daily", "page": ARTICLE}
XSS = "</script><script>alert('x')</script><img src=x onerror=alert(1)>"


def post(client, text, name="Jane", parent=None):
    payload = {"site": "daily", "page": ARTICLE, "author": {"name": name}, "body": text, "parent": parent}
    response = client.post("/api/v1/comments", json=payload)
    assert response.status_code == 201, response.text
    return response.json()


def fragment(client, **params):
    return client.get("/api/v1/comments.html", params=PARAMS | params)


def json_ld(html: str) -> dict:
    scripts = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(scripts) == 1
    return json.loads(scripts[0])


def test_the_json_ld_is_a_discussion_with_each_comment(client):
    top = post(client, "First *point* & more.", name="Ada")["comment"]
    reply = post(client, "A reply.", name="Bea", parent=top["id"])["comment"]
    response = fragment(client)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    data = json_ld(response.text)
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "DiscussionForumPosting"
    assert data["url"] == ARTICLE
    assert data["commentCount"] == 2
    (item,) = data["comment"]
    assert item["@type"] == "Comment"
    assert item["author"] == {"@type": "Person", "name": "Ada"}
    assert item["dateCreated"] == top["created_at"]
    assert item["text"] == "First point & more."
    assert item["url"] == f"{ARTICLE}#engagement-comment-{top['id']}"
    (nested,) = item["comment"]
    assert nested["author"]["name"] == "Bea"
    assert nested["text"] == "A reply."
    assert nested["url"] == f"{ARTICLE}#engagement-comment-{reply['id']}"


def test_the_markup_is_the_widgets_and_its_permalinks_resolve(client):
    top = post(client, "Marked up.")["comment"]
    html = fragment(client).text
    assert html.startswith(
        '<section class="eg-root eg-widget eg-ssr" lang="en" dir="ltr" data-engagement-ssr'
    )
    assert f'id="engagement-comment-{top["id"]}"' in html
    assert "<p>Marked up.</p>" in html


def test_a_removed_comment_leaves_the_json_ld_and_its_replies_move_up(client):
    posted = post(client, "Soon gone.", name="Ada")
    post(client, "Still here.", name="Bea", parent=posted["comment"]["id"])
    headers = {"Authorization": f"Bearer {posted['edit_token']}"}
    assert client.delete(f"/api/v1/comments/{posted['comment']['id']}", headers=headers).status_code == 204
    (item,) = json_ld(fragment(client).text)["comment"]
    assert item["author"]["name"] == "Bea"


def test_xss_payloads_stay_inert_in_markup_and_json_ld(client):
    post(client, XSS, name=XSS)
    html = fragment(client).text
    assert html.count("</script>") == 1  # the JSON-LD's own end
    assert "<img src=x" not in html
    assert "<script>alert" not in html
    data = json_ld(html)
    assert data["comment"][0]["author"]["name"] == XSS


def test_etag_answers_304_and_an_unknown_site_404(client):
    post(client, "Cached.")
    first = fragment(client)
    again = client.get(
        "/api/v1/comments.html", params=PARAMS, headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    assert client.get("/api/v1/comments.html", params={"site": "nosuch", "page": ARTICLE}).status_code == 404


def test_an_unknown_page_is_an_empty_discussion(client):
    response = fragment(client, page="https://news.example.org/new")
    assert response.status_code == 200
    assert json_ld(response.text)["comment"] == []


def test_plain_text_keeps_paragraphs_and_decodes_entities():
    html = "<p>One &amp; <em>two</em><br>three</p><ul><li>a</li><li>b</li></ul>"
    assert plain_text(html) == "One & two\nthree\n\na\n\nb"


def test_a_page_named_by_id_takes_its_permalinks_from_url(client):
    payload = {"site": "daily", "page": "story-1234", "author": {"name": "Ada"}, "body": "By id."}
    comment = client.post("/api/v1/comments", json=payload).json()["comment"]
    response = client.get(
        "/api/v1/comments.html", params={"site": "daily", "page": "story-1234", "url": ARTICLE, "limit": 5}
    )
    (item,) = json_ld(response.text)["comment"]
    assert item["url"] == f"{ARTICLE}#engagement-comment-{comment['id']}"
    assert json_ld(response.text)["url"] == ARTICLE


def test_the_fragment_speaks_the_language_asked_for_or_the_sites(client, core):
    from engagement.services.sites import SiteChanges, update_site

    post(client, "Hallo.")
    german = fragment(client, lang="de-AT").text
    assert 'lang="de" dir="ltr"' in german
    assert "1 Kommentar" in german
    update_site(core.uow(), "daily", SiteChanges(language="ar"))
    arabic = fragment(client, lang="xx-unknown").text
    assert 'lang="ar" dir="rtl"' in arabic
