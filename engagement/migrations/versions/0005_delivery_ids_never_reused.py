"""delivery ids never reused

Revision ID: 0005
Revises: 0004
Created: 2026-11-26 02:00:00.000000
"""

from collections.abc import Sequence

from engagement.migrations.sqlite_ids import rebuild_with_autoincrement

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Deliveries are now pruned, and a signed bounce address names its delivery by id.


def upgrade() -> None:
    rebuild_with_autoincrement(("deliveries",), autoincrement=True)


def downgrade() -> None:
    rebuild_with_autoincrement(("deliveries",), autoincrement=False)
