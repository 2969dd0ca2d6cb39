"""Webhook outcomes recorded in batches: the answers of a few milliseconds, in one transaction.

On PostgreSQL without waiting for the disk flush, as mail's marks do
(engagement/services/delivery/sending.py): a committed mark is visible at once, so a killed
worker loses only the answers it had not written yet; only a crash of the database server
itself could forget the last moments' marks (those rows would go again, with the same
webhook-id).
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from engagement.db import among
from engagement.models import WebhookDelivery
from engagement.services.webhooks.deliveries import SENDING, SENT, finish


class Marks:
    """One connection that writes outcomes: "sent" rows in one UPDATE per status, the rest one by one."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._connection: sa.Connection | None = None
        self._sent: dict[int | None, list[int]] = {}  # response status -> ids sent
        self._sent_at: datetime | None = None
        table = WebhookDelivery.__table__
        self._sent_stmt = (  # built once: a fan-out writes hundreds of these
            sa.update(table)  # type: ignore[arg-type]
            .where(among(engine.dialect, table.c.id, name="ids"), table.c.status == SENDING)
            .values(
                status=SENT, sent_at=sa.bindparam("at"), response_status=sa.bindparam("s"), last_error=None
            )
        )

    def __enter__(self) -> Marks:
        return self

    def __exit__(self, *exc: object) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with contextlib.suppress(sa.exc.DBAPIError):  # a broken connection is thrown away below
            connection.rollback()
            if self._engine.dialect.name == "postgresql" and not connection.invalidated:
                connection.exec_driver_sql("RESET synchronous_commit")
                connection.commit()
        connection.close()

    @property
    def connection(self) -> sa.Connection:
        if self._connection is None:
            self._connection = self._engine.connect()
            if self._engine.dialect.name == "postgresql":
                self._connection.exec_driver_sql("SET synchronous_commit TO OFF")
                self._connection.commit()
        return self._connection

    def sent(self, delivery_id: int, status: int | None, now: datetime) -> None:
        """A sent row, written with the others at the next :meth:`commit` (one UPDATE per status)."""
        self._sent.setdefault(status, []).append(delivery_id)
        self._sent_at = now if self._sent_at is None else max(self._sent_at, now)

    def ids_in(self, column: sa.ColumnElement[Any], ids: list[int]) -> sa.ColumnElement[bool]:
        return among(self._engine.dialect, column, ids)

    def finish(self, delivery_id: int, **values: Any) -> None:
        """Any other outcome (a retry, a failure), written now, committed at the next :meth:`commit`."""
        finish(self.connection, delivery_id, **values)

    def commit(self) -> None:
        for status, ids in self._sent.items():
            self.connection.execute(self._sent_stmt, {"ids": ids, "at": self._sent_at, "s": status})
        self._sent, self._sent_at = {}, None
        if self._connection is not None:
            self._connection.commit()
