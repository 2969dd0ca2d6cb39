"""Shared fixtures: a core on SQLite and on the real PostgreSQL, a settable clock, a site.

Tests that need PostgreSQL, Redis or Chromium skip with a reason when the service is missing,
and fail instead when ENGAGEMENT_REQUIRE_SERVICES=1 (as CI sets it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from required_services import throwaway_pg_databases

from engagement.config import load_settings
from engagement.core import Core, build_core
from engagement.models import Base
from engagement.services.sites import SiteChanges, add_site


@dataclass
class FakeClock:
    """A clock the test moves by hand; the only double the suite uses."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 2, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throw-away PostgreSQL database for this test run, dropped at the end."""
    with throwaway_pg_databases("engagement_test") as make:
        url = make()
        engine = sa.create_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        yield url


def _truncate_all(core: Core) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with core.engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def core(request: pytest.FixtureRequest, tmp_path, clock: FakeClock) -> Iterator[Core]:
    """The real core on a fresh SQLite database, then on the real PostgreSQL: the same tests."""
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
    else:
        url = f"sqlite:///{tmp_path / 'engagement.db'}"
    settings = load_settings(
        data_dir=tmp_path, database_url=url, secret_key="test-secret-" + "x" * 32, rate_limits_enabled=False
    )
    core = build_core(settings, clock=clock)
    if request.param == "sqlite":
        Base.metadata.create_all(core.engine)
    try:
        yield core
    finally:
        if request.param == "postgresql":
            _truncate_all(core)
        core.dispose()


@pytest.fixture
def pg_core(tmp_path, clock: FakeClock, pg_url: str) -> Iterator[Core]:
    """The core on PostgreSQL alone, for tests of locking and concurrency."""
    settings = load_settings(
        data_dir=tmp_path,
        database_url=pg_url,
        secret_key="test-secret-" + "x" * 32,
        rate_limits_enabled=False,
    )
    core = build_core(settings, clock=clock)
    try:
        yield core
    finally:
        _truncate_all(core)
        core.dispose()


@pytest.fixture
def site(core: Core):
    """A site with the defaults a publisher gets, moderation off."""
    return add_site(
        core.uow(),
        "daily",
        SiteChanges(
            name="The Daily Example",
            origins=["https://news.example.org"],
            moderator_emails=["mod@example.org"],
        ),
    )


@dataclass
class StatementCounter:
    count: int = 0
    statements: list[str] = field(default_factory=list)


@pytest.fixture
def count_statements(core: Core) -> Iterator[StatementCounter]:
    """Counts every SQL statement the core sends while the test runs."""
    counter = StatementCounter()

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        counter.count += 1
        counter.statements.append(statement)

    sa.event.listen(core.engine, "before_cursor_execute", before)
    yield counter
    sa.event.remove(core.engine, "before_cursor_execute", before)
