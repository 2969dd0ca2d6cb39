"""outbox event ids never reused

Revision ID: 0006
Revises: 0005
Created: 2026-11-26 02:45:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Relayed outbox events are now pruned, and delivery keys name their event by id
# (confirm:<id>, moderate:<id>:<address>, approved:<id>). SQLite reuses the highest id after
# a delete unless the table says AUTOINCREMENT, which only a rebuild can add; PostgreSQL's
# sequences never hand out an id twice.


def upgrade() -> None:
    _rebuild_on_sqlite(autoincrement=True)


def downgrade() -> None:
    _rebuild_on_sqlite(autoincrement=False)


def _rebuild_on_sqlite(*, autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "outbox_events", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass
