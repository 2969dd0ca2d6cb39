"""The PostgreSQL engine's pool: a connection idle past the threshold is pinged, one in use is not."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from engagement.db import make_engine

pytestmark = pytest.mark.postgres


def _backend_pid(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pg_url: str, pid: int) -> None:
    admin = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()


def test_a_connection_the_server_dropped_while_idle_is_replaced(pg_url: str) -> None:
    engine = make_engine(pg_url, ping_after_idle=0.0)  # every checkout counts as after a rest
    try:
        dropped = _backend_pid(engine)
        _terminate(pg_url, dropped)
        assert _backend_pid(engine) != dropped  # a fresh connection, and no error
    finally:
        engine.dispose()


def test_a_connection_in_steady_use_is_not_pinged(pg_url: str) -> None:
    engine = make_engine(pg_url, ping_after_idle=3600.0)
    try:
        dropped = _backend_pid(engine)
        _terminate(pg_url, dropped)
        # Not pinged: the dead connection shows in the statement, and the pool drops it then.
        with pytest.raises(sa.exc.OperationalError):
            _backend_pid(engine)
        assert _backend_pid(engine) != dropped
    finally:
        engine.dispose()
