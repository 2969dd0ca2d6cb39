"""Outbox hand-off from a thread of its own: a request never waits for the broker.

After a commit the unit of work gives its event ids to ``on_commit``. Here they join a queue
that one thread drains, sending every id waiting at that moment in one relay task. A broker
that is slow or down delays no answer; what this thread cannot hand over (broker down, queue
full, process stopped) stays unrelayed in the database, and the worker's sweep relays it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence

import structlog

from engagement.uow import OnCommit

log = structlog.get_logger(__name__)
MAX_PENDING = 10_000  # batches of ids; past this the sweep takes over
MAX_IDS_PER_TASK = 500


class BackgroundHandoff:
    """An ``on_commit`` hook that returns at once and hands ids over in the background."""

    def __init__(self, hand_over: OnCommit, max_pending: int = MAX_PENDING) -> None:
        self._hand_over = hand_over
        self._queue: queue.Queue[list[int] | None] = queue.Queue(max_pending)
        self._thread = threading.Thread(target=self._run, name="outbox-handoff", daemon=True)
        self._thread.start()

    def __call__(self, event_ids: Sequence[int]) -> None:
        try:
            self._queue.put_nowait(list(event_ids))
        except queue.Full:
            log.warning("outbox.handoff_queue_full", event_ids=list(event_ids))

    def close(self, timeout: float = 5.0) -> None:
        """Hand over what is queued (for up to ``timeout`` seconds), then stop the thread."""
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            batch = self._queue.get()
            if batch is None:
                return
            stop = False
            # Whatever else is waiting goes in the same task: fewer broker messages under load.
            while len(batch) < MAX_IDS_PER_TASK:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.extend(more)
            self._send(batch)
            if stop:
                return

    def _send(self, ids: list[int]) -> None:
        try:
            self._hand_over(ids)
        except Exception:  # the sweep relays what this hand-off missed
            log.warning("outbox.handoff_failed", event_ids=ids, exc_info=True)
