"""Readers' reports: once per reader, never one's own, the threshold sends a comment back to the queue."""

from __future__ import annotations

import pytest
from posting import events, post, row, thread

from engagement.errors import CommentNotFound, Forbidden, InvalidInput
from engagement.outbox import COMMENT_PENDING, COMMENT_PUBLISHED
from engagement.services.discussion.moderation import approve_comment, reject_comment
from engagement.services.discussion.reports import report_comment, report_summaries
from engagement.services.sites import SiteChanges, update_site


def report(core, comment_id: int, reader: str, reason: str = "spam", note: str | None = None) -> None:
    report_comment(core.uow(), comment_id, reader, reason, note, "127.0.0.1")


def summaries(core, comment_id: int):
    with core.uow() as uow:
        return report_summaries(uow.session, [comment_id]).get(comment_id)


def test_threshold_of_distinct_readers_sends_the_comment_back(core, site):
    update_site(core.uow(), "daily", SiteChanges(report_threshold=2))
    posted = post(core, reader_id="author-reader-1")
    cid = posted.comment.id
    report(core, cid, "reader-aaaa-1", "abuse", "Insults another reader.")
    report(core, cid, "reader-aaaa-1", "spam")  # the same reader again: nothing changes
    assert summaries(core, cid).count == 1
    assert row(core, cid).status == "approved"
    report(core, cid, "reader-bbbb-2", "abuse")
    comment = row(core, cid)
    assert (comment.status, comment.moderation_reason) == ("pending", "reported by 2 readers")
    assert thread(core).comments == ()
    assert events(core)[-1] == (COMMENT_PENDING, {"comment_id": cid})
    summary = summaries(core, cid)
    assert (summary.count, summary.reasons, summary.notes) == (2, {"abuse": 2}, ("Insults another reader.",))
    # The first reader reports once more: the same answer, though the comment is held now.
    report(core, cid, "reader-aaaa-1")
    # Approving answers the reports: published again, no open report left.
    approve_comment(core.uow(), cid)
    assert row(core, cid).status == "approved"
    assert summaries(core, cid) is None
    assert events(core)[-1][0] == COMMENT_PUBLISHED


def test_bad_reports_change_nothing(core, site):
    posted = post(core, reader_id="author-reader-1")
    cid = posted.comment.id
    with pytest.raises(Forbidden):
        report(core, cid, "author-reader-1")
    with pytest.raises(InvalidInput):
        report(core, cid, "reader-aaaa-1", "boring")
    with pytest.raises(InvalidInput):
        report(core, cid, "reader-aaaa-1", "other", "x" * 501)
    with pytest.raises(CommentNotFound):
        report(core, cid + 100, "reader-aaaa-1")
    reject_comment(core.uow(), cid)
    with pytest.raises(CommentNotFound):
        report(core, cid, "reader-aaaa-1")
    assert summaries(core, cid) is None
