"""A real SMTP server (aiosmtpd) for tests: records what it accepts, and fails on request.

Faults it can play: a permanent 550 for some recipients, a transient 451 for the first N
attempts of some recipients, and holding the Nth MAIL command until released (so a test can
kill a worker between two mails of a batch, when the previous one was answered 250). It
offers SMTPUTF8 (RFC 6531), as aiosmtpd does by default, until told not to.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes
    mail_options: list[str] = field(default_factory=list)  # SMTPUTF8, BODY=8BITMIME…

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class SinkHandler:
    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # address → 5xx reply
    transient: Counter[str] = field(default_factory=Counter)  # address → 451s still to answer
    hold_at_mail: int | None = None  # 1-based count of MAIL commands to hold
    mail_commands: int = 0
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.lock:
            self.mail_commands += 1
            hold = self.hold_at_mail is not None and self.mail_commands == self.hold_at_mail
        if hold:
            self.held.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            if address in self.refuse:
                return self.refuse[address]
            if self.transient[address] > 0:
                self.transient[address] -= 1
                return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append(
                Received(
                    envelope.mail_from, list(envelope.rcpt_tos), envelope.content, list(envelope.mail_options)
                )
            )
        return "250 Message accepted"


class MailSink:
    """The server and what it received; ``url`` goes into ENGAGEMENT_SMTP_URL."""

    def __init__(self) -> None:
        self.handler = SinkHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=True)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> MailSink:
        self.controller.start()
        return self

    def offer_smtputf8(self, offer: bool) -> None:
        """Whether the connections opened from now on are offered SMTPUTF8."""
        self.controller.SMTP_kwargs["enable_SMTPUTF8"] = offer

    def stop(self) -> None:
        self.handler.release.set()
        self.controller.stop()

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def messages(self) -> list[EmailMessage]:
        return [r.message for r in self.received]

    def to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.received if address in r.recipients]

    def recipients(self) -> Counter[str]:
        return Counter(a for r in self.received for a in r.recipients)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.received
            if len(got) >= count:
                return got
            time.sleep(0.02)
        raise AssertionError(f"expected {count} mails, got {len(self.received)} in {timeout} s")
