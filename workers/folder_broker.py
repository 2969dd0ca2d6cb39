"""The serverless broker's transport: kombu's filesystem transport, with message files that appear whole."""

from __future__ import annotations

import contextlib
import os
import uuid
from queue import Empty
from time import monotonic
from typing import Any

import structlog
from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.json import dumps

log = structlog.get_logger(__name__)
# What the consumer never takes: its names have no ``.<queue>.msg`` after their first dot.
STAGING_PREFIX = ".staging-"


class Channel(filesystem.Channel):
    """Writes each message beside the queue under a staging name, then renames it into the queue.

    kombu's own channel creates the message file and then writes it: a consumer polling the
    folder meanwhile takes the empty file, fails to decode it, and the worker stops on that
    "unrecoverable" error (kombu #1551), the message lost with it. A rename within one folder
    is atomic, so a consumer sees a message file complete or not at all.
    """

    # kombu-stubs type the base and the filesystem channels' _put apart; this is the filesystem one.
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        # kombu's own name: the consumer takes a queue's files in this order (oldest first).
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        staging = os.path.join(self.data_folder_out, STAGING_PREFIX + name)
        try:
            with open(staging, "wb") as file:
                file.write(dumps(payload).encode())
            os.replace(staging, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.remove(staging)
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _get(self, queue: str, timeout: float | None = None) -> Any:
        try:
            return super()._get(queue)
        except ValueError as exc:  # a file no producer of ours wrote: skip it rather than stop the worker
            # Whatever it carried is found again by the sweeps (unrelayed events, due deliveries).
            log.error("broker.unreadable_message", queue=queue, error=str(exc))
            raise Empty() from exc


class Transport(filesystem.Transport):
    """The filesystem transport with :class:`Channel` (the same folders and options)."""

    Channel = Channel
