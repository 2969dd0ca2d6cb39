"""Where the test services live, and the rule for a missing one: skip here, fail in CI.

Every conftest and test imports these from here (a nested conftest cannot import the root one).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

PG_ADMIN_URL = os.environ.get("ENGAGEMENT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ENGAGEMENT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def services_required() -> bool:
    return os.environ.get("ENGAGEMENT_REQUIRE_SERVICES") == "1"


def missing_service(what: str, why: str) -> None:
    """Skip (developer machine) or fail (CI) a test whose service is not there."""
    message = f"{what} is not available: {why}"
    if services_required():
        pytest.fail(message + " (ENGAGEMENT_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(message)


@contextmanager
def throwaway_pg_databases(prefix: str) -> Iterator[Callable[[], str]]:
    """Makes empty PostgreSQL databases on demand (skip, or fail in CI, without one), drops them after."""
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    names: list[str] = []

    def make() -> str:
        name = f"{prefix}_{secrets.token_hex(4)}"
        try:
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        except sa.exc.OperationalError as exc:
            missing_service("PostgreSQL", str(exc).splitlines()[0])
        names.append(name)
        return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    try:
        yield make
    finally:
        if names:
            with admin.connect() as conn:
                for name in names:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
