"""Supporters: who backs a site (on Patreon, or marked by hand), matched to readers by address."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engagement.models.base import Base, Email, Timestamp, intpk

SOURCES = ("patreon", "manual")


class Supporter(Base):
    __tablename__ = "supporters"
    __table_args__ = (sa.UniqueConstraint("site_id", "email"),)

    id: Mapped[intpk]
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    # Normalised as every stored address is (lower case): it matches subscribers and authors.
    email: Mapped[Email]
    active: Mapped[bool] = mapped_column(default=False)
    # As the source says it ("Active patron", "Declined patron", "Former patron", "deleted").
    status: Mapped[str] = mapped_column(sa.String(40))
    tier: Mapped[str | None] = mapped_column(sa.String(200))
    source: Mapped[str] = mapped_column(sa.String(16))
    # When the source changed this member: a webhook older than the state kept changes nothing.
    changed_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp]
