"""What a worker process's tasks share: its core and mailer, built there on first use, on the app."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from celery import Celery

from engagement.config import Settings
from engagement.core import Core, build_core
from engagement.mail.mailer import Mailer, build_mailer
from engagement.services.webhooks.sending import WebhookSender
from workers.lifecycle import StopFlag


@dataclass
class Resources:
    """What the tasks of one worker process share, built on first use in that process.

    Built lazily so that a prefork worker's children each open their own database pool
    instead of sharing the parent's sockets. A test may hand in a core of its own.
    """

    settings: Settings
    core: Core | None = None
    mailer: Mailer | None = None
    webhook_sender: WebhookSender | None = None
    pid: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.stopping = StopFlag()  # made before a worker's pool starts, so its processes share it
        if self.core is not None:
            self.pid = os.getpid()

    def get(self) -> tuple[Core, Mailer]:
        with self._lock:
            if self.core is None or self.pid != os.getpid():
                self.core = build_core(self.settings)
                self.pid = os.getpid()
                self.mailer = None
            if self.mailer is None:
                self.mailer = build_mailer(self.settings, self.core.keys)
            return self.core, self.mailer

    def webhooks(self) -> WebhookSender:
        """This process's webhook sender (its HTTP connections and threads), made on first use."""
        self.get()
        with self._lock:
            if self.webhook_sender is None or self.webhook_sender.pid != os.getpid():
                self.webhook_sender = WebhookSender(self.settings)
            return self.webhook_sender


class EngagementCelery(Celery):
    """A Celery app that carries the process's core and mailer for its tasks."""

    resources: Resources
