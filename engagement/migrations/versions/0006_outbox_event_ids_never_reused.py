"""outbox event ids never reused

Revision ID: 0006
Revises: 0005
Created: 2026-11-26 02:45:00.000000
"""

from collections.abc import Sequence

from engagement.migrations.sqlite_ids import rebuild_with_autoincrement

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Relayed outbox events are now pruned, and delivery keys name their event by id
# (confirm:<id>, moderate:<id>:<address>, approved:<id>).


def upgrade() -> None:
    rebuild_with_autoincrement(("outbox_events",), autoincrement=True)


def downgrade() -> None:
    rebuild_with_autoincrement(("outbox_events",), autoincrement=False)
