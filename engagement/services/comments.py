"""Post, edit and delete comments: the author's side of a thread."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement import validation as check
from engagement.errors import CommentNotFound, EditWindowClosed, InvalidInput, InvalidToken
from engagement.keys import hash_token, new_edit_token, token_matches
from engagement.metrics import instruments
from engagement.models import Comment, Page, Site
from engagement.outbox import COMMENT_PENDING
from engagement.rendering import render_markdown
from engagement.services.moderation import Verdict, assess, content_reason, refuse_banned
from engagement.services.pages import ensure_page, page_key
from engagement.services.public import Anchor, CommentView, comment_view
from engagement.services.publication import is_visible, load_comment, publish, withdraw
from engagement.services.sites import get_site
from engagement.services.subscriptions import add_subscription
from engagement.services.supporter_flags import is_supporter
from engagement.uow import UnitOfWork

NOTIFY_CHOICES = ("none", "replies", "all")
MAX_READER_ID = 200
MAX_PATH = 2000


@dataclass(frozen=True, kw_only=True)
class PostComment:
    """A new comment or reply as a reader sends it; ``page`` is a URL, a path or an explicit id."""

    site: str
    page: str
    page_title: str | None = None
    parent: int | None = None
    author_name: str
    author_email: str | None = None
    body: str
    anchor: Anchor | None = None
    notify: str = "none"
    reader_id: str | None = None
    client_ip: str | None = None
    honeypot: str | None = None


@dataclass(frozen=True)
class PostedComment:
    """The stored comment, and the edit token shown to its author this once."""

    comment: CommentView
    edit_token: str
    status: str  # "approved" or "pending"
    confirmation_needed: bool


def post_comment(uow: UnitOfWork, request: PostComment) -> PostedComment:
    """Store a comment, publish it or queue it for moderation, and subscribe its author if asked."""
    draft = _checked(request)
    with uow:
        site = get_site(uow.session, draft.site)
        reader = uow.keys.reader_hash(draft.reader_id) if draft.reader_id else None
        refuse_banned(uow.session, site, draft.author_email, reader)
        if uow.limiter is not None:
            identities = {"reader": reader, "ip": draft.client_ip, "email": draft.author_email}
            uow.limiter.check("comment", identities)
        page = ensure_page(uow, site, draft.page, draft.page_title)
        parent = _parent(uow.session, page, draft.parent)
        verdict = assess(
            uow.session,
            site,
            body=draft.body,
            email=draft.author_email,
            reader=reader,
            honeypot=draft.honeypot,
        )
        token = new_edit_token()
        comment = _insert(uow, site, page, parent, draft, reader, verdict, hash_token(token))
        confirmation_needed = _subscribe(uow, site, page, comment, draft, verdict)
        uow.commit()
        instruments().comments_posted.labels(site.key, verdict.status).inc()
        # A honeypot catch reads exactly like a comment waiting for a moderator.
        status = "approved" if verdict.status == "approved" else "pending"
        return PostedComment(
            comment=comment_view(comment, public=False, status=status),
            edit_token=token,
            status=status,
            confirmation_needed=confirmation_needed,
        )


def edit_comment(uow: UnitOfWork, comment_id: int, edit_token: str, body: str) -> CommentView:
    """Change a comment's text within the site's edit window; a body that now breaks a rule
    sends a published comment back to the moderation queue."""
    body = check.required_text("body", body, max_length=check.MAX_BODY)
    with uow:
        comment, site = _own_comment(uow, comment_id, edit_token)
        comment.body = body
        comment.html = render_markdown(body)
        comment.edited_at = uow.now()
        reason = content_reason(site, body)
        if reason is not None and comment.status in ("approved", "pending"):
            if comment.status == "approved":
                withdraw(uow, comment, "pending")
                uow.add_event(COMMENT_PENDING, {"comment_id": comment.id})
            comment.moderation_reason = reason
        uow.commit()
        return comment_view(comment, public=False, status=_author_status(comment))


def delete_comment(uow: UnitOfWork, comment_id: int, edit_token: str) -> None:
    """Remove a comment within the edit window: with replies it stays as a nameless placeholder."""
    with uow:
        comment, _site = _own_comment(uow, comment_id, edit_token)
        withdraw(uow, comment, "deleted")
        comment.body = ""
        comment.html = ""
        comment.author_name = ""
        comment.author_email = None
        comment.author_reader = None
        comment.edit_token_hash = None
        comment.moderation_reason = None
        # The anchor stays: it quotes the article, not the author, and keeps a placeholder
        # under its passage in the "Inline Feedbacks" tab.
        uow.commit()


@dataclass(frozen=True)
class _Draft:
    site: str
    page: str
    page_title: str | None
    parent: int | None
    author_name: str
    author_email: str | None
    body: str
    anchor: Anchor | None
    notify: str
    reader_id: str | None
    client_ip: str | None
    honeypot: str | None


def _checked(request: PostComment) -> _Draft:
    """Every check that needs no database, before the transaction opens."""
    if not isinstance(request.site, str) or not request.site:
        raise InvalidInput("site", "is required")
    page_key(request.page)
    title = check.single_line("page_title", request.page_title, max_length=check.MAX_TITLE, required=False)
    if request.parent is not None and (
        isinstance(request.parent, bool) or not isinstance(request.parent, int)
    ):
        raise InvalidInput("parent", "must be a comment id")
    notify = check.one_of("notify", request.notify or "none", NOTIFY_CHOICES)
    email = check.email("author_email", request.author_email) if request.author_email else None
    if notify != "none" and email is None:
        raise InvalidInput("notify", "needs an e-mail address to send notifications to")
    anchor = request.anchor.checked() if request.anchor is not None else None
    if anchor is not None and request.parent is not None:
        raise InvalidInput("anchor", "only a top-level comment can point at a passage")
    return _Draft(
        site=request.site,
        page=request.page,
        page_title=title,
        parent=request.parent,
        author_name=_name(request.author_name),
        author_email=email,
        body=check.required_text("body", request.body, max_length=check.MAX_BODY),
        anchor=anchor,
        notify=notify,
        reader_id=check.single_line("reader_id", request.reader_id, max_length=MAX_READER_ID, required=False),
        client_ip=check.single_line("client_ip", request.client_ip, max_length=64, required=False),
        honeypot=request.honeypot,
    )


def _name(value: str) -> str:
    # A name ends up in mail headers ("Jane replied"): one line, like a title.
    name = check.single_line("author_name", value, max_length=check.MAX_NAME)
    assert name is not None
    return name


def _parent(session: Session, page: Page, parent_id: int | None) -> Comment | None:
    if parent_id is None:
        return None
    # Locked, so a concurrent delete sees this reply in the parent's count (PostgreSQL).
    parent = session.scalars(
        sa.select(Comment).where(Comment.id == parent_id).with_for_update()
    ).one_or_none()
    if parent is None or parent.page_id != page.id:
        raise InvalidInput("parent", "is not a comment on this page")
    if not is_visible(parent):
        raise InvalidInput("parent", "cannot be replied to")
    if len(parent.path) + len(str(parent.id)) + 2 > MAX_PATH:
        raise InvalidInput("parent", "this thread is too deep to reply to")
    return parent


def _insert(
    uow: UnitOfWork,
    site: Site,
    page: Page,
    parent: Comment | None,
    draft: _Draft,
    reader: str | None,
    verdict: Verdict,
    token_hash: str,
) -> Comment:
    anchor = draft.anchor or Anchor()
    comment = Comment(
        page_id=page.id,
        **_placement(parent),
        author_name=draft.author_name,
        author_email=draft.author_email,
        author_reader=reader,
        author_supporter=_badge(uow.session, site, draft.author_email),
        body=draft.body,
        html=render_markdown(draft.body),
        # Published by publish() below, so counts and the event follow one path.
        status="pending" if verdict.status == "approved" else verdict.status,
        moderation_reason=verdict.reason,
        created_at=uow.now(),
        score=0,
        reply_count=0,
        edit_token_hash=token_hash,
        anchor_passage=anchor.passage,
        anchor_exact=anchor.exact,
        anchor_prefix=anchor.prefix,
        anchor_suffix=anchor.suffix,
    )
    uow.session.add(comment)
    uow.session.flush()
    if parent is None:
        comment.thread_id = comment.id
    if verdict.status == "approved":
        publish(uow, comment)
    elif verdict.status == "pending":
        uow.add_event(COMMENT_PENDING, {"comment_id": comment.id})
    return comment


def _badge(session: Session, site: Site, email: str | None) -> bool:
    """Whether the new comment shows the supporter badge (asked only of sites that show it)."""
    if not site.supporter_badges or email is None:
        return False
    return bool(session.scalar(sa.select(is_supporter(site.id, email))))


def _placement(parent: Comment | None) -> dict[str, Any]:
    """Where a new comment sits in its thread: under its parent, or a root (thread id set later)."""
    if parent is None:
        return {"parent_id": None, "thread_id": None, "path": "", "depth": 0}
    path = f"{parent.path or '/'}{parent.id}/"
    return {"parent_id": parent.id, "thread_id": parent.thread_id, "path": path, "depth": parent.depth + 1}


def _subscribe(
    uow: UnitOfWork, site: Site, page: Page, comment: Comment, draft: _Draft, verdict: Verdict
) -> bool:
    """Record the author's "Notify of" wish; True when a confirmation mail is on its way."""
    if draft.notify == "none" or draft.author_email is None:
        return False
    if verdict.status == "spam":
        return True  # what a real request would most likely say, without mailing anyone
    if draft.notify == "replies":
        request = add_subscription(uow, site, draft.author_email, "replies", comment=comment)
    else:
        request = add_subscription(uow, site, draft.author_email, "thread", page=page)
    return request.confirmation_needed


def _own_comment(uow: UnitOfWork, comment_id: int, edit_token: str) -> tuple[Comment, Site]:
    """The comment the token's holder wrote, still inside the site's edit window."""
    comment = load_comment(uow.session, comment_id)
    if comment.status == "deleted":
        raise CommentNotFound(f"no comment {comment_id}")
    if not isinstance(edit_token, str) or not token_matches(edit_token, comment.edit_token_hash):
        raise InvalidToken("this edit token does not belong to this comment")
    site = uow.session.scalars(sa.select(Site).join(Page).where(Page.id == comment.page_id)).one()
    if uow.now() > comment.created_at + timedelta(seconds=site.edit_window_seconds):
        raise EditWindowClosed("the time to edit or delete this comment is over")
    return comment, site


def _author_status(comment: Comment) -> str:
    # The author never learns their comment was caught as spam or rejected.
    return "approved" if comment.status == "approved" else "pending"
