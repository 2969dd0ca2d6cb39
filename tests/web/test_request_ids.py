"""Each answer carries a request id: the caller's when well-formed, a new one otherwise; events keep it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from engagement.models import OutboxEvent
from web.support import body

ARTICLE = "https://news.example.org/2026/11/article"


def test_a_well_formed_request_id_is_kept_and_written_into_the_events_it_causes(client, core):
    payload = {"site": "daily", "page": ARTICLE, "author": {"name": "Jane"}, "body": "Hello"}
    posted = client.post("/api/v1/comments", json=payload, headers={"X-Request-ID": "edge-7f3a.42:1"})

    assert posted.headers["X-Request-ID"] == "edge-7f3a.42:1"
    with core.uow() as uow:
        payloads = uow.session.scalars(sa.select(OutboxEvent.payload)).all()
    assert payloads
    assert all(p["request_id"] == "edge-7f3a.42:1" for p in payloads)
    assert body(posted)["comment"]["id"] == payloads[-1]["comment_id"]


@pytest.mark.parametrize("given", ["", "has space", "a" * 129, "jane@example.org", "-leading", "tab\there"])
def test_a_malformed_request_id_is_replaced(client, given):
    answer = client.get("/api/v1/sites/daily", headers={"X-Request-ID": given})

    made = answer.headers["X-Request-ID"]
    assert made != given
    assert len(made) == 32


def test_every_answer_has_one_even_a_refusal(client):
    refusals = (client.get("/no/such/path"), client.patch("/api/v1/comments/1", json={"body": "x"}))
    assert [r.status_code for r in refusals] == [404, 401]
    assert all(len(r.headers["X-Request-ID"]) == 32 for r in refusals)


def test_an_unexpected_error_answers_500_with_the_request_id(core, site):
    from starlette.testclient import TestClient

    from engagement.web import create_app

    app = create_app(core.settings, core)

    def boom() -> None:
        raise RuntimeError("a bug, with ann@example.org in its message")

    app.add_api_route("/boom", boom)
    with capture_logs() as logs, TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/boom", headers={"X-Request-ID": "req-boom-1"})

    assert answer.status_code == 500
    assert answer.headers["X-Request-ID"] == "req-boom-1"
    assert answer.json()["code"] == "internal"
    assert "ann@example.org" not in answer.text
    [line] = [e for e in logs if e["event"] == "http.unhandled"]
    assert line["log_level"] == "error"
