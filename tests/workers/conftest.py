"""Fixtures for the delivery tests: an SMTP sink, a mailer aimed at it, confirmed subscribers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mailsink import MailSink

from engagement.core import Core
from engagement.mail.mailer import Mailer, build_mailer


@pytest.fixture
def sink() -> Iterator[MailSink]:
    server = MailSink().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mailer(core: Core, sink: MailSink) -> Mailer:
    settings = core.settings.model_copy(
        update={"smtp_url": sink.url, "smtp_rate_per_second": 10_000.0, "delivery_retry_seconds": 10.0}
    )
    return build_mailer(settings, core.keys)
