"""Comments (with their inline-feedback anchor), reactions, votes and bans."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engagement.models.base import Base, Email, ReaderHash, Timestamp, intpk

STATUSES = ("pending", "approved", "rejected", "spam", "deleted")
_TOP_LEVEL: dict[str, Any] = {
    dialect + "_where": sa.text("parent_id IS NULL") for dialect in ("postgresql", "sqlite")
}


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        # The thread read: top-level comments of a page in each sort order, then their replies.
        # Partial on top-level comments: PostgreSQL does not count "parent_id IS NULL" as an
        # equality, so with parent_id as a column the index order would not serve ORDER BY.
        sa.Index("ix_comments_page_listing", "page_id", "status", "created_at", "id", **_TOP_LEVEL),
        sa.Index("ix_comments_page_top", "page_id", "status", "score", "created_at", "id", **_TOP_LEVEL),
        sa.Index("ix_comments_thread", "thread_id", "created_at", "id"),
        sa.Index("ix_comments_page_passage", "page_id", "anchor_passage"),
        sa.Index("ix_comments_author_email", "author_email"),
        sa.Index("ix_comments_status_created", "status", "created_at"),
        # The admin queue of one site (or a moderator's few): its pages' comments of a status.
        sa.Index("ix_comments_page_status_created", "page_id", "status", "created_at", "id"),
        # An imported comment keeps where it came from: the same export imported twice adds
        # nothing the second time. NULL for comments posted here (NULLs never collide).
        sa.Index("uq_comments_source", "source_site_id", "source", "source_id", unique=True),
        # Never reuse the id of a deleted comment: signed moderation links name comments by id.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[intpk]
    page_id: Mapped[int] = mapped_column(sa.ForeignKey("pages.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("comments.id", ondelete="CASCADE"))
    # The top-level comment of this comment's thread (itself for a top-level one): one
    # indexed read fetches every reply of a page of threads.
    thread_id: Mapped[int | None] = mapped_column(index=False)
    # Ancestor ids, root first, as "/1/5/" (empty for a top-level comment).
    path: Mapped[str] = mapped_column(sa.String(2000), default="")
    depth: Mapped[int] = mapped_column(default=0)
    author_name: Mapped[str] = mapped_column(sa.String(100))
    author_email: Mapped[Email | None]
    author_reader: Mapped[ReaderHash | None]
    body: Mapped[str] = mapped_column(sa.Text)
    html: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16))
    moderation_reason: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[Timestamp]
    edited_at: Mapped[Timestamp | None]
    published_at: Mapped[Timestamp | None]
    score: Mapped[int] = mapped_column(default=0)
    # Published direct replies: a deleted comment with replies stays as a placeholder.
    reply_count: Mapped[int] = mapped_column(default=0)
    edit_token_hash: Mapped[str | None] = mapped_column(sa.String(64))
    # The supporter badge as shown: the site shows badges and the address is an active
    # supporter's. Kept by the supporters service, so a thread read joins nothing.
    author_supporter: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Written by a reader the publisher's site signed in (its author_reader is then derived
    # from the site and the token's subject), and whether the token called them a supporter.
    author_verified: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    author_sso_supporter: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    anchor_passage: Mapped[str | None] = mapped_column(sa.String(200))
    anchor_exact: Mapped[str | None] = mapped_column(sa.String(1000))
    anchor_prefix: Mapped[str | None] = mapped_column(sa.String(200))
    anchor_suffix: Mapped[str | None] = mapped_column(sa.String(200))
    # Set on imported comments only: the site imported into, the source system, its id there.
    source_site_id: Mapped[int | None]
    source: Mapped[str | None] = mapped_column(sa.String(16))
    source_id: Mapped[str | None] = mapped_column(sa.String(100))

    @property
    def ancestor_ids(self) -> list[int]:
        return path_ids(self.path)

    @property
    def has_anchor(self) -> bool:
        return bool(self.anchor_passage or self.anchor_exact)


class Reaction(Base):
    __tablename__ = "reactions"
    __table_args__ = (sa.UniqueConstraint("page_id", "reader_hash"),)

    id: Mapped[intpk]
    page_id: Mapped[int] = mapped_column(sa.ForeignKey("pages.id", ondelete="CASCADE"))
    reader_hash: Mapped[ReaderHash]
    reaction: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[Timestamp]


class Vote(Base):
    __tablename__ = "votes"
    __table_args__ = (sa.UniqueConstraint("comment_id", "reader_hash"),)

    id: Mapped[intpk]
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id", ondelete="CASCADE"))
    reader_hash: Mapped[ReaderHash]
    value: Mapped[int]
    created_at: Mapped[Timestamp]


class Ban(Base):
    """An address (or a reader) whose comments a site refuses."""

    __tablename__ = "bans"
    __table_args__ = (sa.UniqueConstraint("site_id", "email"),)

    id: Mapped[intpk]
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    email: Mapped[Email | None]
    reader_hash: Mapped[ReaderHash | None] = mapped_column(index=True)
    reason: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[Timestamp]


def path_ids(path: str) -> list[int]:
    """The ids a comment's ``path`` names, root first."""
    return [int(part) for part in path.strip("/").split("/") if part]
