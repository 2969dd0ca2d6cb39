"""Embedding: one script tag, a small download, no cookie, no third-party request; count.js on a listing."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from browser.support import main_form, open_widget, page_key, post_comment_ui, seed
from engagement.services.discussion.reactions import react

STATIC = Path(__file__).parents[2] / "engagement" / "web" / "static"
SOURCES = Path(__file__).parents[2] / "widget" / "src"
BUDGET = 25 * 1024  # JS + CSS, gzipped, as the widget's promise says (widget.js: the minified bundle)


def gzipped(name: str) -> int:
    return len(gzip.compress((STATIC / name).read_bytes(), 9))


def test_widget_is_under_25_kb_gzipped():
    total = gzipped("widget.js") + gzipped("widget.css")
    assert total < BUDGET, f"widget.js + widget.css are {total} bytes gzipped (budget {BUDGET})"
    assert gzipped("count.js") < 2 * 1024


def test_scripts_use_no_cookie_and_no_framework():
    # The widget's modules import one another (and nothing else); what is served is one plain
    # script: the bundle, and count.js.
    sources = sorted(SOURCES.rglob("*.js"))
    assert sources
    for path in [*sources, STATIC / "widget.js", STATIC / "count.js"]:
        source = path.read_text()
        assert "document.cookie" not in source
        assert not re.search(r"credentials:\s*[\"']include", source)
        assert "eval(" not in source
        assert "new Function" not in source
        if SOURCES in path.parents:
            # `import … from "x"`, `export … from "x"` (across lines) and `import "x"`.
            found = re.findall(
                r"^(?:import|export)\b[^;]*?\bfrom\s*[\"']([^\"']+)|^import\s*[\"']([^\"']+)", source, re.M
            )
            imported = [a or b for a, b in found]
            assert all(name.startswith(("./", "../")) for name in imported), f"{path.name} imports {imported}"
            assert not re.search(r"\bimport\(|\brequire\(", source), path.name
        else:
            assert not re.search(r"\bimport\b|\brequire\(", source), f"{path.name} must be a plain script"


@pytest.mark.browser
def test_no_cookie_no_third_party_request(page, context, publisher, engagement, page_errors):
    requests: list[tuple[str, str, dict]] = []
    page.on("request", lambda r: requests.append((r.method, r.url, r.headers)))
    url = publisher.page(t="embedding")
    open_widget(page, url)
    page.get_by_role("button", name="Like").click()
    expect(page.get_by_role("button", name="Like")).to_have_attribute("aria-pressed", "true")
    post_comment_ui(main_form(page), "Hello from the embed test.")
    expect(main_form(page).locator(".eg-status")).to_have_text("Your comment is published.")

    allowed = (publisher.url + "/", engagement.url + "/")
    assert requests
    assert all(u.startswith(allowed) for _m, u, _h in requests), [u for _m, u, _h in requests]
    api = [(m, u, h) for m, u, h in requests if u.startswith(engagement.url + "/api/")]
    assert {m for m, _u, _h in api} >= {"GET", "PUT", "POST"}
    # The live stream names no reader (an EventSource sends no header of ours).
    readers = {h.get("x-engagement-reader") for _m, u, h in api if "/api/v1/stream?" not in u}
    assert len(readers) == 1
    [reader] = readers
    assert re.fullmatch(r"[0-9a-f]{32}", reader)
    assert context.cookies() == []
    assert page.evaluate("document.cookie") == ""
    stored = page.evaluate("JSON.parse(localStorage.getItem('engagement.tokens'))")
    [(comment_id, token)] = stored.items()
    assert token["body"] == "Hello from the embed test."
    assert token["expires"] > page.evaluate("Date.now()") + 14 * 60 * 1000  # the 15-minute window
    assert page.evaluate("JSON.parse(localStorage.getItem('engagement.reader'))") == reader
    assert int(comment_id) > 0


@pytest.mark.browser
def test_count_js_fills_a_listing_with_one_request(page, publisher, engagement, page_errors):
    one = publisher.page("article.html", t="counts-one")
    two = publisher.page("article.html", t="counts-two")
    seed(engagement, one, body="First.")
    seed(engagement, one, body="Second.")
    seed(engagement, two, body="Only one.")
    react(engagement.core.uow(), "daily", page_key(one), "count-reader-0001", "like")
    counts: list[str] = []
    page.on("request", lambda r: counts.append(r.url) if "/api/v1/counts" in r.url else None)
    page.goto(publisher.page("listing.html"))
    spans = page.locator("[data-engagement-count]")
    expect(spans).to_have_text(["2 comments", "1 comment", "0 comments", "1 reaction", "1"])
    expect(spans.first).to_have_attribute("data-engagement-value", "2")
    assert len(counts) == 1, counts
