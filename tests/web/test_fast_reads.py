"""The thread read's fast path answers exactly as the FastAPI route, and leaves it everything doubtful."""

from __future__ import annotations

import dataclasses
import json

import pytest

from engagement.metrics import instruments
from engagement.web import fast_reads
from web.support import body

ARTICLE = "https://news.example.org/2026/11/fast"
READER = {"X-Engagement-Reader": "reader-0123456789"}


def thread(client, query: str, headers=READER):
    return client.get(f"/api/v1/comments?site=daily&page={ARTICLE}&{query}", headers=headers)


@pytest.fixture
def seeded(client):
    for n in range(3):
        payload = {"site": "daily", "page": ARTICLE, "author": {"name": "Jane"}, "body": f"Comment {n}"}
        assert client.post("/api/v1/comments", json=payload, headers=READER).status_code == 201
    return client


@pytest.mark.parametrize("query", ["limit=2", "sort=top&limit=2", "sort=oldest&passage=*&limit=2"])
def test_the_fast_path_and_the_route_give_the_same_answer(seeded, query):
    fast = thread(seeded, query)
    # "limit=02" is valid to the route but not plain enough for the fast path: the route answers.
    routed = thread(seeded, query.replace("limit=2", "limit=02"))
    assert fast.status_code == routed.status_code == 200
    assert fast.content == routed.content
    for header in ("etag", "cache-control", "vary", "content-type", "x-content-type-options"):
        assert fast.headers[header] == routed.headers[header]
    assert len(body(fast)["comments"]) == (0 if "passage" in query else 2)  # none points at a passage
    assert thread(seeded, query, headers=READER | {"If-None-Match": fast.headers["etag"]}).status_code == 304


def test_the_route_is_counted_under_its_own_name(seeded):
    requests = instruments().http_requests.labels("GET", "/api/v1/comments", "200")
    before = requests._value.get()
    thread(seeded, "limit=2")
    assert requests._value.get() == before + 1


@pytest.mark.parametrize(
    ("query", "headers", "status", "field"),
    [
        ("limit=0", READER, 422, "limit"),
        ("limit=101", READER, 422, "limit"),
        ("limit=many", READER, 422, "limit"),
        ("sort=best", READER, 422, "sort"),
        ("cursor=" + "x" * 201, READER, 422, "cursor"),
        ("cursor=garbage", READER, 422, "cursor"),  # plain, but the core refuses it
        ("limit=2", {"X-Engagement-Reader": "short"}, 422, "X-Engagement-Reader"),
    ],
)
def test_bad_input_still_gets_the_reason(seeded, query, headers, status, field):
    response = thread(seeded, query, headers=headers)
    assert response.status_code == status, response.text
    assert body(response)["field"] == field


def test_a_missing_page_or_an_unknown_site(client):
    assert client.get("/api/v1/comments?site=daily").status_code == 422
    missing = client.get(f"/api/v1/comments?site=nowhere&page={ARTICLE}", headers=READER)
    assert missing.status_code == 404
    assert body(missing)["code"] == "site_not_found"


@pytest.fixture
def answered_fast(monkeypatch):
    """The requests the fast path answered (not left to the routes), by path."""
    answered: list[str] = []
    for key, read in list(fast_reads._READS.items()):

        def answer(request, uow, parsed, read=read, path=key[1]):
            answered.append(path)
            return read.answer(request, uow, parsed)

        monkeypatch.setitem(fast_reads._READS, key, dataclasses.replace(read, answer=answer))
    return answered


def test_counts_the_fast_path_and_the_routes_give_the_same_answer(seeded, answered_fast):
    asked = f"/api/v1/counts?site=daily&page={ARTICLE}&page=/other"
    fast, routed = seeded.get(asked), seeded.get(asked + "&sort=")  # an empty value: the route answers
    assert answered_fast == ["/api/v1/counts"]
    assert fast.status_code == routed.status_code == 200
    assert fast.content == routed.content
    assert body(fast) == {
        "counts": {ARTICLE: {"comments": 3, "reactions": 0}, "/other": {"comments": 0, "reactions": 0}}
    }
    for header in ("cache-control", "content-type", "content-length"):
        assert fast.headers[header] == routed.headers[header]

    payload = {"site": "daily", "pages": [ARTICLE, "/other"]}
    fast = seeded.post("/api/v1/counts", json=payload)
    with_charset = {"Content-Type": "application/json; charset=utf-8"}  # plain enough for the route only
    routed = seeded.post("/api/v1/counts", content=json.dumps(payload), headers=with_charset)
    assert answered_fast == ["/api/v1/counts"] * 2
    assert fast.status_code == routed.status_code == 200
    assert fast.content == routed.content == seeded.get(asked).content
    assert "cache-control" not in fast.headers
    assert "cache-control" not in routed.headers


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"site": "daily", "pages": [ARTICLE], "extra": 1}, 422),
        ({"site": "daily", "pages": ARTICLE}, 422),
        ({"site": "daily", "pages": [1]}, 422),
        ({"site": "daily", "pages": ["x" * 2001]}, 422),
        ({"site": "daily", "pages": ["/a"] * 501}, 422),
        ({"site": "Not a key", "pages": [ARTICLE]}, 422),
        ({"site": "nowhere", "pages": [ARTICLE]}, 404),  # plain: the fast path says so itself
        ({"site": "daily", "pages": [""]}, 422),  # plain, but the core refuses it
    ],
)
def test_counts_bad_input_still_gets_the_routes_answer(client, payload, status):
    response = client.post("/api/v1/counts", json=payload)
    assert response.status_code == status, response.text


def test_counts_a_body_that_is_no_json_or_no_page_at_all(client):
    not_json = client.post(
        "/api/v1/counts", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 400
    assert client.get("/api/v1/counts?site=daily").status_code == 422


def test_site_settings_are_answered_before_the_router_and_the_rest_by_it(client, answered_fast):
    fast = client.get("/api/v1/sites/daily")
    assert answered_fast == ["/api/v1/sites/{site}"]
    assert fast.status_code == 200
    assert fast.headers["cache-control"] == "public, max-age=60"
    assert body(fast)["key"] == "daily"
    assert client.get("/api/v1/sites/daily").content == fast.content  # kept whole, given again
    assert client.get("/api/v1/sites/nowhere").status_code == 404  # plain: the fast path says so
    assert client.get("/api/v1/sites/Not%20a%20key").status_code == 422
    assert client.get("/api/v1/sites/daily/popular").status_code == 200
    assert answered_fast == ["/api/v1/sites/{site}"] * 3
