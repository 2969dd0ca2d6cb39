"""What a webhook says: the event's data read once, then the body of each format.

``standard`` is the Standard Webhooks JSON ``{type, timestamp, data}``; ``slack`` and
``discord`` are the one-line messages their incoming webhooks accept. The data holds a
comment's public fields, its page's URL and title and the site: never an address, a reader
id or an IP.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement.models import Comment, OutboxEvent, Page, Site, Subscriber, Subscription
from engagement.outbox import (
    COMMENT_PENDING,
    COMMENT_PUBLISHED,
    COMMENT_REMOVED,
    COMMENT_REPORTED,
    SUBSCRIPTION_CONFIRMED,
)
from engagement.services.discussion.permalinks import comment_url
from engagement.services.discussion.public import iso

WEBHOOK_EVENTS = (
    COMMENT_PUBLISHED,
    COMMENT_PENDING,
    COMMENT_REPORTED,
    COMMENT_REMOVED,
    SUBSCRIPTION_CONFIRMED,
)
SUMMARY_EXCERPT = 200
DISCORD_LIMIT = 2000  # Discord refuses longer content


def event_data(session: Session, event: OutboxEvent) -> tuple[int, dict[str, Any]] | None:
    """The event's site id and its ``data``; None when what it is about is gone."""
    if event.kind == SUBSCRIPTION_CONFIRMED:
        return _subscription_data(session, int(event.payload["subscriber_id"]))
    row = session.execute(
        sa.select(Comment, Page, Site)
        .join(Page, Page.id == Comment.page_id)
        .join(Site, Site.id == Page.site_id)
        .where(Comment.id == int(event.payload["comment_id"]))
    ).one_or_none()
    if row is None:
        return None
    comment, page, site = row
    page_url = page.url or page.key
    data: dict[str, Any] = {"site": _site(site), "page": {"url": page_url, "title": page.title}}
    if event.kind == COMMENT_REMOVED:
        data["comment"] = {"id": comment.id, "status": str(event.payload.get("status", comment.status))}
    else:
        data["comment"] = _comment(comment, page_url)
    if event.kind == COMMENT_REPORTED:
        data["report"] = {"reason": event.payload.get("reason")}
    return site.id, data


def _site(site: Site) -> dict[str, Any]:
    return {"key": site.key, "name": site.name}


def _comment(comment: Comment, page_url: str) -> dict[str, Any]:
    return {
        "id": comment.id,
        "parent": comment.parent_id,
        "author": {"name": comment.author_name, "supporter": bool(comment.author_supporter)},
        "html": comment.html,
        "text": comment.body,
        "status": comment.status,
        "created_at": iso(comment.created_at),
        "edited_at": iso(comment.edited_at),
        "url": comment_url(page_url, comment.id),
    }


def _subscription_data(session: Session, subscriber_id: int) -> tuple[int, dict[str, Any]] | None:
    subscriber = session.get(Subscriber, subscriber_id)
    site = session.get(Site, subscriber.site_id) if subscriber is not None else None
    if subscriber is None or site is None:
        return None
    rows = session.execute(
        sa.select(Subscription.kind, Subscription.cadence, Page.url, Page.key, Page.title)
        .outerjoin(Page, Page.id == Subscription.page_id)
        .where(Subscription.subscriber_id == subscriber.id)
        .order_by(Subscription.id)
    ).all()
    subscriptions = [
        {"kind": kind, "cadence": cadence, "page": {"url": url or key, "title": title} if key else None}
        for kind, cadence, url, key, title in rows
    ]
    return site.id, {"site": _site(site), "subscriptions": subscriptions}


def standard_body(event_type: str, occurred_at: datetime, data: dict[str, Any]) -> str:
    """The Standard Webhooks payload, serialised once: every attempt signs the same bytes."""
    payload = {"type": event_type, "timestamp": iso(occurred_at), "data": data}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def chat_body(fmt: str, event_type: str, data: dict[str, Any]) -> str:
    """Slack's ``{"text": …}`` or Discord's ``{"content": …}``: one line with the comment's link."""
    line = summary(event_type, data)
    if fmt == "discord":
        return json.dumps({"content": line[:DISCORD_LIMIT], "allowed_mentions": {"parse": []}})
    return json.dumps({"text": line})


def summary(event_type: str, data: dict[str, Any]) -> str:
    """The one line a chat channel shows for an event."""
    site = data["site"]["name"]
    if event_type == SUBSCRIPTION_CONFIRMED:
        kinds = sorted({s["kind"] for s in data["subscriptions"]}) or ["updates"]
        return f"A reader confirmed a subscription ({', '.join(kinds)}) on {site}"
    page = data["page"]
    title = page["title"] or page["url"]
    comment = data["comment"]
    if event_type == COMMENT_REMOVED:
        return f"Comment {comment['id']} on “{title}” was removed ({comment['status']}): {page['url']}"
    who = " ".join(str(comment["author"]["name"]).split())[:100] or "Someone"
    said = _excerpt(comment["text"])
    if event_type == COMMENT_REPORTED:
        return f"A comment by {who} on “{title}” was reported ({data['report']['reason']}): {comment['url']}"
    if event_type == COMMENT_PENDING:
        return f"A comment by {who} on “{title}” awaits moderation: “{said}” {comment['url']}"
    return f"New comment by {who} on “{title}”: “{said}” {comment['url']}"


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SUMMARY_EXCERPT else flat[: SUMMARY_EXCERPT - 1] + "…"
