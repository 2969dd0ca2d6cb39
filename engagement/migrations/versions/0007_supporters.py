"""supporters from Patreon (and by hand), supporter badges

Revision ID: 0007
Revises: 0006
Created: 2026-12-06 15:41:51.405933
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "supporters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("tier", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_supporters_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supporters")),
        sa.UniqueConstraint("site_id", "email", name=op.f("uq_supporters_site_id_email")),
    )
    # Addresses marked by hand before supporters had their own table keep their mark.
    op.execute(
        "INSERT INTO supporters (site_id, email, active, status, source, changed_at, updated_at) "
        "SELECT site_id, email, true, 'supporter', 'manual', created_at, created_at "
        "FROM subscribers WHERE supporter"
    )
    # A rebuild on SQLite must keep AUTOINCREMENT: comment ids are never reused.
    with op.batch_alter_table("comments", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.add_column(
            sa.Column("author_supporter", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("supporter_thanks", sa.String(length=300), nullable=True))
        batch_op.add_column(
            sa.Column("supporter_badges", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("patreon_webhook_secret", sa.String(length=200), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("patreon_webhook_secret")
        batch_op.drop_column("supporter_badges")
        batch_op.drop_column("supporter_thanks")

    with op.batch_alter_table("comments", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_column("author_supporter")

    op.drop_table("supporters")
