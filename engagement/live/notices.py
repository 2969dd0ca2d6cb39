"""What a stream carries: a comment published on or withdrawn from a page, or its new reaction tallies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

COMMENT = "comment"
COUNTS = "counts"
# A comment readers saw is gone (deleted, removed by a moderator, held again): the widget drops it.
REMOVED = "removed"
# Tells a stream that it missed more than a replay carries: the widget reloads the thread.
RESET = "reset"


@dataclass(frozen=True, slots=True)
class Notice:
    """One event for the streams of page ``page_id``; ``id`` (comments only) lets a stream resume."""

    page_id: int
    event: str
    data: dict[str, Any]
    id: str | None = None


def comment_notice(page_id: int, comment_id: int, parent_id: int | None, published_at: datetime) -> Notice:
    """A comment now visible on its page: its id and parent, the widget fetches the rest."""
    return Notice(
        page_id,
        COMMENT,
        {"id": comment_id, "parent": parent_id},
        event_id(published_at, comment_id),
    )


def removed_notice(page_id: int, comment_id: int) -> Notice:
    """A published comment withdrawn; not resumable (a reloaded thread no longer shows it)."""
    return Notice(page_id, REMOVED, {"id": comment_id})


def counts_notice(page_id: int, reactions: dict[str, int]) -> Notice:
    return Notice(page_id, COUNTS, {"reactions": reactions})


def event_id(published_at: datetime, comment_id: int) -> str:
    """``<milliseconds since the epoch>-<comment id>``: where a reconnecting stream resumes."""
    moment = published_at if published_at.tzinfo else published_at.replace(tzinfo=UTC)
    return f"{int(moment.timestamp() * 1000)}-{comment_id}"


def parse_event_id(value: str | None) -> datetime | None:
    """The publication time a ``Last-Event-ID`` names; None for anything we did not write."""
    if not value or len(value) > 40:
        return None
    millis, sep, comment_id = value.partition("-")
    if not sep or not millis.isdigit() or not comment_id.isdigit():
        return None
    try:
        return datetime.fromtimestamp(int(millis) / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def encode(notices: Sequence[Notice]) -> bytes:
    """Notices for the wire between processes (one Redis message carries a commit's notices)."""
    return orjson.dumps([[n.page_id, n.event, n.data, n.id] for n in notices])


def decode(raw: bytes | str) -> list[Notice]:
    """The notices of one message; a malformed one (not ours) yields none."""
    try:
        rows = orjson.loads(raw)
        return [Notice(int(page), str(event), dict(data), _id(ident)) for page, event, data, ident in rows]
    except (orjson.JSONDecodeError, TypeError, ValueError):
        return []


def _id(value: object) -> str | None:
    return None if value is None else str(value)
