"""Comment markdown: a small subset rendered once at write time, then sanitised by an allow-list."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

# Emphasis, links, lists, quotes, code and line breaks; no headings, tables, images or raw HTML.
BLOCK_RULES = ["blockquote", "code", "fence", "list", "reference"]
INLINE_RULES = ["newline", "escape", "backticks", "strikethrough", "emphasis", "link", "autolink", "entity"]
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
ALLOWED_TAGS = frozenset({"p", "br", "em", "strong", "s", "a", "ul", "ol", "li", "blockquote", "code", "pre"})
LINK_REL = "nofollow ugc noopener"
# Bare addresses are not made clickable, but they still advertise: the link limit counts them.
BARE_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>]+")


class _CommentMarkdown(MarkdownIt):
    """markdown-it's "zero" preset with the subset above and a strict link policy."""

    def __init__(self) -> None:
        super().__init__("zero", {"breaks": True, "html": False, "linkify": False})
        self.enable(BLOCK_RULES + INLINE_RULES)

    def validateLink(self, url: str) -> bool:  # markdown-it's hook name
        # Absolute http(s) and mailto only: a relative link would point into the publisher's
        # site, and every other scheme (javascript:, data:, vbscript:, file:…) is refused.
        try:
            parts = urlsplit(url.strip())
        except ValueError:
            return False
        if parts.scheme.lower() not in LINK_SCHEMES:
            return False
        return parts.scheme.lower() == "mailto" or bool(parts.netloc)


@cache
def _markdown() -> _CommentMarkdown:
    return _CommentMarkdown()


@cache
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={"*": set(), "a": {"href"}, "ol": {"start"}},  # "*": no lang or title either
        url_schemes=set(LINK_SCHEMES),
        url_relative="deny",
        link_rel=LINK_REL,
        strip_comments=True,
    )


@dataclass(frozen=True)
class Rendered:
    html: str
    links: int


def render(body: str) -> Rendered:
    """A comment body's sanitised HTML and its number of links (:func:`count_links`), from
    one parse: posting needs both."""
    markdown = _markdown()
    tokens = markdown.parse(body)
    links = sum(_count_inline(block.children or []) for block in tokens)
    html = markdown.renderer.render(tokens, markdown.options, {})
    return Rendered(str(_cleaner().clean(html)).strip(), links)


def render_markdown(body: str) -> str:
    """Sanitised HTML for a comment body; the markdown step escapes raw HTML, nh3 is the backstop."""
    return render(body).html


def sanitize_html(html: str) -> str:
    """Run already-rendered HTML (an import, say) through the same allow-list."""
    return str(_cleaner().clean(html)).strip()


def count_links(body: str) -> int:
    """How many links a body carries: markdown links, autolinks and bare web addresses."""
    count = 0
    for block in _markdown().parse(body):
        count += _count_inline(block.children or [])
    return count


def _count_inline(tokens: list[Token]) -> int:
    count = 0
    inside_link = 0
    for token in tokens:
        if token.type == "link_open":
            count += 1
            inside_link += 1
        elif token.type == "link_close":
            inside_link -= 1
        elif token.type == "text" and not inside_link:
            count += len(BARE_URL.findall(token.content))
    return count
