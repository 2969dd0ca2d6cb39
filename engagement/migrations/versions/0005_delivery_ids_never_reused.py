"""delivery ids never reused

Revision ID: 0005
Revises: 0004
Created: 2026-11-26 02:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Deliveries are now pruned, and a signed bounce address names its delivery by id. SQLite
# reuses the highest id after a delete unless the table says AUTOINCREMENT, which only a
# rebuild can add; PostgreSQL's sequences never hand out an id twice.


def upgrade() -> None:
    _rebuild_on_sqlite(autoincrement=True)


def downgrade() -> None:
    _rebuild_on_sqlite(autoincrement=False)


def _rebuild_on_sqlite(*, autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "deliveries", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass
