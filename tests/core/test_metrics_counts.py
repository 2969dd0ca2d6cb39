"""The core counts what happens where it happens: comments posted by status, reports by reason."""

from __future__ import annotations

from posting import post
from prometheus_client import REGISTRY

from engagement.services.discussion.reports import report_comment


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_posted_comment_and_a_new_report_are_counted_once(core, site):
    posted_before = counted("engagement_comments_posted_total", site="daily", status="approved")
    reports_before = counted("engagement_reports_total", reason="abuse")

    posted = post(core, reader_id="author-reader-1")
    for _ in range(2):  # the same reader twice: one report
        report_comment(core.uow(), posted.comment.id, "reader-aaaa-1", "abuse", None, "127.0.0.1")

    assert counted("engagement_comments_posted_total", site="daily", status="approved") == posted_before + 1
    assert counted("engagement_reports_total", reason="abuse") == reports_before + 1
