"""Admin accounts (owners and moderators), the sites a moderator may act on, and their sessions."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engagement.models.base import Base, Email, Timestamp, intpk

ROLES = ("owner", "moderator")


class Admin(Base):
    """A person who signs in to /admin; owners see every site, moderators their own."""

    __tablename__ = "admins"

    id: Mapped[intpk]
    email: Mapped[Email] = mapped_column(unique=True)
    role: Mapped[str] = mapped_column(sa.String(16))
    # argon2id; None until the person sets a password through the one-time link.
    password_hash: Mapped[str | None] = mapped_column(sa.String(200))
    # The one-time set-password link, kept as a digest; cleared when used.
    setup_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    setup_expires_at: Mapped[Timestamp | None]
    created_at: Mapped[Timestamp]


class AdminSite(Base):
    """A site a moderator moderates."""

    __tablename__ = "admin_sites"

    admin_id: Mapped[int] = mapped_column(sa.ForeignKey("admins.id", ondelete="CASCADE"), primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)


class AdminSession(Base):
    """A signed-in browser: the cookie carries a random token, the table only its digest."""

    __tablename__ = "admin_sessions"

    id: Mapped[intpk]
    admin_id: Mapped[int] = mapped_column(sa.ForeignKey("admins.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[Timestamp]
    last_seen_at: Mapped[Timestamp]
