"""The JSON shapes of comments and threads: strict request models, documented answers, shaping."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engagement.services.discussion.public import Anchor, CommentView
from engagement.services.discussion.thread_sql import CONTEXT_MAX_REPLIES, REPLIES_PER_THREAD
from engagement.services.discussion.threads import RepliesView, ThreadView
from engagement.web.deps import SiteKey

# Replies deeper than this are listed, oldest first, under their ancestor at this depth: the
# data's depth is unbounded, the JSON's is not. ``parent`` still names the real parent.
MAX_NESTING = 16


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class QuoteIn(Strict):
    exact: str = Field(max_length=1000)
    prefix: str | None = Field(default=None, max_length=200)
    suffix: str | None = Field(default=None, max_length=200)


class AnchorIn(Strict):
    passage: str | None = Field(default=None, max_length=200, description="A `data-engagement-passage` id")
    quote: QuoteIn | None = Field(default=None, description="A text quote of the selected passage")

    def to_anchor(self) -> Anchor:
        quote = self.quote
        return Anchor(
            passage=self.passage,
            exact=quote.exact if quote else None,
            prefix=quote.prefix if quote else None,
            suffix=quote.suffix if quote else None,
        )


class AuthorIn(Strict):
    name: str = Field(max_length=100)
    email: str | None = Field(default=None, max_length=320, description="Private: never shown or returned")


class CommentIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "site": "demo",
                    "page": "https://example.org/2026/11/article",
                    "page_title": "An article",
                    "author": {"name": "Jane", "email": "jane@example.org"},
                    "body": "A *thoughtful* comment.",
                    "anchor": {"passage": "p1"},
                    "notify": "replies",
                }
            ]
        },
    )

    site: SiteKey
    page: str = Field(max_length=2000, description="The page's URL, path or explicit id")
    page_title: str | None = Field(default=None, max_length=300)
    parent: int | None = Field(default=None, ge=1, le=2**31 - 1)
    author: AuthorIn | None = Field(
        default=None, description="Required of guests; a reader signed in with `X-Engagement-SSO` sends none"
    )
    body: str = Field(max_length=10_000, description="Markdown subset")
    anchor: AnchorIn | None = None
    notify: Literal["none", "replies", "all"] = "none"
    honeypot: str | None = Field(default=None, max_length=1000, description="Left empty by people")
    locale: str | None = Field(
        default=None,
        max_length=35,
        description="BCP 47 tag of the language the widget shows: the author's mails speak it",
    )


class CommentEdit(Strict):
    body: str = Field(max_length=10_000)


class QuoteOut(BaseModel):
    exact: str
    prefix: str | None
    suffix: str | None


class AnchorOut(BaseModel):
    passage: str | None
    quote: QuoteOut | None


class AuthorOut(BaseModel):
    name: str | None
    supporter: bool = Field(default=False, description="The site shows a supporter badge on this author")
    verified: bool = Field(default=False, description="The publisher's site signed this author in")


class CommentOut(BaseModel):
    id: int
    parent: int | None
    author: AuthorOut
    html: str
    created_at: str
    edited_at: str | None
    score: int
    my_vote: int
    anchor: AnchorOut | None
    replies: list[CommentOut]
    reply_count: int
    more_replies: int = Field(
        description="Replies of this top-level comment that did not fit in this answer (0 for replies)"
    )
    replies_cursor: str | None = Field(
        description="Where `GET /api/v1/comments/{id}/replies` continues, when `more_replies` > 0"
    )
    status: str = Field(description="approved, pending (the author's own), or deleted (a placeholder)")
    deleted: bool


class RepliesOut(BaseModel):
    replies: list[CommentOut] = Field(description="Oldest first, flat: each names its parent")
    next_cursor: str | None


class PageOut(BaseModel):
    url: str | None
    title: str | None
    comments: int
    reactions: dict[str, int]
    my_reaction: str | None


class ThreadOut(BaseModel):
    page: PageOut
    comments: list[CommentOut]
    next_cursor: str | None


class ContextOut(BaseModel):
    comment: CommentOut = Field(
        description=(
            "The linked comment's top-level comment, replies nested oldest first. When the linked"
            f" reply is among its first {CONTEXT_MAX_REPLIES}: every reply up to and including it"
            f" (at least {REPLIES_PER_THREAD}). Beyond: the oldest {REPLIES_PER_THREAD}, as a thread"
            " page carries them, then the linked reply and its ancestors not among those, each"
            " under its parent. `more_replies` and `replies_cursor` go on from the last of the"
            " oldest replies carried, so the replies read may give the linked reply and its"
            " ancestors again: draw each id once"
        )
    )


class PostedOut(BaseModel):
    comment: CommentOut
    edit_token: str = Field(description="Shown once: lets the author edit or delete within the window")
    status: Literal["approved", "pending"]
    confirmation_needed: bool = Field(description="A mail asks the author to confirm their address")


class EditedOut(BaseModel):
    comment: CommentOut


def anchor_json(anchor: Anchor | None) -> dict[str, Any] | None:
    if anchor is None:
        return None
    quote = None
    if anchor.exact is not None:
        quote = {"exact": anchor.exact, "prefix": anchor.prefix, "suffix": anchor.suffix}
    return {"passage": anchor.passage, "quote": quote}


def comment_json(view: CommentView, depth: int = 0) -> dict[str, Any]:
    """One comment and its replies as the API shows them (no address: CommentView holds none)."""
    if depth + 1 >= MAX_NESTING:
        replies = [comment_json(reply, depth + 1) for reply in _flattened(view.replies)]
    else:
        replies = [comment_json(reply, depth + 1) for reply in view.replies]
    return {
        "id": view.id,
        "parent": view.parent,
        "author": {
            "name": view.author.name,
            "supporter": view.author.supporter,
            "verified": view.author.verified,
        },
        "html": view.html,
        "created_at": view.created_at,
        "edited_at": view.edited_at,
        "score": view.score,
        "my_vote": view.my_vote,
        "anchor": anchor_json(view.anchor),
        "replies": replies,
        "reply_count": view.reply_count,
        "more_replies": view.more_replies,
        "replies_cursor": view.replies_cursor,
        "status": view.status,
        "deleted": view.deleted,
    }


def _flattened(replies: tuple[CommentView, ...]) -> list[CommentView]:
    """Every descendant, oldest first, each without its own replies (iterative: depth is unbounded)."""
    found: list[CommentView] = []
    stack = list(replies)
    while stack:
        view = stack.pop()
        stack.extend(view.replies)
        found.append(replace(view, replies=()))
    return sorted(found, key=lambda v: (v.created_at, v.id))


def replies_json(page: RepliesView) -> dict[str, Any]:
    return {"replies": [comment_json(view) for view in page.replies], "next_cursor": page.next_cursor}


def thread_json(thread: ThreadView) -> dict[str, Any]:
    page = thread.page
    return {
        "page": {
            "url": page.url,
            "title": page.title,
            "comments": page.comments,
            "reactions": page.reactions,
            "my_reaction": page.my_reaction,
        },
        "comments": [comment_json(view) for view in thread.comments],
        "next_cursor": thread.next_cursor,
    }
