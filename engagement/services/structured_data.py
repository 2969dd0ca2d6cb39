"""schema.org JSON-LD for a thread: a DiscussionForumPosting whose comments are Comment items."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

from engagement.services.discussion.permalinks import comment_url
from engagement.services.discussion.public import CommentView
from engagement.services.discussion.threads import ThreadView

CONTEXT = "https://schema.org"
# Elements after which a reader sees a line break: the text keeps it.
BLOCKS = frozenset({"p", "li", "blockquote", "pre", "ul", "ol"})


def discussion_posting(thread: ThreadView, page_url: str | None = None) -> dict[str, Any]:
    """The thread as search engines read it; ``page_url`` is the article's canonical URL.

    A removed comment is left out and its replies move up to its place: they still answer
    the conversation, and a placeholder has no author, text or date to describe.
    """
    url = page_url or thread.page.url
    posting: dict[str, Any] = {"@context": CONTEXT, "@type": "DiscussionForumPosting"}
    if url:
        posting["url"] = url
        posting["mainEntityOfPage"] = url
    posting["headline"] = thread.page.title or url or ""
    posting["commentCount"] = thread.page.comments
    posting["comment"] = _comments(thread.comments, url)
    return posting


def json_ld(data: dict[str, Any]) -> str:
    """JSON for a ``<script type="application/ld+json">``: no ``<``, ``>`` or ``&`` that could
    end the element or open a comment, whatever the comments say."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _comments(views: tuple[CommentView, ...], page_url: str | None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    # Depth-first without recursion: a chain of replies may be deep.
    stack: list[tuple[tuple[CommentView, ...], list[dict[str, Any]]]] = [(views, items)]
    while stack:
        level, into = stack.pop()
        for view in level:
            if view.deleted or view.author.name is None:
                stack.append((view.replies, into))
                continue
            item = _comment(view, page_url)
            into.append(item)
            if view.replies:
                stack.append((view.replies, item.setdefault("comment", [])))
    return items


def _comment(view: CommentView, page_url: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {"@type": "Comment"}
    if page_url:
        link = comment_url(page_url, view.id)
        item["@id"] = link
        item["url"] = link
    item["author"] = {"@type": "Person", "name": view.author.name}
    item["dateCreated"] = view.created_at
    if view.edited_at:
        item["dateModified"] = view.edited_at
    item["text"] = plain_text(view.html)
    item["upvoteCount"] = max(view.score, 0)
    return item


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in BLOCKS:
            self.parts.append("\n\n")


def plain_text(comment_html: str) -> str:
    """A comment's sanitised HTML as the text a reader sees, paragraphs kept apart."""
    parser = _Text()
    parser.feed(comment_html)
    parser.close()
    lines = "".join(parser.parts).strip()
    while "\n\n\n" in lines:
        lines = lines.replace("\n\n\n", "\n\n")
    return lines
