"""Fixtures for the HTTP adapter: the real app over the `core` fixture's database, a recording client.

Every answer the client receives is scanned at teardown: no e-mail address that a request sent
may come back in any answer of the public API.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engagement.core import Core
from engagement.web import create_app
from web.support import RecordingClient


@pytest.fixture
def app(core: Core):
    return create_app(core.settings, core)


@pytest.fixture
def client(app, site) -> Iterator[RecordingClient]:
    """A client of the app, with the `site` fixture's site present; checks for leaked addresses."""
    with RecordingClient(app, base_url="http://testserver") as test_client:
        yield test_client
    leaks = test_client.leaked(also=set(site.moderator_emails))
    assert not leaks, leaks
