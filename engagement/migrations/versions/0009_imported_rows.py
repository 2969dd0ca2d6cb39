"""imported comments and pages keep their source and their id there

Revision ID: 0009
Revises: 0008
Created: 2026-12-06 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A rebuild on SQLite must keep AUTOINCREMENT: comment ids are never reused.
    with op.batch_alter_table("comments", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.add_column(sa.Column("source_site_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("source", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("source_id", sa.String(length=100), nullable=True))
        batch_op.create_index("uq_comments_source", ["source_site_id", "source", "source_id"], unique=True)

    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("source_id", sa.String(length=100), nullable=True))
        batch_op.create_index("ix_pages_source", ["site_id", "source", "source_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_index("ix_pages_source")
        batch_op.drop_column("source_id")
        batch_op.drop_column("source")

    with op.batch_alter_table("comments", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_index("uq_comments_source")
        batch_op.drop_column("source_id")
        batch_op.drop_column("source")
        batch_op.drop_column("source_site_id")
