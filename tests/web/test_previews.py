"""The preview route over HTTP: the same rendering and sanitising as a posted comment, nothing stored."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from engagement.services.sites import SiteChanges, add_site
from web.support import ORIGIN, body, table_rows

ARTICLE = "https://news.example.org/2026/11/article"
READER = {"X-Engagement-Reader": "reader-0123456789"}
PAYLOADS = [
    "<script>alert('script')</script> after",
    "[click me](javascript:alert('link'))",
    "<img src=x onerror=\"alert('img')\">",
    '<a href="https://example.org" onclick="alert(1)">raw</a> and <b onmouseover=alert(1)>bold</b>',
    "[tricky](JaVaScRiPt&#58;alert('entity'))",
]


class Markup(HTMLParser):
    """The elements and attributes a browser would build from some HTML (text is left out)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes += [(name, value or "") for name, value in attrs]


def preview(client, text, headers=READER, **changes):
    return client.post("/api/v1/preview", json={"site": "daily", "body": text} | changes, headers=headers)


def posted_html(client, text):
    payload = {"site": "daily", "page": ARTICLE, "author": {"name": "Jane"}, "body": text}
    response = client.post("/api/v1/comments", json=payload, headers=READER)
    assert response.status_code == 201
    return body(response)["comment"]["html"]


def test_preview_renders_the_markdown_subset(client):
    response = preview(client, "**Bold**, _italic_ and `code`\n\n> a quote\n\n- one\n- two")
    assert response.status_code == 200
    assert body(response) == {
        "html": "<p><strong>Bold</strong>, <em>italic</em> and <code>code</code></p>\n"
        "<blockquote>\n<p>a quote</p>\n</blockquote>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>"
    }


def test_preview_links_carry_the_posted_comments_rel(client):
    html = body(preview(client, "[a link](https://example.org/x)"))["html"]
    assert html == '<p><a href="https://example.org/x" rel="nofollow ugc noopener">a link</a></p>'


@pytest.mark.parametrize("text", PAYLOADS)
def test_preview_sanitises_exactly_like_a_posted_comment(client, text):
    html = body(preview(client, text))["html"]
    markup = Markup(html)
    assert markup.tags <= {"p", "a"}
    assert all(name in ("href", "rel") for name, _value in markup.attributes)
    assert all(value.startswith("https://") for name, value in markup.attributes if name == "href")
    assert html == posted_html(client, text)


def test_preview_stores_nothing(client, core):
    before = table_rows(core)
    assert preview(client, "Just *looking*.").status_code == 200
    assert preview(client, "").status_code == 422
    assert table_rows(core) == before


def test_preview_of_an_unknown_site_is_404(client):
    response = preview(client, "Hello", site="nosuchsite")
    assert response.status_code == 404
    assert body(response)["code"] == "site_not_found"


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_preview_of_an_empty_body_is_422(client, text):
    response = preview(client, text)
    assert response.status_code == 422
    assert body(response)["field"] == "body"


def test_preview_of_a_body_over_the_comment_limit_is_422(client):
    assert preview(client, "x" * 10_000).status_code == 200
    response = preview(client, "x" * 10_001)
    assert response.status_code == 422
    assert body(response)["field"] == "body"


def test_preview_refuses_unknown_fields_and_other_sites_origins(client, core):
    assert preview(client, "Hello", page=ARTICLE).status_code == 422
    add_site(core.uow(), "other", SiteChanges(name="Other", origins=["https://other.example.net"]))
    client.app.state.origins.forget()
    allowed = preview(client, "Hello", headers=READER | {"Origin": ORIGIN})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    foreign = preview(client, "Hello", site="other", headers=READER | {"Origin": ORIGIN})
    assert foreign.status_code == 403


def test_too_many_previews_from_one_reader_is_429(core, site):
    from engagement.core import build_core
    from engagement.web import create_app
    from web.support import RecordingClient

    settings = core.settings.model_copy(
        update={"rate_limits_enabled": True, "preview_rate_limit": "2/minute"}
    )
    limited = build_core(settings, clock=core.clock)
    try:
        with RecordingClient(create_app(settings, limited)) as client:
            assert [preview(client, "Hello").status_code for _ in range(2)] == [200, 200]
            refused = preview(client, "Hello")
            # Posting has its own allowance: previews do not use it up.
            assert posted_html(client, "Hello") == "<p>Hello</p>"
    finally:
        limited.dispose()
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
