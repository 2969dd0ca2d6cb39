"""Reads of one statement on the driver's own cursor, outside any transaction: the hot reads' way.

A read through SQLAlchemy's ``Connection`` pays, besides the statement, for the connection's
bookkeeping, its isolation level set and reset at each checkout (SQLite: two PRAGMAs), the
expansion of ``IN`` lists at each call and the result's wrapping: on a cached thread read,
more CPU than the statement itself. Here a Core statement is compiled once per dialect and
per length of its ``IN`` lists, and run on a pooled connection's DBAPI cursor; its rows come
back as plain tuples. Only for statements whose parameters and columns need no type
conversion (integers and strings), each parameter named. Driver errors are raised as
SQLAlchemy's, as a session's; the engine's ``before_cursor_execute`` listeners see each
statement (without a ``Connection``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Engine

# Each bound placeholder of a compiled text: its name there, the parameter given, the list index.
Binds = list[tuple[str, str, int | None]]
# (statement, dialect, lengths of the IN lists) → the statement (kept alive), its text, its binds
_compiled: dict[tuple[int, str, tuple[tuple[str, int], ...]], tuple[Any, str, Binds, bool]] = {}
_lock = threading.Lock()
_PYFORMAT = re.compile(r"%\((\w+)\)s")


def read_rows(engine: Engine, statement: sa.Executable, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """The rows of ``statement`` with ``params`` (lists for its expanding parameters)."""
    lists = tuple((k, len(v)) for k, v in params.items() if isinstance(v, list | tuple))
    dialect = engine.dialect
    key = (id(statement), dialect.name, lists)
    found = _compiled.get(key) or _compile(key, statement, dialect, params)
    _statement, text, binds, positional = found
    bound: Any
    if positional:
        bound = tuple(params[name] if index is None else params[name][index] for _, name, index in binds)
    else:
        bound = {bind: params[name] if index is None else params[name][index] for bind, name, index in binds}
    try:
        connection = engine.raw_connection()
    except dialect.loaded_dbapi.Error as error:  # no connection to be had: the database is away
        raise sa.exc.DBAPIError.instance(text, bound, error, dialect.loaded_dbapi.Error) from error
    try:
        driver = connection.driver_connection
        # psycopg opens a transaction at the first statement unless in autocommit (its end
        # would be a ROLLBACK's round trip); SQLite's driver opens none for a SELECT.
        autocommit = dialect.name == "postgresql"
        if autocommit:
            driver.autocommit = True  # type: ignore[union-attr]
        try:
            cursor = connection.cursor()
            try:
                if engine._has_events:  # the engine's statement listeners (counters, tracing) see it too
                    for listener in engine.dispatch.before_cursor_execute:
                        listener(None, cursor, text, bound, None, False)
                cursor.execute(text, bound)
                return cast(list[tuple[Any, ...]], cursor.fetchall())
            finally:
                cursor.close()
        finally:
            if autocommit:
                _end_autocommit(connection, driver, dialect)
    except dialect.loaded_dbapi.Error as error:
        if dialect.is_disconnect(error, connection.dbapi_connection, None):
            connection.invalidate(error)
        raise sa.exc.DBAPIError.instance(
            text, bound, error, dialect.loaded_dbapi.Error, connection_invalidated=not connection.is_valid
        ) from error
    finally:
        connection.close()


def _end_autocommit(connection: Any, driver: Any, dialect: sa.Dialect) -> None:
    """Give the connection back to the pool as the sessions take it: never in autocommit."""
    try:
        driver.autocommit = False
    except dialect.loaded_dbapi.Error as error:  # a broken connection: the pool drops it
        connection.invalidate(error)


def _compile(
    key: tuple[int, str, tuple[tuple[str, int], ...]],
    statement: sa.Executable,
    dialect: sa.Dialect,
    params: Mapping[str, Any],
) -> tuple[Any, str, Binds, bool]:
    # Rendered with its IN lists expanded (``name_1``, ``name_2``…): one text per length.
    sample = {k: list(v) if isinstance(v, list | tuple) else v for k, v in params.items()}
    compiled = statement.params(sample).compile(  # type: ignore[attr-defined]
        dialect=dialect, compile_kwargs={"render_postcompile": True}
    )
    if dialect.paramstyle == "qmark":
        order: Sequence[str] = compiled.positiontup or ()
    elif dialect.paramstyle == "pyformat":
        order = list(dict.fromkeys(_PYFORMAT.findall(compiled.string)))
    else:
        raise NotImplementedError(f"parameters in the {dialect.paramstyle} style")
    binds: Binds = []
    for bind in order:
        if bind in params:
            binds.append((bind, bind, None))
            continue
        name, _, number = bind.rpartition("_")
        if not isinstance(sample.get(name), list) or not number.isdigit():
            raise ValueError(f"parameter {bind!r} of the statement is not given")
        binds.append((bind, name, int(number) - 1))
    found = (statement, compiled.string, binds, bool(compiled.positional))
    with _lock:
        _compiled[key] = found
    return found
