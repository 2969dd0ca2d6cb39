"""Comments, names, quotes and site settings carrying XSS payloads render inert in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from browser.support import main_form, open_widget, post_comment_ui, seed
from engagement.services.discussion.public import Anchor

pytestmark = pytest.mark.browser

# Each payload would set window.__pwned or open a dialog if it ever ran.
BODIES = [
    "<script>window.__pwned = 'script'; alert('script')</script>",
    "<img src=x onerror=\"window.__pwned='img'; alert('img')\">",
    "[click me](javascript:window.__pwned='link';alert('link'))",
    "[tricky](JaVaScRiPt&#58;alert('entity'))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<svg onload=\"window.__pwned='svg'; alert('svg')\"><circle r=5></circle></svg>",
    "<svg><animate onbegin=alert('animate') attributeName=x dur=1s></svg>",
    "<a href=\"javascript:alert('raw link')\">raw link</a>",
    "<iframe src=\"javascript:alert('iframe')\"></iframe>",
    "<details open ontoggle=\"window.__pwned='details'; alert('details')\">x</details>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('mxss')></style></mglyph></table>"
    "</mtext></math>",
    '<style>body{display:none}</style><div style="position:fixed;inset:0">overlay</div>',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    "![image](x\" onerror=\"alert('md image'))",
    "`<script>alert('code')</script>` and\n\n    <img src=x onerror=alert('indented')>",
]
NAME = "<img src=x onerror=\"window.__pwned='name'; alert('name')\">"
QUOTE = "<svg onload=alert('quote')>"


def assert_inert(page) -> None:
    """Nothing ran, and nothing that could run is in the widget's DOM."""
    assert page.evaluate("window.__pwned") is None
    found = page.evaluate(
        """() => {
            const bad = [];
            const shown = '.eg-body *, .eg-meta *, .eg-anchor *, .eg-reactions *, .eg-support *, .eg-quote *';
            for (const el of document.querySelectorAll(shown)) {
                const tag = el.tagName.toLowerCase();
                if (['script', 'iframe', 'object', 'embed', 'form', 'style', 'math', 'img'].includes(tag))
                    bad.push(tag);
                if (tag === 'svg' && !el.classList.contains('eg-icon')) bad.push('svg');
            }
            for (const el of document.querySelectorAll('.eg-root, .eg-root *, [data-engagement-article] *')) {
                const tag = el.tagName.toLowerCase();
                for (const a of el.attributes) {
                    if (a.name.startsWith('on')) bad.push(tag + '[' + a.name + ']');
                    if (/^\\s*(javascript|data|vbscript):/i.test(a.value)) bad.push(tag + '=' + a.value);
                }
            }
            return bad;
        }"""
    )
    assert found == [], found
    # The article is not hidden by a payload's stylesheet.
    expect(page.locator("[data-engagement-article] h1")).to_be_visible()


def test_payloads_in_comments_render_inert(page, publisher, engagement, no_dialogs, page_errors):
    url = publisher.page(t="xss-comments")
    top = seed(
        engagement, url, body=BODIES[0], author_name=NAME, page_title="<script>alert('title')</script>"
    )
    for body in BODIES[1:]:
        seed(engagement, url, body=body, author_name=NAME, parent=top.comment.id)
    seed(
        engagement,
        url,
        body="On a quote",
        author_name=NAME,
        anchor=Anchor(passage="vote\"]<img src=x onerror=alert('passage')>", exact=QUOTE, prefix="<b>"),
    )
    open_widget(page, url)
    expect(page.locator(".eg-thread .eg-comment")).to_have_count(len(BODIES) + 1)
    # The names are shown as the text they are.
    expect(page.locator(".eg-name").first).to_have_text(NAME)
    # Links that survived sanitising go nowhere dangerous; clicking each runs nothing.
    for link in page.locator(".eg-body a").all():
        href = link.get_attribute("href") or ""
        assert not href.lower().startswith(("javascript", "data", "vbscript")), href
        if not href.startswith("http"):
            link.click()
    page.get_by_role("tab", name="Inline Feedbacks").click()
    expect(page.locator(".eg-inline-list .eg-anchor q")).to_have_text(QUOTE)
    page.locator(".eg-inline-list").get_by_role("button", name="Show in article").click()
    page.get_by_role("tab", name="Comments").click()
    for card in page.locator(".eg-thread .eg-card").all()[:4]:
        card.hover()
    page.wait_for_timeout(300)  # give any delayed handler (onbegin, ontoggle) its chance
    assert_inert(page)


def test_payloads_typed_into_the_form_render_inert(page, publisher, no_dialogs, page_errors):
    open_widget(page, publisher.page(t="xss-form"))
    for body in BODIES[:4]:
        post_comment_ui(main_form(page), body, name=NAME)
        expect(main_form(page).locator(".eg-status")).to_have_text("Your comment is published.")
    expect(page.locator(".eg-thread .eg-comment")).to_have_count(4)
    # The author's own comment opens for editing with the markdown as typed, as text.
    page.locator(".eg-thread .eg-card").first.get_by_role("button", name="Edit", exact=True).click()
    expect(page.locator("form.eg-edit textarea")).to_have_value(BODIES[3])
    assert_inert(page)


def test_site_settings_render_as_text(page, publisher, no_dialogs, page_errors):
    open_widget(page, publisher.page(t="xss-site", site="evil"))
    expect(page.locator(".eg-reaction").first).to_contain_text("<img src=x onerror=alert(1)> Boo")
    expect(page.locator(".eg-reaction").nth(1)).to_contain_text("<b onmouseover=alert(1)>Yay</b>")
    page.locator(".eg-reaction").nth(1).hover()
    expect(page.locator(".eg-support")).to_contain_text("<script>alert('support')</script> Support us")
    assert_inert(page)
