"""Readers' reports: once per reader and comment; enough of them send a comment back to moderation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement import validation as check
from engagement.db import dialect_insert
from engagement.errors import CommentNotFound, Forbidden
from engagement.metrics import instruments
from engagement.models import Comment, Page, Report, Site
from engagement.models.reports import REASONS
from engagement.outbox import COMMENT_PENDING, COMMENT_REPORTED
from engagement.services.discussion.publication import load_comment, withdraw
from engagement.services.discussion.reactions import reader_hash
from engagement.uow import UnitOfWork

MAX_NOTE = 500


@dataclass(frozen=True)
class ReportSummary:
    """A comment's open reports: how many, and each reason with its count."""

    count: int
    reasons: dict[str, int]
    notes: tuple[str, ...]


def report_comment(
    uow: UnitOfWork, comment_id: int, reader_id: str | None, reason: str, note: str | None, client: str
) -> None:
    """Record one reader's report of a published comment; a second one changes nothing.

    When the site's threshold of distinct readers is reached, the comment goes back to the
    queue and the moderators get the usual moderation mail.
    """
    check.one_of("reason", reason, REASONS)
    note = check.text("note", note, max_length=MAX_NOTE, required=False)
    reader = reader_hash(uow, reader_id)
    if uow.limiter is not None:
        uow.limiter.check("report", {"reader": reader, "ip": client})
    with uow:
        comment = _reportable(uow.session, comment_id, reader)
        if comment is None:
            return  # reported by this reader already: the same answer, nothing changes
        values = {
            "comment_id": comment.id,
            "reader_hash": reader,
            "reason": reason,
            "note": note,
            "created_at": uow.now(),
        }
        added = uow.session.execute(
            dialect_insert(uow.session, Report.__table__)  # type: ignore[arg-type]
            .values(**values)
            .on_conflict_do_nothing(index_elements=["comment_id", "reader_hash"])
        )
        if not added.rowcount:  # type: ignore[attr-defined]
            return  # the same reader's report, a moment earlier, from another request
        uow.add_event(COMMENT_REPORTED, {"comment_id": comment.id, "reason": reason})
        apply_threshold(uow, comment)
        uow.commit()
    instruments().reports.labels(reason).inc()


def apply_threshold(uow: UnitOfWork, comment: Comment) -> None:
    """Past the site's threshold of open reports, the comment goes back to moderation."""
    count = open_report_count(uow.session, comment.id)
    threshold = uow.session.scalar(
        sa.select(Site.report_threshold).join(Page, Page.site_id == Site.id).where(Page.id == comment.page_id)
    )
    if comment.status == "approved" and threshold is not None and count >= threshold:
        withdraw(uow, comment, "pending")
        comment.moderation_reason = f"reported by {count} reader{'s' if count != 1 else ''}"
        uow.add_event(COMMENT_PENDING, {"comment_id": comment.id})


def clear_reports(uow: UnitOfWork, comment_id: int) -> None:
    """A moderator decided: the comment's reports are answered and count no more."""
    uow.session.execute(
        sa.update(Report)
        .where(Report.comment_id == comment_id, Report.cleared_at.is_(None))
        .values(cleared_at=uow.now()),
        execution_options={"synchronize_session": False},
    )


def open_report_count(session: Session, comment_id: int) -> int:
    stmt = sa.select(sa.func.count()).where(Report.comment_id == comment_id, Report.cleared_at.is_(None))
    return int(session.scalar(stmt) or 0)


def report_summaries(session: Session, comment_ids: Sequence[int]) -> dict[int, ReportSummary]:
    """Open reports of several comments in one read (a queue page's)."""
    if not comment_ids:
        return {}
    rows = session.execute(
        sa.select(Report.comment_id, Report.reason, Report.note)
        .where(Report.comment_id.in_(list(comment_ids)), Report.cleared_at.is_(None))
        .order_by(Report.id)
    ).all()
    counts: dict[int, dict[str, int]] = {}
    notes: dict[int, list[str]] = {}
    for row in rows:
        reasons = counts.setdefault(row.comment_id, {})
        reasons[row.reason] = reasons.get(row.reason, 0) + 1
        if row.note:
            notes.setdefault(row.comment_id, []).append(row.note)
    return {
        cid: ReportSummary(sum(reasons.values()), reasons, tuple(notes.get(cid, ())))
        for cid, reasons in counts.items()
    }


def _reportable(session: Session, comment_id: int, reader: str) -> Comment | None:
    """The comment to report, None when this reader reported it already."""
    try:
        comment = load_comment(session, comment_id)
    except CommentNotFound:
        raise CommentNotFound(f"no published comment {comment_id}") from None
    exists = session.scalar(
        sa.select(Report.id).where(Report.comment_id == comment.id, Report.reader_hash == reader)
    )
    if exists is not None:
        return None
    if comment.status != "approved":
        raise CommentNotFound(f"no published comment {comment_id}")
    if comment.author_reader == reader:
        raise Forbidden("you cannot report your own comment")
    return comment
