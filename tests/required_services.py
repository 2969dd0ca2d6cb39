"""Where the test services live, and the rule for a missing one: skip here, fail in CI.

Every conftest and test imports these from here (a nested conftest cannot import the root one).
"""

from __future__ import annotations

import os

import pytest

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
