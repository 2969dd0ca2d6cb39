"""Readers' reports of a published comment: one per reader and comment."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engagement.models.base import Base, ReaderHash, Timestamp, intpk

REASONS = ("spam", "abuse", "off_topic", "other")


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (
        sa.UniqueConstraint("comment_id", "reader_hash"),
        # The queue's "reported" view and its counts read open reports only.
        sa.Index("ix_reports_open", "cleared_at", "comment_id"),
    )

    id: Mapped[intpk]
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id", ondelete="CASCADE"))
    reader_hash: Mapped[ReaderHash]
    reason: Mapped[str] = mapped_column(sa.String(16))
    note: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[Timestamp]
    # Set when a moderator approves the comment: the report stays (a reader reports once) but
    # no longer counts.
    cleared_at: Mapped[Timestamp | None]
