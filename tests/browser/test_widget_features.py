"""The widget's extension points as a feature module uses them: hooks, words, headers, sections, arrivals."""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import expect
from widget_build import ROOT, build_widget

from browser.support import comment, open_widget, page_key, seed

pytestmark = pytest.mark.browser

# A feature as other engineers write one: a file in widget/src/features/, bundled before main.js.
PROBE = """
import { addSection, onReady, onStart } from "../hooks.js";
import { defineStrings, t } from "../strings.js";
import { addHeaders } from "../api.js";
import { insertComment } from "../thread.js";
import { h } from "../dom.js";

onStart(() => {
  throw new Error("a broken feature");
});
onStart(({ dataset, root }) => {
  defineStrings({ locale: "de", formHeading: `Probe for ${dataset.site}`, probeWord: "probed" });
  root.dataset.probeStarted = "yes";
});
addHeaders(({ method }) => (method === "GET" ? { "If-None-Match": '"probe"' } : {}));
addSection(() => h("p", { class: "eg-probe" }, t("probeWord")));
onReady(() => {
  window.probeInsert = insertComment;
});
"""


@pytest.fixture(scope="module")
def probe_bundle(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    root = tmp_path_factory.mktemp("widget-probe")
    shutil.copytree(ROOT / "widget", root / "widget")
    (root / "widget" / "src" / "features").mkdir(exist_ok=True)
    (root / "widget" / "src" / "features" / "probe.js").write_text(PROBE)
    return build_widget(root / "widget.js", root=root)


def thread_json(page, engagement, url: str) -> list[dict]:
    script = """async ([base, key]) => {
      const r = await fetch(`${base}/api/v1/comments?site=daily&page=${encodeURIComponent(key)}`);
      return (await r.json()).comments;
    }"""
    return page.evaluate(script, [engagement.url, page_key(url)])


def test_a_feature_module_hooks_into_the_widget(
    page, publisher, engagement, probe_bundle: bytes, page_errors
):
    page.route(
        f"{engagement.url}/widget.js",
        lambda route: route.fulfill(status=200, content_type="text/javascript", body=probe_bundle),
    )
    headers: list[dict[str, str]] = []
    # The live stream aside: an EventSource carries no header of ours.
    api_get = lambda r: "/api/v1/" in r.url and "/api/v1/stream?" not in r.url and r.method == "GET"  # noqa: E731
    page.on("request", lambda r: headers.append(r.headers) if api_get(r) else None)
    url = publisher.page(t="features")
    open_widget(page, url)

    # Start hooks ran in turn (a failing one logged, not fatal) and changed the words before the draw.
    expect(page.locator("#engagement-thread")).to_have_attribute("data-probe-started", "yes")
    expect(page.locator(".eg-widget > h3")).to_have_text("Probe for daily")
    # A section after the thread's panels; every request carried the feature's header.
    expect(page.locator(".eg-widget > [role=tabpanel] ~ p.eg-probe")).to_have_text("probed")
    assert headers
    assert all(h.get("if-none-match") == '"probe"' for h in headers)

    # Comments arriving from elsewhere: drawn where they belong, once, and the reader's focus stays.
    top = seed(engagement, url, body="Arrived from elsewhere.").comment
    [arrived] = thread_json(page, engagement, url)
    seed(engagement, url, parent=top.id, body="A reply that arrived too.")
    [with_reply] = thread_json(page, engagement, url)
    [reply] = with_reply["replies"]
    inserted = page.evaluate(
        "([c, r]) => [window.probeInsert(c), window.probeInsert(c), window.probeInsert(r)]", [arrived, reply]
    )
    assert inserted == [True, False, True]
    expect(comment(page, "Arrived from elsewhere.")).to_have_count(1)
    expect(comment(page, "Arrived from elsewhere.").locator("ol.eg-replies")).to_contain_text(
        "A reply that arrived too."
    )
    expect(page.locator(".eg-widget .eg-toolbar h2")).to_have_text("2 Comments")
    assert page.evaluate("document.activeElement === document.body")
    # Dates follow the words' locale (a language feature sets it).
    assert time_titles(page) == formatted(page, "de")


def time_titles(page) -> list[tuple[str, str]]:
    """Each comment's time: its ISO datetime and the full date its link's title shows."""
    script = "els => els.map(a => [a.querySelector('time').dateTime, a.title])"
    return page.locator(".eg-thread .eg-time").evaluate_all(script)


def formatted(page, locale: str) -> list[tuple[str, str]]:
    script = """([pairs, locale]) => pairs.map(([iso]) =>
      [iso, new Date(iso).toLocaleString(locale, { dateStyle: "long", timeStyle: "short" })])"""
    return page.evaluate(script, [time_titles(page), locale])


def test_dates_are_written_in_the_page_language_by_default(page, publisher, engagement, page_errors):
    url = publisher.page(t="dates")
    seed(engagement, url, body="Dated.")
    open_widget(page, url)
    titles = time_titles(page)
    assert len(titles) == 1
    assert titles == formatted(page, "en")
    assert titles[0][1] != titles[0][0]
