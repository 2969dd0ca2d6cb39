"""Sites (a publisher's settings) and the pages readers engage with."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engagement.models.base import Base, Timestamp, intpk

DEFAULT_REACTIONS: list[dict[str, str]] = [
    {"key": "like", "label": "👍 Like"},
    {"key": "love", "label": "❤️ Love"},
    {"key": "haha", "label": "😂 Funny"},
    {"key": "wow", "label": "😮 Surprised"},
    {"key": "sad", "label": "😢 Sad"},
    {"key": "angry", "label": "😠 Angry"},
]


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[intpk]
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    origins: Mapped[list[Any]] = mapped_column(default=list)
    moderator_emails: Mapped[list[Any]] = mapped_column(default=list)
    support_url: Mapped[str | None] = mapped_column(sa.String(2000))
    support_text: Mapped[str | None] = mapped_column(sa.String(300))
    moderation: Mapped[str] = mapped_column(sa.String(16), default="off")  # off | first | all
    banned_words: Mapped[list[Any]] = mapped_column(default=list)
    link_limit: Mapped[int] = mapped_column(default=3)
    edit_window_seconds: Mapped[int] = mapped_column(default=900)
    reactions: Mapped[list[Any]] = mapped_column(default=lambda: list(DEFAULT_REACTIONS))
    digest_hour: Mapped[int] = mapped_column(default=8)  # local hour the digests leave
    digest_weekday: Mapped[int] = mapped_column(default=0)  # 0 = Monday, for weekly digests
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    # The shipped locale of its widget, pages and mails when neither page nor reader chose one.
    language: Mapped[str] = mapped_column(sa.String(16), default="en", server_default="en")
    # Supporters: the thanks their mails carry instead of the call, their comments' badge, and
    # the secret that signs Patreon's webhooks (HMAC-MD5, so it is kept, not hashed).
    supporter_thanks: Mapped[str | None] = mapped_column(sa.String(300))
    supporter_badges: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    patreon_webhook_secret: Mapped[str | None] = mapped_column(sa.String(200))
    # Distinct readers' reports that send a published comment back to moderation.
    report_threshold: Mapped[int] = mapped_column(default=3, server_default="3")
    # "More discussions" under the thread: shown or not, and its heading (None: the widget's own).
    popular: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    popular_title: Mapped[str | None] = mapped_column(sa.String(100))
    # Sign-in from the publisher's site: the HS256 secret its server signs readers' tokens with
    # (kept, not hashed: it verifies every token), whether guests may still write, and where
    # the widget's "Sign in" link goes.
    sso_secret: Mapped[str | None] = mapped_column(sa.String(200))
    sso_required: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    sso_login_url: Mapped[str | None] = mapped_column(sa.String(2000))
    created_at: Mapped[Timestamp]

    @property
    def support_call(self) -> str:
        """The call to action shown in the widget and every digest."""
        return self.support_text or f"Help us grow. Support {self.name} on Patreon!"

    @property
    def supporter_thanks_text(self) -> str:
        """What a supporter's mail says where others get the call to action."""
        return (
            self.supporter_thanks or f"Thank you for supporting {self.name}! Readers like you keep it going."
        )

    @property
    def reaction_keys(self) -> list[str]:
        return [str(r["key"]) for r in self.reactions]


class Page(Base):
    __tablename__ = "pages"
    __table_args__ = (
        sa.UniqueConstraint("site_id", "key"),
        # An imported page keeps its id in the source (a WordPress post id, say): later imports
        # of the same source (wpDiscuz's subscriptions) find it by that id.
        sa.Index("ix_pages_source", "site_id", "source", "source_id"),
    )

    id: Mapped[intpk]
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(2000))
    url: Mapped[str | None] = mapped_column(sa.String(2000))
    title: Mapped[str | None] = mapped_column(sa.String(300))
    # Approved comments, kept by the same transaction that publishes or removes one, so
    # counts for hundreds of pages are one indexed read.
    comment_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[Timestamp]
    last_comment_at: Mapped[Timestamp | None]
    source: Mapped[str | None] = mapped_column(sa.String(16))
    source_id: Mapped[str | None] = mapped_column(sa.String(100))
