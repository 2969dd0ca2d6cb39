"""a site can turn "More discussions" off and set its heading

Revision ID: 0013
Revises: 0012
Created: 2026-12-06 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("popular", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column("popular_title", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("popular_title")
        batch_op.drop_column("popular")
