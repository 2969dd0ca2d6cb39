"""sites have a default language; subscribers keep the locale they subscribed in

Revision ID: 0010
Revises: 0009
Created: 2026-12-06 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=16), server_default="en", nullable=False))

    # A rebuild on SQLite must keep AUTOINCREMENT: subscriber ids are never reused.
    with op.batch_alter_table("subscribers", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscribers", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_column("locale")

    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("language")
