"""Coalescing windows of pending notifications, and the progress of digest runs."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engagement.models.base import Base, Timestamp, intpk


class NotificationItem(Base):
    """One comment a subscriber is to hear of; open items of a (subscriber, page) form a window.

    The first item of a window sets ``due_at`` and later ones copy it, so a restart loses
    nothing: the window lives here, not in a task's countdown. Flushing a due window writes
    one Delivery and points its items at it; ``delivery_id`` is NULL while the window is open.
    """

    __tablename__ = "notification_items"
    __table_args__ = (
        # One mention of a comment per subscriber, however many rules match or relays run.
        sa.UniqueConstraint("subscriber_id", "comment_id"),
        sa.Index("ix_notification_items_open", "delivery_id", "subscriber_id", "page_id", "due_at"),
        sa.Index("ix_notification_items_delivery", "delivery_id", "comment_id"),
    )

    id: Mapped[intpk]
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(sa.ForeignKey("subscribers.id", ondelete="CASCADE"))
    page_id: Mapped[int] = mapped_column(sa.ForeignKey("pages.id", ondelete="CASCADE"))
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(sa.String(16))  # "thread" or "replies"
    due_at: Mapped[Timestamp]
    created_at: Mapped[Timestamp]
    # Erasing a delivery erases its items too: set to NULL they would reopen and be sent again.
    delivery_id: Mapped[int | None] = mapped_column(sa.ForeignKey("deliveries.id", ondelete="CASCADE"))


class DigestRun(Base):
    """One site's digest for one period: which subscribers are done, and the shared part."""

    __tablename__ = "digest_runs"
    __table_args__ = (sa.UniqueConstraint("site_id", "period", "period_start"),)

    id: Mapped[intpk]
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(sa.String(16))  # "daily" or "weekly"
    period_start: Mapped[Timestamp]
    period_end: Mapped[Timestamp]
    status: Mapped[str] = mapped_column(sa.String(16), default="running")  # running | done
    # The site-wide part (most-discussed pages), computed once when the run starts.
    top_pages: Mapped[list[Any]] = mapped_column(default=list)
    # Keyset progress: every subscriber with a lower or equal id has had their mail sent.
    last_subscriber_id: Mapped[int] = mapped_column(default=0)
    sent: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    # A runner holds the run until then; a crashed runner's lease runs out and another resumes.
    lease_until: Mapped[Timestamp | None]
    started_at: Mapped[Timestamp]
    finished_at: Mapped[Timestamp | None]
