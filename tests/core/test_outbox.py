"""The outbox rule: a change and its event commit together or not at all."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from posting import events, page_row, post, row
from support import table_rows

from engagement.models import Comment, OutboxEvent
from engagement.outbox import COMMENT_PENDING, COMMENT_PUBLISHED, claim_unrelayed
from engagement.services.discussion.moderation import approve_comment
from engagement.services.sites import SiteChanges, update_site


@contextmanager
def failing_inserts(core, table):
    """Make the database itself refuse every INSERT into ``table``, as a full disk or a crash would."""
    if core.engine.dialect.name == "sqlite":
        create = [
            f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END"
        ]
        drop = [f"DROP TRIGGER refuse_{table}"]
    else:
        create = [
            f"CREATE FUNCTION refuse_{table}() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused by test trigger'; END $$",
            f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION refuse_{table}()",
        ]
        drop = [f"DROP TRIGGER refuse_{table} ON {table}", f"DROP FUNCTION refuse_{table}()"]
    with core.engine.begin() as conn:
        for statement in create:
            conn.execute(sa.text(statement))
    try:
        yield
    finally:
        with core.engine.begin() as conn:
            for statement in drop:
                conn.execute(sa.text(statement))


def test_a_committed_comment_leaves_both_the_comment_and_its_event(core, site):
    posted = post(core)
    assert row(core, posted.comment.id).status == "approved"
    assert events(core) == [(COMMENT_PUBLISHED, {"comment_id": posted.comment.id})]
    update_site(core.uow(), "daily", SiteChanges(moderation="all"))
    waiting = post(core)
    assert events(core)[-1] == (COMMENT_PENDING, {"comment_id": waiting.comment.id})


@pytest.mark.parametrize("table", ["outbox_events", "subscriptions"])
def test_a_failing_transaction_leaves_neither_the_comment_nor_its_event(core, site, table):
    post(core, page="https://news.example.org/earlier")
    before = table_rows(core)
    # The event is written with the comment; the subscription after both: either failure undoes all.
    with failing_inserts(core, table), pytest.raises(sa.exc.DBAPIError, match="refused by test trigger"):
        post(core, author_email="jane@example.org", notify="all")
    assert table_rows(core) == before
    assert page_row(core) is None
    posted = post(core, author_email="jane@example.org", notify="all")  # nothing left half-done
    assert (COMMENT_PUBLISHED, {"comment_id": posted.comment.id}) in events(core)


def test_a_failing_approval_leaves_the_comment_pending_and_unannounced(core, site):
    update_site(core.uow(), "daily", SiteChanges(moderation="all"))
    waiting = post(core)
    before = table_rows(core)
    with failing_inserts(core, "outbox_events"), pytest.raises(sa.exc.DBAPIError):
        approve_comment(core.uow(), waiting.comment.id)
    assert table_rows(core) == before
    assert row(core, waiting.comment.id).status == "pending"
    assert page_row(core).comment_count == 0


def test_events_are_handed_over_only_after_commit_and_kept_when_that_fails(core, site):
    handed: list[list[int]] = []

    def hand_over(event_ids):
        with core.engine.connect() as conn:  # another connection sees the committed rows already
            found = (
                conn.execute(sa.select(OutboxEvent.id).where(OutboxEvent.id.in_(event_ids))).scalars().all()
            )
        handed.append(sorted(found))

    core.on_commit = hand_over
    posted = post(core)
    with core.uow() as uow:
        event = uow.session.scalars(sa.select(OutboxEvent)).one()
        assert event.payload == {"comment_id": posted.comment.id}
    assert handed == [[event.id]]

    def broker_down(event_ids):
        raise ConnectionError("broker unreachable")

    core.on_commit = broker_down
    second = post(core)
    assert row(core, second.comment.id).status == "approved"
    with core.uow() as uow:
        unrelayed = claim_unrelayed(uow.session)
        assert [e.payload["comment_id"] for e in unrelayed] == [posted.comment.id, second.comment.id]
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 2
