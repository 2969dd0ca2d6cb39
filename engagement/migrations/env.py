"""Alembic's entry point: runs the migrations over the URL that engagement.migrations hands it."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from engagement.config import Settings
from engagement.db import make_engine
from engagement.migrations.options import COMPARE_OPTIONS

# Two `engagement db upgrade` runs at once (two deploys racing) take turns on PostgreSQL.
MIGRATION_LOCK_ID = 7_406_001


def _run_on(connection: Connection) -> None:
    context.configure(connection=connection, **COMPARE_OPTIONS)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
        context.run_migrations()


def run_online(url: str) -> None:
    given = context.config.attributes.get("connection")
    if given is not None:
        _run_on(given)
        return
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                # Batch mode rebuilds a table by copy, drop and rename; with foreign keys
                # enforced, dropping a parent table would cascade-delete its children's rows.
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()
            _run_on(connection)
    finally:
        engine.dispose()


def run_offline(url: str) -> None:
    context.configure(url=url, literal_binds=True, **COMPARE_OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    # Only the database URL is needed here: building Settings directly (not load_settings)
    # never creates the embedded secret file in a data folder nobody asked for.
    url = context.config.attributes.get("url") or Settings().resolved_database_url
    if context.is_offline_mode():
        run_offline(url)
    else:
        run_online(url)


main()
