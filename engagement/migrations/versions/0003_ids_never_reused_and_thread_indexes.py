"""ids never reused, and thread indexes PostgreSQL can read in order

Revision ID: 0003
Revises: 0002
Created: 2026-11-25 20:25:49.370819
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from engagement.migrations.sqlite_ids import rebuild_with_autoincrement

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Signed links name these rows by id: SQLite must never hand a deleted one's out again.
NEVER_REUSED = ("comments", "subscribers", "subscriptions")
TOP_LEVEL = {"postgresql_where": sa.text("parent_id IS NULL"), "sqlite_where": sa.text("parent_id IS NULL")}


def upgrade() -> None:
    # Rebuild first, while every index is a plain one the rebuild can copy as it is.
    rebuild_with_autoincrement(NEVER_REUSED, autoincrement=True)
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comments_page_listing"))
        batch_op.create_index(
            "ix_comments_page_listing", ["page_id", "status", "created_at", "id"], unique=False, **TOP_LEVEL
        )
        batch_op.create_index(
            "ix_comments_page_top",
            ["page_id", "status", "score", "created_at", "id"],
            unique=False,
            **TOP_LEVEL,
        )


def downgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index("ix_comments_page_top", **TOP_LEVEL)
        batch_op.drop_index("ix_comments_page_listing", **TOP_LEVEL)
        batch_op.create_index(
            batch_op.f("ix_comments_page_listing"),
            ["page_id", "parent_id", "status", "created_at", "id"],
            unique=False,
        )
    rebuild_with_autoincrement(NEVER_REUSED, autoincrement=False)
