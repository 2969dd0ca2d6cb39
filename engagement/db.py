"""Engine and session factory for SQLite and PostgreSQL, plus the column types they share."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.orm import QueryableAttribute, Session, sessionmaker


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, whatever the database keeps (SQLite keeps naive text)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the web process read while a worker writes; busy_timeout waits for the
    # writer instead of failing at once; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with the settings each dialect needs to behave alike."""
    if url.startswith("sqlite"):
        connect_args = kwargs.pop("connect_args", {})
        connect_args.setdefault("timeout", 30)
        connect_args.setdefault("check_same_thread", False)
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs.setdefault("poolclass", sa.pool.StaticPool)
        engine = sa.create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    ping_after = kwargs.pop("ping_after_idle", PING_AFTER_IDLE_SECONDS)
    # A server that does not answer is an error after a while, not a request that hangs forever.
    kwargs.setdefault("connect_args", {}).setdefault("connect_timeout", 10)
    engine = sa.create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_after_idle(engine, ping_after)
    return engine


# A connection that rested this long is pinged before use: a restarted server or a firewall
# that dropped it shows then, not in a reader's request. One in steady use is not (the ping
# was a round trip on every checkout: a tenth of a post's time on PostgreSQL).
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """``pool_pre_ping`` for connections idle longer than ``idle_seconds`` only.

    A dead one is replaced before the checkout returns: the pool discards a connection whose
    checkout raises ``DisconnectionError`` and tries another, or a new one.
    """

    def checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return  # new, or in steady use
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise sa.exc.DisconnectionError(str(error)) from error
            raise

    # On the engine, not its pool: dispose() carries engine listeners to the new pool.
    event.listen(engine, "checkin", checkin)
    event.listen(engine, "checkout", checkout)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (services return them)."""
    return sessionmaker(engine, expire_on_commit=False)


def insert_ignoring_conflict(
    session: Session, table: sa.Table, values: dict[str, Any], keys: list[str]
) -> None:
    """INSERT … ON CONFLICT DO NOTHING on either dialect (get-or-create under concurrency)."""
    stmt = dialect_insert(session, table).values(**values).on_conflict_do_nothing(index_elements=keys)
    session.execute(stmt)


def upsert(
    session: Session, table: sa.Table, values: dict[str, Any], keys: list[str], update: dict[str, Any]
) -> None:
    """INSERT … ON CONFLICT DO UPDATE on either dialect (last writer wins, no error)."""
    stmt = dialect_insert(session, table).values(**values)
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_=update)
    session.execute(stmt)


def dialect_insert(session: Session | Connection, table: sa.Table) -> Any:
    """The INSERT of the session's (or connection's) dialect, which knows ON CONFLICT."""
    name = session.dialect.name if isinstance(session, Connection) else session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    raise RuntimeError(f"unsupported database dialect {name!r}")


def insert_many_ignoring_conflict(
    session: Session, table: sa.Table, rows: list[dict[str, Any]], keys: list[str]
) -> None:
    """:func:`insert_ignoring_conflict` for many rows in one executemany (bulk fan-out)."""
    if rows:
        stmt = dialect_insert(session, table).on_conflict_do_nothing(index_elements=keys)
        session.execute(stmt, rows)


def among(
    dialect: Dialect,
    column: sa.ColumnElement[Any] | QueryableAttribute[Any],
    values: Sequence[Any] | None = None,
    *,
    name: str | None = None,
) -> sa.ColumnElement[bool]:
    """``column IN values``, or IN the parameter ``name`` given at each execution (a statement built once).

    On PostgreSQL ``= ANY(array)``, one parameter, so the statement reads the same whatever the
    count and is compiled, parsed and prepared once (an IN of 200 values is rendered anew, each
    value with its cast, for every count)."""
    if dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        listed = None if values is None else list(values)
        return column == sa.any_(sa.bindparam(name, listed, type_=ARRAY(column.type)))
    if values is None:
        return column.in_(sa.bindparam(name, expanding=True))
    return column.in_(list(values))
