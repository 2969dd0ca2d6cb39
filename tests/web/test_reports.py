"""POST /api/v1/comments/{id}/report: once per reader, never one's own, 404 for an unpublished comment."""

from __future__ import annotations

from prometheus_client import REGISTRY

from engagement.services.discussion.moderation import reject_comment
from web.support import ORIGIN, body, make_comment, table_rows

READER = {"X-Engagement-Reader": "reader-report-1", "Origin": ORIGIN}


def reports_counted(reason: str) -> float:
    return REGISTRY.get_sample_value("engagement_reports_total", {"reason": reason}) or 0.0


def test_report_once_and_refusals(client, core, site):
    comment = make_comment(core, site)
    url = f"/api/v1/comments/{comment.id}/report"
    counted = reports_counted("abuse")
    first = client.post(url, json={"reason": "abuse", "note": "Rude."}, headers=READER)
    assert (first.status_code, body(first)) == (200, {"reported": True})
    rows = table_rows(core)
    again = client.post(url, json={"reason": "abuse"}, headers=READER)
    assert (again.status_code, body(again)) == (200, {"reported": True})
    assert table_rows(core) == rows
    assert reports_counted("abuse") == counted + 1  # the second report counts no more
    assert client.post(url, json={"reason": "boring"}, headers=READER).status_code == 422
    assert client.post(url, json={"reason": "spam"}).status_code == 422  # no reader header
    unknown = client.post("/api/v1/comments/999999/report", json={"reason": "spam"}, headers=READER)
    assert unknown.status_code == 404
    reject_comment(core.uow(), comment.id)
    other = {**READER, "X-Engagement-Reader": "reader-report-2"}
    assert client.post(url, json={"reason": "spam"}, headers=other).status_code == 404


def test_reports_are_rate_limited(core, site):
    from engagement.core import build_core
    from engagement.web import create_app
    from web.support import RecordingClient

    settings = core.settings.model_copy(update={"rate_limits_enabled": True, "report_rate_limit": "2/minute"})
    limited = build_core(settings, clock=core.clock)
    comments = [make_comment(core, site, body=f"Comment {n}") for n in range(3)]
    with RecordingClient(create_app(settings, limited), base_url="http://testserver") as client:
        answers = [
            client.post(f"/api/v1/comments/{c.id}/report", json={"reason": "spam"}, headers=READER)
            for c in comments
        ]
    limited.dispose()
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "Retry-After" in answers[2].headers
