"""Comment markdown: the subset we promise, and nothing executable surviving it (hypothesis)."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from engagement.rendering import ALLOWED_TAGS, count_links, render_markdown, sanitize_html

SAFE_SCHEMES = ("http", "https", "mailto")
# Pieces of known attacks and of the markdown around them; hypothesis splices them with noise.
ATTACK_PIECES = [
    "<script>alert(1)</script>",
    "<ScRiPt >alert(1)</sCrIpT>",
    "<script",
    "</script>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=x OnErRoR=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<a href='javascript:alert(1)'>x</a>",
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    "<iframe src=javascript:alert(1)>",
    "<body onload=alert(1)>",
    "<div style=\"background:url('javascript:alert(1)')\">",
    "<!--",
    "-->",
    "<![CDATA[",
    "[x](",
    "](",
    "[",
    "]",
    "(",
    ")",
    "![i](",
    "<",
    ">",
    '"',
    "'",
    "`",
    "```",
    "\n",
    "\n\n",
    "> ",
    "- ",
    "1. ",
    "*",
    "_",
    "\\",
    "&",
    "&#",
    "&#x",
    ";",
    ":",
    "javascript:",
    "JaVaScRiPt:",
    "java\tscript:",
    "java\nscript:",
    " javascript:",
    "&#106;avascript:",
    "&#x6A;avascript:",
    "&#0000106;avascript:",
    "jav&#x0A;ascript:",
    "javascript&colon;",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "DATA:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "VbScRiPt:",
    "alert(1)",
    "onerror=",
    "onmouseover=",
    " on",
    "http://example.org/",
    "https://example.org/a?b=c",
    "mailto:a@example.org",
    "<http://x.org>",
    "<javascript:alert(1)>",
    "%0a",
    "\x00",
    "\u2028",
]
attack_text = st.lists(st.sampled_from(ATTACK_PIECES) | st.text(max_size=5), max_size=25).map("".join)


class _Inspector(HTMLParser):
    """Collects every element and attribute of rendered output, entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend((tag, name, value or "") for name, value in attrs)

    handle_startendtag = handle_starttag


def assert_inert(output: str) -> None:
    assert "<script" not in output.lower()
    inspector = _Inspector()
    inspector.feed(output)
    inspector.close()
    assert set(inspector.tags) <= ALLOWED_TAGS, inspector.tags
    for tag, name, value in inspector.attrs:
        assert not name.lower().startswith("on"), (tag, name)
        assert name in {"href", "rel", "start"}, (tag, name)
        if name == "href":
            # Browsers drop ASCII whitespace and controls inside a scheme: compare as they do.
            squeezed = re.sub(r"[\x00-\x20]", "", html.unescape(value)).lower()
            scheme = squeezed.split(":", 1)[0] if ":" in squeezed else ""
            assert scheme in SAFE_SCHEMES, value
            assert not squeezed.startswith(("javascript", "data", "vbscript"))


@settings(max_examples=400, deadline=None)
@given(attack_text)
def test_nothing_executable_survives_rendering(body):
    assert_inert(render_markdown(body))


@settings(max_examples=400, deadline=None)
@given(attack_text)
def test_nothing_executable_survives_the_sanitiser_alone(raw_html):
    # The backstop on its own, fed raw HTML (as imports are) that markdown would have escaped.
    assert_inert(sanitize_html(raw_html))


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["javascript", "JaVaScRiPt", "data", "DATA", "vbscript", "VBScript"]),
    st.text(max_size=20),
)
def test_dangerous_link_schemes_in_markdown_stay_text(scheme, rest):
    output = render_markdown(f"[click]({scheme}:{rest}) <{scheme}:{rest}>")
    assert_inert(output)
    assert "<a " not in output


def test_the_supported_subset():
    body = (
        "Some *emphasis*, **strong**, ~~gone~~ and `code`.\nNext line.\n\n"
        "> quoted\n\n- one\n- two\n\n3. three\n"
    )
    output = render_markdown(body + "\n```\nblock <b>\n```\n")
    assert "<em>emphasis</em>" in output
    assert "<strong>strong</strong>" in output
    assert "<s>gone</s>" in output
    assert "<code>code</code>" in output
    assert "<br>" in output
    assert "<blockquote>" in output
    assert "<ul>" in output
    assert '<ol start="3">' in output
    assert "<pre><code>block &lt;b&gt;\n</code></pre>" in output


def test_links_are_marked_and_limited_to_safe_schemes():
    output = render_markdown(
        "[a](https://example.org/x) [b](mailto:me@example.org) [c](/relative) [d](ftp://x.org)"
    )
    assert '<a href="https://example.org/x" rel="nofollow ugc noopener">a</a>' in output
    assert '<a href="mailto:me@example.org" rel="nofollow ugc noopener">b</a>' in output
    assert output.count("<a ") == 2
    assert "[c](/relative)" in output


def test_no_images_headings_or_raw_html():
    output = render_markdown(
        "# Title\n\n![pic](https://example.org/p.png)\n\n<b>bold</b>\n\n| a |\n|---|\n| b |"
    )
    assert "<h1" not in output
    assert "<img" not in output
    assert "<b>" not in output
    assert "&lt;b&gt;bold&lt;/b&gt;" in output
    assert "<table" not in output


def test_entities_stay_text():
    assert (
        render_markdown("&lt;script&gt;alert(1)&lt;/script&gt;")
        == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    )


def test_count_links():
    assert count_links("no links here") == 0
    assert count_links("[a](https://a.org) <https://b.org> https://c.org www.d.org") == 4
    assert count_links("[a](https://a.org/https://x.org)") == 1
    assert count_links("`https://in.code`") == 0
    assert count_links("[a](javascript:alert(1))") == 0


def test_the_sanitiser_keeps_no_attribute_outside_the_allow_list():
    assert sanitize_html('<p title="t" lang="en" class="c" style="x" id="i">text</p>') == "<p>text</p>"
    assert sanitize_html('<a href="https://x.org" target="_blank" rel="opener">x</a>') == (
        '<a href="https://x.org" rel="nofollow ugc noopener">x</a>'
    )
    assert sanitize_html('<a href="/relative">x</a>') == '<a rel="nofollow ugc noopener">x</a>'
