"""A step some migrations share: make SQLite never hand out a deleted row's id again."""

from __future__ import annotations

from alembic import op


def rebuild_with_autoincrement(tables: tuple[str, ...], *, autoincrement: bool) -> None:
    """Rebuild ``tables`` on SQLite with (or without) AUTOINCREMENT; nothing on PostgreSQL.

    SQLite reuses the highest id after a delete unless the table says AUTOINCREMENT, which
    only a rebuild can add; PostgreSQL's sequences never hand out an id twice.
    """
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in tables:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass
