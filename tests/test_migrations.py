"""Migrations bring an empty SQLite or PostgreSQL database to exactly the models' schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from required_services import throwaway_pg_databases
from sqlalchemy.pool import NullPool

from engagement import migrations
from engagement.db import make_engine
from engagement.models import Base


@pytest.fixture
def empty_pg_url() -> Iterator[str]:
    """A PostgreSQL database with nothing in it, dropped after the test."""
    with throwaway_pg_databases("engagement_migrate") as make:
        yield make()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "postgresql":
        return request.getfixturevalue("empty_pg_url")
    return f"sqlite:///{tmp_path / 'nested' / 'engagement.db'}"


def _differences(url: str) -> list:
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return migrations.schema_differences(connection)
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url, poolclass=NullPool)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_one_head_only():
    # Two migrations written in parallel on one base need a merge before anyone can upgrade.
    assert len(migrations.heads()) == 1


def test_upgrade_reaches_exactly_the_models(empty_url: str):
    assert migrations.current(empty_url) == ()

    migrations.upgrade(empty_url)

    assert migrations.current(empty_url) == migrations.heads()
    # A model changed without its migration shows here: run scripts/new-migration.
    assert _differences(empty_url) == []
    assert _tables(empty_url) == set(Base.metadata.tables) | {"alembic_version"}


def test_sqlite_tables_never_reuse_ids_where_the_models_say_so(tmp_path):
    # Alembic's comparison does not see AUTOINCREMENT: read it from the tables themselves.
    url = f"sqlite:///{tmp_path / 'engagement.db'}"
    migrations.upgrade(url)
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
            created = dict(rows.all())
    finally:
        engine.dispose()
    wanted = {
        name for name, table in Base.metadata.tables.items() if table.kwargs.get("sqlite_autoincrement")
    }
    assert {"comments", "subscribers", "subscriptions"} <= wanted
    assert {name for name, sql in created.items() if "AUTOINCREMENT" in sql} == wanted


def test_a_model_change_without_its_migration_is_caught(tmp_path):
    url = f"sqlite:///{tmp_path / 'engagement.db'}"
    migrations.upgrade(url)
    grown = sa.MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(grown)
    sa.Table("forgotten", grown, sa.Column("id", sa.Integer, primary_key=True))
    grown.tables["sites"].append_column(sa.Column("flair", sa.String(20)))

    engine = make_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        found = migrations.schema_differences(connection, grown)
    engine.dispose()

    assert {(d[0], getattr(d[-1], "name", None)) for d in found if isinstance(d, tuple)} >= {
        ("add_table", "forgotten"),
        ("add_column", "flair"),
    }


def test_upgrade_twice_changes_nothing(empty_url: str):
    migrations.upgrade(empty_url)
    migrations.upgrade(empty_url)

    assert migrations.current(empty_url) == migrations.heads()


def test_downgrade_to_base_and_back(empty_url: str):
    migrations.upgrade(empty_url)

    migrations.downgrade(empty_url, "base")

    assert migrations.current(empty_url) == ()
    assert _tables(empty_url) <= {"alembic_version"}
    migrations.upgrade(empty_url)
    assert _differences(empty_url) == []


def test_upgrade_keeps_rows(tmp_path):
    url = f"sqlite:///{tmp_path / 'engagement.db'}"
    migrations.upgrade(url)
    engine = make_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO sites (key, name, origins, moderator_emails, moderation, banned_words,"
                " link_limit, edit_window_seconds, reactions, digest_hour, digest_weekday, timezone,"
                " created_at) VALUES ('daily', 'The Daily', '[]', '[]', 'off', '[]', 3, 900, '[]',"
                " 8, 0, 'UTC', '2026-11-02 09:00:00')"
            )
        )
    engine.dispose()

    migrations.upgrade(url)

    engine = make_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT key FROM sites")).scalars().all() == ["daily"]
    engine.dispose()


def test_new_revision_writes_nothing_when_models_match():
    assert migrations.new_revision("nothing changed") is None
