"""Reads on the driver's cursor: the rows SQLAlchemy gives, its errors, the pool left as sessions take it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from posting import ARTICLE, post

from engagement.driver_reads import read_rows
from engagement.services.discussion import thread_sql as sql
from engagement.services.discussion.reactions import react
from engagement.services.discussion.votes import vote


def test_the_rows_are_those_of_a_connection_for_every_length_of_list(core, site):
    tops = [post(core, page=ARTICLE, body=f"Comment {n}").comment.id for n in range(3)]
    vote(core.uow(), tops[1], "reader-1", 1)
    react(core.uow(), "daily", ARTICLE, "reader-1", "like")
    reader = core.keys.reader_hash("reader-1")
    with core.engine.connect() as connection:
        page_id = connection.execute(sa.text("SELECT id FROM pages")).scalar_one()
        for shown in ([], tops[:1], tops):
            params = {"reader": reader, "tops": shown, "page_id": page_id}
            expected = [tuple(row) for row in connection.execute(sql.MINE, params)]
            assert sorted(read_rows(core.engine, sql.MINE, params), key=repr) == sorted(expected, key=repr)
        params = {"site": "daily", "keys": ["/2026/11/article", "/nothing"]}
        assert read_rows(core.engine, sql.PAGE_COUNTS, params) == [
            tuple(row) for row in connection.execute(sql.PAGE_COUNTS, params)
        ]
    assert (None, None, "like") in read_rows(
        core.engine, sql.MINE, {"reader": reader, "tops": tops, "page_id": page_id}
    )


def test_an_error_is_sqlalchemys_and_the_pool_goes_on_in_transactions(core, site):
    broken = sa.select(sa.literal_column("no_such_column")).where(
        sa.literal_column("1") == sa.bindparam("one")
    )
    with pytest.raises(sa.exc.DBAPIError):
        read_rows(core.engine, broken, {"one": 1})
    read_rows(core.engine, sql.PAGE_COUNTS, {"site": "daily", "keys": ["/a"]})
    # Every connection the pool hands out opens transactions again (psycopg: not in autocommit).
    with core.engine.connect() as connection:
        driver = connection.connection.driver_connection
        assert getattr(driver, "autocommit", False) is False
        connection.execute(sa.text("SELECT 1"))
        assert connection.in_transaction()
