"""Post, edit and delete comments: the author's side of a thread."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from engagement import validation as check
from engagement.db import UTCDateTime
from engagement.errors import CommentNotFound, EditWindowClosed, InvalidInput, InvalidToken, SignInRequired
from engagement.i18n.locales import normalise
from engagement.keys import hash_token, new_edit_token, token_matches
from engagement.live.notices import comment_notice
from engagement.metrics import instruments
from engagement.models import Comment, OutboxEvent, Page, Site
from engagement.outbox import COMMENT_PENDING, COMMENT_PUBLISHED
from engagement.rendering import render, render_markdown
from engagement.services.audience.subscriptions import add_subscription
from engagement.services.audience.supporter_flags import is_supporter
from engagement.services.discussion.moderation import Verdict, assess, content_reason
from engagement.services.discussion.public import Anchor, CommentView, comment_view
from engagement.services.discussion.publication import load_comment, visible, visible_clause, withdraw
from engagement.services.discussion.thread_sql import VIEW_COLUMNS
from engagement.services.pages import CLAIM, claim_page, claim_params, page_key
from engagement.services.site_cache import SiteRules, site_rules
from engagement.services.sites import get_site
from engagement.sso_tokens import SignedIn
from engagement.uow import UnitOfWork

_table = cast(sa.Table, Comment.__table__)
_comments = _table.c
_events = cast(sa.Table, OutboxEvent.__table__)
_pages = cast(sa.Table, Page.__table__).c
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
    author_name: str | None = None
    author_email: str | None = None
    body: str
    anchor: Anchor | None = None
    notify: str = "none"
    reader_id: str | None = None
    client_ip: str | None = None
    honeypot: str | None = None
    locale: str | None = None  # a BCP 47 tag: the language the reader's mails will speak
    # A reader the publisher's site signed in: the token's name and address replace the form's,
    # and ``reader_id`` is the one derived from the token's subject.
    signed_in: SignedIn | None = None


@dataclass(frozen=True)
class PostedComment:
    """The stored comment, and the edit token shown to its author this once."""

    comment: CommentView
    edit_token: str
    status: str  # "approved" or "pending"
    confirmation_needed: bool


def post_comment(uow: UnitOfWork, request: PostComment) -> PostedComment:
    """Store a comment, publish it or queue it for moderation, and subscribe its author if asked.

    Bans, rate limits and the site's rules are applied before anything is written; then the
    page (counting a comment published at once), the comment and its outbox event are written
    with Core statements: four in all for a comment or a reply on a known page, with the
    site's rules in the site cache. On PostgreSQL they are one statement, and the whole
    transaction when no subscription is written with the comment.
    """
    draft = _checked(request)
    # Rendered before the transaction: no lock is held while markdown is turned into HTML.
    rendered = render(draft.body)
    token = new_edit_token()
    with uow:
        site = site_rules(uow, draft.site)
        if site.sso_required and draft.signed_in is None:  # whichever way the comment came
            raise SignInRequired(f"sign in on the site to write here: {site.key!r} requires it")
        reader = uow.keys.reader_hash(draft.reader_id) if draft.reader_id else None
        site.refuse_banned(draft.author_email, reader)
        if uow.limiter is not None:
            identities = {"reader": reader, "ip": draft.client_ip, "email": draft.author_email}
            uow.limiter.check("comment", identities)
        verdict = assess(
            uow.session,
            site,
            body=draft.body,
            email=draft.author_email,
            reader=reader,
            honeypot=draft.honeypot,
            links=rendered.links,
        )
        published = verdict.status == "approved"
        row = _row(uow, site, draft, reader, verdict, rendered.html, hash_token(token))
        kind = _EVENTS.get(verdict.status)
        comment = None
        if uow.session.get_bind().dialect.name == "postgresql":
            comment = _post_in_one_statement(
                uow, site.id, draft, row, kind, alone=not _subscribes(draft, verdict)
            )
        if comment is not None:
            page_id, parent_id = comment.page_id, comment.parent_id
        else:  # SQLite, or a case the one statement leaves to this path (a new page, a refused parent)
            page_id = claim_page(uow, site.id, draft.page, draft.page_title, published=published)
            parent = _parent(uow.session, page_id, draft.parent, published=published)
            comment = _insert(uow, page_id, parent, row)
            parent_id = parent.id if parent is not None else None
            if kind is not None:
                uow.add_event(kind, {"comment_id": comment.id})
        if published:  # counted on its page and under its parent already
            uow.announce(comment_notice(page_id, comment.id, parent_id, comment.created_at))
        confirmation_needed = _subscribe(uow, site, page_id, comment.id, draft, verdict)
        uow.commit()
        instruments().comments_posted.labels(site.key, verdict.status).inc()
        # A honeypot catch reads exactly like a comment waiting for a moderator.
        status = "approved" if published else "pending"
        return PostedComment(
            comment=comment_view(comment, public=False, status=status),
            edit_token=token,
            status=status,
            confirmation_needed=confirmation_needed,
        )


def edit_comment(
    uow: UnitOfWork,
    comment_id: int,
    edit_token: str | None,
    body: str,
    *,
    signed_in_reader: str | None = None,
) -> CommentView:
    """Change a comment's text within the site's edit window; a body that now breaks a rule
    sends a published comment back to the moderation queue.

    The author proves it with the edit token, or (signed in by the publisher's site, from any
    device) with ``signed_in_reader``, the reader id their token gives.
    """
    body = check.required_text("body", body, max_length=check.MAX_BODY)
    with uow:
        comment, site = _own_comment(uow, comment_id, edit_token, signed_in_reader)
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


def delete_comment(
    uow: UnitOfWork, comment_id: int, edit_token: str | None, *, signed_in_reader: str | None = None
) -> None:
    """Remove a comment within the edit window: with replies it stays as a nameless placeholder."""
    with uow:
        comment, _site = _own_comment(uow, comment_id, edit_token, signed_in_reader)
        withdraw(uow, comment, "deleted")
        comment.body = ""
        comment.html = ""
        comment.author_name = ""
        comment.author_email = None
        comment.author_reader = None
        comment.author_verified = False
        comment.author_sso_supporter = False
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
    locale: str | None
    signed_in: SignedIn | None


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
    signed_in = request.signed_in
    name: str | None
    email: str | None
    if signed_in is not None:  # the publisher vouches for the name (and the address, if any)
        name, email = signed_in.name, signed_in.email
    else:
        name = request.author_name
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
        author_name=_name(name),
        author_email=email,
        body=check.required_text("body", request.body, max_length=check.MAX_BODY),
        anchor=anchor,
        notify=notify,
        reader_id=check.single_line("reader_id", request.reader_id, max_length=MAX_READER_ID, required=False),
        client_ip=check.single_line("client_ip", request.client_ip, max_length=64, required=False),
        honeypot=request.honeypot,
        locale=normalise(request.locale),
        signed_in=signed_in,
    )


def _name(value: str | None) -> str:
    # A name ends up in mail headers ("Jane replied"): one line, like a title.
    name = check.single_line("author_name", value, max_length=check.MAX_NAME)
    assert name is not None
    return name


# A reply's parent, read and (when the reply is published at once) its reply count raised, in
# one statement: the write locks its row until commit, so a concurrent delete counts this reply.
# A new reply changes no count further up: its parent is visible already.
_PARENT = (
    sa.update(_table)
    .where(_comments.id == sa.bindparam("cid"))
    .values(reply_count=_comments.reply_count + sa.bindparam("added", type_=sa.Integer()))
    .returning(
        _comments.id,
        _comments.page_id,
        _comments.thread_id,
        _comments.path,
        _comments.depth,
        _comments.status,
        _comments.reply_count,
    )
)
_INSERT = sa.insert(_table).returning(*VIEW_COLUMNS)
_ROOT_OF_ITS_THREAD = (
    sa.update(_table).where(_comments.id == sa.bindparam("cid")).values(thread_id=_comments.id)
)


def _parent(session: Session, page_id: int, parent_id: int | None, *, published: bool) -> Any:
    """The parent's row (None for a top-level comment), counting the reply when ``published``;
    an invalid parent rolls the transaction back with the count."""
    if parent_id is None:
        return None
    added = int(published)
    parent = session.execute(_PARENT, {"cid": parent_id, "added": added}).first()
    if parent is None or parent.page_id != page_id:
        raise InvalidInput("parent", "is not a comment on this page")
    if not visible(parent.status, parent.reply_count - added):
        raise InvalidInput("parent", "cannot be replied to")
    if len(parent.path) + len(str(parent.id)) + 2 > MAX_PATH:
        raise InvalidInput("parent", "this thread is too deep to reply to")
    return parent


def _row(
    uow: UnitOfWork,
    site: SiteRules,
    draft: _Draft,
    reader: str | None,
    verdict: Verdict,
    html: str,
    token_hash: str,
) -> dict[str, Any]:
    """The new comment's values, but for its page and its place in the thread."""
    anchor = draft.anchor or Anchor()
    now = uow.now()
    sso_supporter = draft.signed_in is not None and draft.signed_in.supporter
    return {
        "author_name": draft.author_name,
        "author_email": draft.author_email,
        "author_reader": reader,
        "author_supporter": _badge(uow.session, site, draft.author_email, sso_supporter),
        "author_verified": draft.signed_in is not None,
        "author_sso_supporter": sso_supporter,
        "body": draft.body,
        "html": html,
        "status": verdict.status,
        "moderation_reason": verdict.reason,
        "created_at": now,
        "published_at": now if verdict.status == "approved" else None,
        "edited_at": None,
        "score": 0,
        "reply_count": 0,
        "edit_token_hash": token_hash,
        "anchor_passage": anchor.passage,
        "anchor_exact": anchor.exact,
        "anchor_prefix": anchor.prefix,
        "anchor_suffix": anchor.suffix,
    }


def _insert(uow: UnitOfWork, page_id: int, parent: sa.Row[Any] | None, row: dict[str, Any]) -> sa.Row[Any]:
    """The new comment's row (one INSERT … RETURNING, and for a top-level one its thread id)."""
    comment = uow.session.execute(_INSERT, {"page_id": page_id, **_placement(parent), **row}).one()
    if parent is None:
        uow.session.execute(_ROOT_OF_ITS_THREAD, {"cid": comment.id})
    return comment


_ROW_FIELDS = (
    "author_name",
    "author_email",
    "author_reader",
    "author_supporter",
    "author_verified",
    "author_sso_supporter",
    "body",
    "html",
    "status",
    "moderation_reason",
    "created_at",
    "published_at",
    "edited_at",
    "score",
    "reply_count",
    "edit_token_hash",
    "anchor_passage",
    "anchor_exact",
    "anchor_prefix",
    "anchor_suffix",
)


# The outbox event each status of a new comment causes (a caught spam causes none).
_EVENTS = {"approved": COMMENT_PUBLISHED, "pending": COMMENT_PENDING}


def _one_statement(*, reply: bool) -> sa.Select[Any]:
    """PostgreSQL: a new comment's page claimed and counted, a reply's parent counted, the comment
    inserted and its outbox event (when ``e_kind`` is not null), in one statement. No row, and
    nothing written, when the page is new or the parent refuses the reply (gone, elsewhere,
    unpublished, too deep): the other path then says why."""
    new_id = sa.func.nextval(sa.func.pg_get_serial_sequence(_table.name, "id"))
    new = sa.select(new_id.label("id")).cte("new_comment")
    if reply:
        # The page's row is locked before the parent's, in the order the other path takes.
        page = (
            sa.select(_pages.id)
            .where(_pages.site_id == sa.bindparam("b_site"), _pages.key == sa.bindparam("b_key"))
            .with_for_update()
            .cte("page")
        )
        parent = (
            sa.update(_table)
            .where(
                _comments.id == sa.bindparam("cid"),
                _comments.page_id == sa.select(page.c.id).scalar_subquery(),
                visible_clause(),  # as it was: the update adds the reply after the check
                sa.func.length(_comments.path) + sa.func.length(sa.cast(_comments.id, sa.String())) + 2
                <= MAX_PATH,
            )
            .values(reply_count=_comments.reply_count + sa.bindparam("added", type_=sa.Integer()))
            .returning(_comments.id, _comments.page_id, _comments.thread_id, _comments.path, _comments.depth)
            .cte("parent")
        )
        claimed = CLAIM.where(_pages.id == sa.select(parent.c.page_id).scalar_subquery()).cte("claimed")
        path = (
            sa.func.coalesce(sa.func.nullif(parent.c.path, ""), "/") + sa.cast(parent.c.id, sa.String()) + "/"
        )
        placement: list[Any] = [parent.c.id, parent.c.thread_id, path, parent.c.depth + 1]
        rows = claimed.join(new, sa.true()).join(parent, sa.true())
    else:  # a root: its own id is its thread's
        claimed = CLAIM.cte("claimed")
        placement = [sa.null(), new.c.id, sa.literal("", sa.String()), sa.literal(0, sa.Integer())]
        rows = claimed.join(new, sa.true())
    values = [sa.bindparam(f"c_{name}", type_=_comments[name].type) for name in _ROW_FIELDS]
    columns = ["id", "page_id", "parent_id", "thread_id", "path", "depth", *_ROW_FIELDS]
    source = sa.select(new.c.id, claimed.c.id, *placement, *values).select_from(rows)
    inserted = (
        sa.insert(_table)
        .from_select(columns, source)
        .returning(*VIEW_COLUMNS, _comments.page_id)
        .cte("inserted")
    )
    # The event's payload is the unit of work's (with the request id) and the new comment's id.
    payload = sa.cast(
        sa.cast(sa.bindparam("e_payload", type_=sa.JSON()), JSONB).op("||")(
            sa.func.jsonb_build_object("comment_id", inserted.c.id)
        ),
        sa.JSON(),
    )
    kind = sa.bindparam("e_kind", type_=sa.String())
    event = (
        sa.insert(_events)
        .from_select(
            ["kind", "payload", "created_at", "attempts"],
            sa.select(kind, payload, sa.bindparam("e_created_at", type_=UTCDateTime()), sa.literal(0))
            .select_from(inserted)
            .where(kind.is_not(None)),
        )
        .returning(_events.c.id)
        .cte("event")
    )
    return sa.select(inserted, sa.select(event.c.id).scalar_subquery().label("event_id"))


_POST_COMMENT = _one_statement(reply=False)
_POST_REPLY = _one_statement(reply=True)


def _post_in_one_statement(
    uow: UnitOfWork, site_id: int, draft: _Draft, row: dict[str, Any], kind: str | None, *, alone: bool
) -> sa.Row[Any] | None:
    """A comment or a reply on PostgreSQL in one statement where the other path takes four (None
    when it leaves the comment to that path). ``alone`` (nothing else to write): the statement
    is the whole transaction, in autocommit mode, so no BEGIN or COMMIT round trip, and the rows
    it counts on are locked for the statement only, so posts on one page wait less for each other."""
    params = claim_params(uow, site_id, draft.page, draft.page_title, published=row["status"] == "approved")
    params.update({f"c_{name}": row[name] for name in _ROW_FIELDS})
    event = (
        uow.event_values(kind, {}) if kind is not None else {"kind": None, "payload": {}, "created_at": None}
    )
    params.update({f"e_{name}": value for name, value in event.items()})
    params["cid"] = draft.parent
    statement = _POST_COMMENT if draft.parent is None else _POST_REPLY
    if alone:
        comment = uow.execute_alone(statement, params)
    else:
        comment = uow.session.execute(statement, params).first()
    if comment is not None and comment.event_id is not None:
        uow.joined_event(comment.event_id)
    return comment


def _badge(session: Session, site: SiteRules, email: str | None, sso_supporter: bool) -> bool:
    """Whether the new comment shows the supporter badge (asked only of sites that show it):
    the publisher's token says so, or the address is an active supporter's."""
    if not site.supporter_badges:
        return False
    if sso_supporter:
        return True
    if email is None:
        return False
    return bool(session.scalar(sa.select(is_supporter(site.id, email))))


def _placement(parent: Any) -> dict[str, Any]:
    """Where a new comment sits in its thread: under its parent, or a root (thread id set after)."""
    if parent is None:
        return {"parent_id": None, "thread_id": None, "path": "", "depth": 0}
    path = f"{parent.path or '/'}{parent.id}/"
    return {"parent_id": parent.id, "thread_id": parent.thread_id, "path": path, "depth": parent.depth + 1}


def _subscribes(draft: _Draft, verdict: Verdict) -> bool:
    """Whether the author's "Notify of" wish writes a subscription with the comment."""
    return draft.notify != "none" and draft.author_email is not None and verdict.status != "spam"


def _subscribe(
    uow: UnitOfWork, rules: SiteRules, page_id: int, comment_id: int, draft: _Draft, verdict: Verdict
) -> bool:
    """Record the author's "Notify of" wish; True when a confirmation mail is on its way."""
    if draft.notify == "none" or draft.author_email is None:
        return False
    if not _subscribes(draft, verdict):
        return True  # a caught spam: what a real request would most likely say, without mailing anyone
    site = get_site(uow.session, rules.key)
    # An address the publisher's site verified needs no confirmation mail from us.
    verified = draft.signed_in is not None and draft.signed_in.email_verified
    if draft.notify == "replies":
        comment = uow.session.get_one(Comment, comment_id)
        request = add_subscription(
            uow,
            site,
            draft.author_email,
            "replies",
            comment=comment,
            locale=draft.locale,
            address_verified=verified,
        )
    else:
        page = uow.session.get_one(Page, page_id)
        request = add_subscription(
            uow, site, draft.author_email, "thread", page=page, locale=draft.locale, address_verified=verified
        )
    return request.confirmation_needed


def _own_comment(
    uow: UnitOfWork, comment_id: int, edit_token: str | None, signed_in_reader: str | None
) -> tuple[Comment, Site]:
    """The comment the token's holder (or the signed-in reader) wrote, still inside the site's edit window."""
    comment = load_comment(uow.session, comment_id)
    if comment.status == "deleted":
        raise CommentNotFound(f"no comment {comment_id}")
    if not _is_author(uow, comment, edit_token, signed_in_reader):
        if edit_token is None:
            raise InvalidToken("you are not signed in as the author of this comment")
        raise InvalidToken("this edit token does not belong to this comment")
    site = uow.session.scalars(sa.select(Site).join(Page).where(Page.id == comment.page_id)).one()
    if uow.now() > comment.created_at + timedelta(seconds=site.edit_window_seconds):
        raise EditWindowClosed("the time to edit or delete this comment is over")
    return comment, site


def _is_author(
    uow: UnitOfWork, comment: Comment, edit_token: str | None, signed_in_reader: str | None
) -> bool:
    if isinstance(edit_token, str) and token_matches(edit_token, comment.edit_token_hash):
        return True
    # A signed-in reader's id is derived from the site and their subject: the same on every device.
    return (
        signed_in_reader is not None
        and comment.author_verified
        and comment.author_reader == uow.keys.reader_hash(signed_in_reader)
    )


def _author_status(comment: Comment) -> str:
    # The author never learns their comment was caught as spam or rejected.
    return "approved" if comment.status == "approved" else "pending"
