"""sites accept readers signed in by the publisher's site; their comments say so

Revision ID: 0011
Revises: 0010
Created: 2026-12-06 21:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sso_secret", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("sso_required", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("sso_login_url", sa.String(length=2000), nullable=True))

    # A rebuild on SQLite must keep AUTOINCREMENT: comment ids are never reused.
    with op.batch_alter_table("comments", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.add_column(
            sa.Column("author_verified", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("author_sso_supporter", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("comments", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_column("author_sso_supporter")
        batch_op.drop_column("author_verified")

    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("sso_login_url")
        batch_op.drop_column("sso_required")
        batch_op.drop_column("sso_secret")
