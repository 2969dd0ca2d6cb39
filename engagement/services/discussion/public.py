"""What a comment looks like outside the server: frozen, JSON-ready, never an e-mail address."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from engagement import validation as check
from engagement.errors import InvalidInput

# Statuses under which a comment is shown in its thread with its text and author.
PUBLISHED = "approved"


@dataclass(frozen=True)
class Anchor:
    """Where inline feedback points: a passage the page marks and/or a quote of a selection."""

    passage: str | None = None
    exact: str | None = None
    prefix: str | None = None
    suffix: str | None = None

    def checked(self) -> Anchor:
        """The anchor with its parts trimmed and measured, or InvalidInput."""
        anchor = Anchor(
            passage=check.single_line(
                "anchor.passage", self.passage, max_length=check.MAX_PASSAGE, required=False
            ),
            exact=check.text("anchor.exact", self.exact, max_length=check.MAX_QUOTE, required=False),
            prefix=_context("anchor.prefix", self.prefix),
            suffix=_context("anchor.suffix", self.suffix),
        )
        if anchor.passage is None and anchor.exact is None:
            raise InvalidInput("anchor", "needs a passage or an exact quote")
        if anchor.exact is None and (anchor.prefix or anchor.suffix):
            raise InvalidInput("anchor", "a prefix or suffix needs an exact quote")
        return anchor


@dataclass(frozen=True)
class Author:
    """The public face of a comment's author: a name, or None for a removed comment.

    ``supporter`` is the badge a site may show on its supporters' comments; ``verified``, that
    the publisher's site signed the author in; never an address.
    """

    name: str | None
    supporter: bool = False
    verified: bool = False


@dataclass(frozen=True)
class CommentView:
    """One comment as the widget and the API show it, replies nested oldest first."""

    id: int
    parent: int | None
    author: Author
    html: str
    created_at: str
    edited_at: str | None
    score: int
    status: str
    deleted: bool
    anchor: Anchor | None = None
    my_vote: int = 0
    reply_count: int = 0
    replies: tuple[CommentView, ...] = field(default=())
    # A top-level comment in a thread page: replies beyond those carried, and their cursor.
    more_replies: int = 0
    replies_cursor: str | None = None


def iso(value: datetime | None) -> str | None:
    """A UTC timestamp as ISO 8601 with a ``Z``: what JSON readers parse without surprise."""
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")


class CommentFields(Protocol):
    """What a view reads of a comment: a loaded Comment, or a row of those columns."""

    @property
    def id(self) -> int: ...
    @property
    def parent_id(self) -> int | None: ...
    @property
    def author_name(self) -> str: ...
    @property
    def author_supporter(self) -> bool: ...
    @property
    def author_verified(self) -> bool: ...
    @property
    def html(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def edited_at(self) -> datetime | None: ...
    @property
    def score(self) -> int: ...
    @property
    def reply_count(self) -> int: ...
    @property
    def anchor_passage(self) -> str | None: ...
    @property
    def anchor_exact(self) -> str | None: ...
    @property
    def anchor_prefix(self) -> str | None: ...
    @property
    def anchor_suffix(self) -> str | None: ...


def comment_view(
    comment: CommentFields,
    *,
    public: bool = True,
    my_vote: int = 0,
    replies: tuple[CommentView, ...] = (),
    status: str | None = None,
) -> CommentView:
    """Shape a comment; ``public`` hides what an unpublished comment said and who said it.

    Authors see their own pending comment and moderators every comment with ``public=False``.
    ``status`` overrides the status shown (a honeypot catch is shown as pending).
    """
    hidden = public and comment.status != PUBLISHED
    shown_status = status or comment.status
    return CommentView(
        id=comment.id,
        parent=comment.parent_id,
        author=_author(comment, shown=not hidden and comment.status != "deleted"),
        html="" if hidden else comment.html,
        created_at=iso(comment.created_at) or "",
        edited_at=iso(comment.edited_at),
        score=comment.score,
        status="deleted" if hidden else shown_status,
        deleted=hidden or comment.status == "deleted",
        anchor=anchor_of(comment),
        my_vote=my_vote,
        reply_count=comment.reply_count,
        replies=replies,
    )


def _author(comment: CommentFields, *, shown: bool) -> Author:
    if not shown:
        return Author(name=None)
    return Author(
        name=comment.author_name,
        supporter=bool(comment.author_supporter),
        verified=bool(comment.author_verified),
    )


def anchor_of(comment: CommentFields) -> Anchor | None:
    if not (comment.anchor_passage or comment.anchor_exact):
        return None
    return Anchor(
        passage=comment.anchor_passage,
        exact=comment.anchor_exact,
        prefix=comment.anchor_prefix,
        suffix=comment.anchor_suffix,
    )


def _context(field_name: str, value: str | None) -> str | None:
    # Prefix and suffix are context around a quote: whitespace there is meaningful, keep it.
    if value is None or value == "":
        return None
    if len(value) > check.MAX_QUOTE_CONTEXT:
        raise InvalidInput(
            field_name, f"must be at most {check.MAX_QUOTE_CONTEXT} characters (got {len(value)})"
        )
    if any(ord(ch) < 32 and ch not in "\n\t\r" for ch in value):
        raise InvalidInput(field_name, "must not contain control characters")
    return value
