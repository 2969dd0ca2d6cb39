"""Moderation: the rules applied when a comment is posted, and what moderators do about it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement import validation as check
from engagement.clock import utcnow
from engagement.db import insert_ignoring_conflict
from engagement.errors import Conflict, InvalidToken
from engagement.keys import Keys
from engagement.models import Ban, Comment, Page, Site
from engagement.rendering import count_links
from engagement.services.discussion.public import CommentView, comment_view
from engagement.services.discussion.publication import load_comment, publish, withdraw
from engagement.services.discussion.reports import clear_reports
from engagement.services.sites import get_site
from engagement.uow import UnitOfWork

ACTIONS = ("approve", "reject", "spam")
TOKEN_LIFETIME = timedelta(days=7)
DONE = {
    "approved": "already approved",
    "rejected": "already rejected",
    "spam": "already marked as spam",
    "deleted": "deleted by its author",
}


class Rules(Protocol):
    """What the rules need of a site: its row, or the rules the site cache keeps of it."""

    @property
    def id(self) -> int: ...
    @property
    def moderation(self) -> str: ...
    @property
    def banned_words(self) -> Sequence[str]: ...
    @property
    def link_limit(self) -> int: ...


@dataclass(frozen=True)
class Verdict:
    """What the rules make of a new comment: ``approved``, ``pending`` or ``spam``."""

    status: str
    reason: str | None = None


@dataclass(frozen=True)
class QueueItem:
    """A comment waiting for a moderator, with what they need to decide (never the e-mail)."""

    comment: CommentView
    body: str
    reason: str | None
    page_key: str
    page_url: str | None
    page_title: str | None


def assess(
    session: Session,
    site: Rules,
    *,
    body: str,
    email: str | None,
    reader: str | None,
    honeypot: str | None,
    links: int | None = None,
) -> Verdict:
    """Apply the site's rules to a comment about to be stored (``links``: its number of links,
    when rendering counted them already)."""
    if honeypot and honeypot.strip():
        # Stored as spam but answered like any pending comment, so a bot learns nothing.
        return Verdict("spam", "honeypot field filled in")
    reason = content_reason(site, body, links)
    if reason is not None:
        return Verdict("pending", reason)
    if site.moderation == "all":
        return Verdict("pending", "every comment is moderated on this site")
    if site.moderation == "first" and not _has_approved(session, site, email, reader):
        return Verdict("pending", "first comment by this author")
    return Verdict("approved")


def content_reason(site: Rules, body: str, links: int | None = None) -> str | None:
    """Why a body needs a moderator's look (banned word, too many links), or None."""
    word = banned_word(site.banned_words, body)
    if word is not None:
        return f"contains the banned word {word!r}"
    links = count_links(body) if links is None else links
    if links > site.link_limit:
        return f"{links} links (the limit is {site.link_limit})"
    return None


def banned_word(words: Sequence[str], body: str) -> str | None:
    """The first banned word or phrase found as a whole word, ignoring case."""
    if not words:
        return None
    # A phrase matches however the words are spaced: "cheap  pills" is "cheap pills".
    phrases = (
        r"\s+".join(re.escape(part) for part in w.split()) for w in sorted(words, key=len, reverse=True)
    )
    alternatives = "|".join(p for p in phrases if p)
    if not alternatives:
        return None
    found = re.search(rf"(?<!\w)(?:{alternatives})(?!\w)", body, re.IGNORECASE)
    return found.group(0).lower() if found else None


def approve_comment(uow: UnitOfWork, comment_id: int) -> CommentView:
    """Publish a comment a moderator approves (also one rejected or marked as spam before)."""
    return _moderate(uow, comment_id, "approve")


def reject_comment(uow: UnitOfWork, comment_id: int) -> CommentView:
    return _moderate(uow, comment_id, "reject")


def mark_spam(uow: UnitOfWork, comment_id: int) -> CommentView:
    return _moderate(uow, comment_id, "spam")


def moderation_token(keys: Keys, comment_id: int, action: str, issued_at: datetime | None = None) -> str:
    """A signed link token that does one ``action`` to one comment, valid for seven days.

    Pass the unit of work's ``now()`` as ``issued_at`` so expiry follows the same clock.
    """
    check.one_of("action", action, ACTIONS)
    issued = (issued_at or utcnow()).timestamp()
    return keys.sign("moderate", {"comment": comment_id, "action": action, "issued": issued})


def read_moderation_token(uow: UnitOfWork, token: str) -> tuple[int, str]:
    """The comment id and action a moderation link names; InvalidToken if forged or expired.

    Expiry follows the unit of work's clock, as :func:`moderation_token` issued it.
    """
    max_age = int(TOKEN_LIFETIME.total_seconds())
    data = uow.keys.unsign("moderate", token, max_age_seconds=max_age)
    comment_id, action, issued = data.get("comment"), data.get("action"), data.get("issued")
    if not isinstance(comment_id, int) or action not in ACTIONS or not isinstance(issued, int | float):
        raise InvalidToken("this link is not valid")
    if uow.now().timestamp() - issued > TOKEN_LIFETIME.total_seconds():
        raise InvalidToken("this link has expired")
    return comment_id, str(action)


def decided(comment: Comment) -> str | None:
    """What was decided about a comment (``already approved``…), or None while it is pending."""
    return None if comment.status == "pending" else DONE.get(comment.status, comment.status)


def moderate_by_token(uow: UnitOfWork, token: str) -> tuple[str, CommentView]:
    """Do what a moderation link says, once: a comment moderated already is a Conflict."""
    comment_id, action = read_moderation_token(uow, token)
    with uow:
        comment = load_comment(uow.session, comment_id)
        done = decided(comment)
        if done is not None:
            raise Conflict(f"this comment was {done}")
        decide(uow, comment, action)
        uow.commit()
        return action, comment_view(comment, public=False)


def ban_address(uow: UnitOfWork, site_key: str, email: str, reason: str | None = None) -> None:
    """Refuse further comments from ``email`` on the site; banning twice changes nothing."""
    address = check.email("email", email)
    reason = check.single_line("reason", reason, max_length=200, required=False)
    with uow:
        site = get_site(uow.session, site_key)
        add_ban(uow, site, address, None, reason)
        uow.commit()


def ban_author(uow: UnitOfWork, comment_id: int, reason: str | None = None) -> None:
    """Ban a comment's author by their address and their reader id, whichever are known."""
    reason = check.single_line("reason", reason, max_length=200, required=False)
    with uow:
        comment = load_comment(uow.session, comment_id)
        if not comment.author_email and not comment.author_reader:
            raise Conflict("nothing identifies the author of this comment any more")
        site = uow.session.scalars(sa.select(Site).join(Page).where(Page.id == comment.page_id)).one()
        add_ban(uow, site, comment.author_email, comment.author_reader, reason)
        uow.commit()


def moderation_queue(
    uow: UnitOfWork, site_key: str, *, status: str = "pending", limit: int = 100
) -> list[QueueItem]:
    """Comments waiting for a decision (or caught as spam), oldest first."""
    check.one_of("status", status, ("pending", "spam"))
    check.integer("limit", limit, minimum=1, maximum=500)
    with uow:
        site = get_site(uow.session, site_key)
        rows = uow.session.execute(
            sa.select(Comment, Page)
            .join(Page, Page.id == Comment.page_id)
            .where(Page.site_id == site.id, Comment.status == status)
            .order_by(Comment.created_at, Comment.id)
            .limit(limit)
        ).all()
        return [queue_item(comment, page) for comment, page in rows]


def queue_item(comment: Comment, page: Page) -> QueueItem:
    """What a moderator sees of a comment on its page."""
    return QueueItem(
        comment=comment_view(comment, public=False),
        body=comment.body,
        reason=comment.moderation_reason,
        page_key=page.key,
        page_url=page.url,
        page_title=page.title,
    )


def _moderate(uow: UnitOfWork, comment_id: int, action: str) -> CommentView:
    with uow:
        comment = load_comment(uow.session, comment_id)
        decide(uow, comment, action)
        uow.commit()
        return comment_view(comment, public=False)


def decide(uow: UnitOfWork, comment: Comment, action: str) -> None:
    """Approve, reject or mark a locked comment as spam (Conflict if it is so already)."""
    target = {"approve": "approved", "reject": "rejected", "spam": "spam"}[action]
    if comment.status in (target, "deleted"):
        raise Conflict(f"this comment was {DONE[comment.status]}")
    if action == "approve":
        publish(uow, comment, after_moderation=True)
    else:
        withdraw(uow, comment, target)
    # A decision answers the readers' reports: they no longer hold the comment in the queue.
    clear_reports(uow, comment.id)


def _has_approved(session: Session, site: Rules, email: str | None, reader: str | None) -> bool:
    # Either identity with an approved comment vouches for the author ("first comment" policy).
    known = [Comment.author_email == email] if email else []
    if reader:
        known.append(Comment.author_reader == reader)
    if not known:
        return False
    stmt = (
        sa.select(Comment.id)
        .join(Page, Page.id == Comment.page_id)
        .where(Page.site_id == site.id, Comment.status == "approved", sa.or_(*known))
        .limit(1)
    )
    return session.scalars(stmt).first() is not None


def add_ban(uow: UnitOfWork, site: Site, email: str | None, reader: str | None, reason: str | None) -> None:
    """Ban an address and/or a reader id on the site; twice changes nothing."""
    uow.sites_changed()  # posting reads bans from the site cache
    if email is not None:
        insert_ignoring_conflict(
            uow.session,
            Ban.__table__,  # type: ignore[arg-type]
            {"site_id": site.id, "email": email, "reason": reason, "created_at": uow.now()},
            ["site_id", "email"],
        )
        ban = uow.session.scalars(sa.select(Ban).where(Ban.site_id == site.id, Ban.email == email)).one()
        ban.reader_hash = ban.reader_hash or reader
        ban.reason = reason or ban.reason
        return
    exists = uow.session.scalars(
        sa.select(Ban.id).where(Ban.site_id == site.id, Ban.reader_hash == reader).limit(1)
    ).first()
    if exists is None:
        uow.session.add(Ban(site_id=site.id, reader_hash=reader, reason=reason, created_at=uow.now()))
