"""Schema migrations (Alembic), identical for SQLite and PostgreSQL: upgrade, inspect, generate."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool

from engagement.db import make_engine
from engagement.migrations.options import COMPARE_OPTIONS

HERE = Path(__file__).resolve().parent


def alembic_config(url: str, connection: Connection | None = None) -> Config:
    """Alembic's settings for ``url`` (kept out of the ini file: passwords may hold '%')."""
    config = Config(str(HERE / "alembic.ini"))
    config.set_main_option("script_location", str(HERE))
    config.attributes["url"] = url
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (an empty one included)."""
    _ensure_sqlite_folder(url)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def heads() -> tuple[str, ...]:
    """The revisions the code expects: one, unless two migrations were written in parallel."""
    return tuple(ScriptDirectory.from_config(alembic_config("")).get_heads())


def known_revisions() -> set[str]:
    """Every revision this version's migrations know."""
    return {script.revision for script in ScriptDirectory.from_config(alembic_config("")).walk_revisions()}


def ancestors(revision: str) -> set[str]:
    """The revisions that come before ``revision`` (it excluded)."""
    scripts = ScriptDirectory.from_config(alembic_config(""))
    return {s.revision for s in scripts.iterate_revisions(revision, "base")} - {revision}


def current(url: str) -> tuple[str, ...]:
    """The revisions the database is at; empty for a database never migrated."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return ()  # asking must not create the database file
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return revisions_of(connection)
    finally:
        engine.dispose()


def revisions_of(connection: Connection) -> tuple[str, ...]:
    """The revisions the database behind ``connection`` is at; empty when never migrated."""
    return tuple(MigrationContext.configure(connection).get_current_heads())


def schema_differences(connection: Connection, metadata: MetaData | None = None) -> list[Any]:
    """What the models hold that the database does not (and back); empty when they agree."""
    context = MigrationContext.configure(connection, opts=COMPARE_OPTIONS)
    return list(compare_metadata(context, metadata or COMPARE_OPTIONS["target_metadata"]))


def new_revision(message: str) -> Path | None:
    """Write a migration for what the models changed since head; None when nothing did.

    The comparison runs against a scratch SQLite database brought to head, so it depends on
    no developer's own database.
    """
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'head.db'}"
        upgrade(url)
        engine = make_engine(url, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                if not schema_differences(connection):
                    return None
        finally:
            engine.dispose()
        config = alembic_config(url)
        number = sum(1 for _ in ScriptDirectory.from_config(config).walk_revisions()) + 1
        script = command.revision(config, message, autogenerate=True, rev_id=f"{number:04d}")
    assert script is not None
    assert not isinstance(script, list)  # one head, so one script
    return Path(script.path)


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for in-memory SQLite and other databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return Path(parsed.database)
    return None


def _ensure_sqlite_folder(url: str) -> None:
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
