"""Subscribers (a confirmed address per site) and what each one asked to be told of."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engagement.models.base import Base, Email, Timestamp, intpk

KINDS = ("thread", "replies", "digest")
CADENCES = ("daily", "weekly")


class Subscriber(Base):
    __tablename__ = "subscribers"
    __table_args__ = (
        sa.UniqueConstraint("site_id", "email"),
        # Signed unsubscribe and preferences links name subscribers by id: an erased
        # subscriber's id must never name someone new (SQLite would reuse the highest one).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[intpk]
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    email: Mapped[Email]
    confirmed_at: Mapped[Timestamp | None]
    # When the last confirmation mail was asked for: a form cannot mail-bomb an address.
    confirmation_requested_at: Mapped[Timestamp | None]
    supporter: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[Timestamp]
    # Set by the link in a "your comment was approved" mail: no more such mails on this site.
    approval_notices_off_at: Mapped[Timestamp | None]
    # The shipped locale the reader used when subscribing: every mail and page they get uses it.
    locale: Mapped[str | None] = mapped_column(sa.String(16))


class Subscription(Base):
    """One wish: ``thread`` (a page's follow-ups), ``replies`` (to a comment), ``digest``."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        sa.UniqueConstraint("subscriber_id", "kind", "target"),
        sa.Index("ix_subscriptions_page", "page_id", "kind"),
        sa.Index("ix_subscriptions_comment", "comment_id", "kind"),
        {"sqlite_autoincrement": True},  # links name subscriptions by id too
    )

    id: Mapped[intpk]
    subscriber_id: Mapped[int] = mapped_column(sa.ForeignKey("subscribers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    # "page:<id>", "comment:<id>" or "site": one row per wish, unique whatever the database
    # does with NULLs in unique constraints.
    target: Mapped[str] = mapped_column(sa.String(40))
    page_id: Mapped[int | None] = mapped_column(sa.ForeignKey("pages.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("comments.id", ondelete="CASCADE"))
    cadence: Mapped[str | None] = mapped_column(sa.String(16))
    created_at: Mapped[Timestamp]
