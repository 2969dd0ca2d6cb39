"""PUT /api/v1/reactions and PUT /api/v1/comments/{id}/vote."""

from __future__ import annotations

import pytest

from web.support import ORIGIN, body, make_comment, table_rows

ARTICLE = "https://news.example.org/2026/11/article"
READER = {"X-Engagement-Reader": "reader-0123456789"}
OTHER = {"X-Engagement-Reader": "reader-abcdefghij"}


def react(client, reaction, headers=READER, **changes):
    payload = {"site": "daily", "page": ARTICLE, "reaction": reaction} | changes
    return client.put("/api/v1/reactions", json=payload, headers=headers)


def test_react_change_and_remove(client):
    first = react(client, "like")
    assert first.status_code == 200
    assert body(first) == {
        "reactions": {"like": 1, "love": 0, "haha": 0, "wow": 0, "sad": 0, "angry": 0},
        "my_reaction": "like",
    }
    react(client, "wow", headers=OTHER)
    changed = body(react(client, "love"))
    assert changed["reactions"] | {} == {"like": 0, "love": 1, "haha": 0, "wow": 1, "sad": 0, "angry": 0}
    assert changed["my_reaction"] == "love"
    removed = body(react(client, None))
    assert removed["my_reaction"] is None
    assert removed["reactions"]["love"] == 0


def test_react_from_the_sites_origin_is_allowed_and_a_foreign_one_refused(client, core):
    assert react(client, "like", headers=READER | {"Origin": ORIGIN}).status_code == 200
    before = table_rows(core)
    foreign = react(client, "like", headers=OTHER | {"Origin": "https://evil.example"})
    assert foreign.status_code == 403
    assert body(foreign)["code"] == "forbidden"
    assert table_rows(core) == before


@pytest.mark.parametrize(
    ("payload", "headers", "status", "field"),
    [
        ({"reaction": "meh"}, READER, 422, "reaction"),
        ({"reaction": 1}, READER, 422, "reaction"),
        ({"page": ""}, READER, 422, "page"),
        ({"site": "nope"}, READER, 404, None),
        ({}, {}, 422, "X-Engagement-Reader"),
        ({}, {"X-Engagement-Reader": "short"}, 422, "X-Engagement-Reader"),
        ({}, {"X-Engagement-Reader": "has spaces in it"}, 422, "X-Engagement-Reader"),
    ],
)
def test_bad_reactions_are_refused_and_change_nothing(client, core, payload, headers, status, field):
    before = table_rows(core)
    payload = dict(payload)
    response = react(client, payload.pop("reaction", "like"), headers=headers, **payload)
    assert response.status_code == status, response.text
    if field:
        assert body(response)["field"] == field
    assert table_rows(core) == before


def test_vote_change_and_withdraw(client, core, site):
    comment = make_comment(core, site)
    url = f"/api/v1/comments/{comment.id}/vote"
    assert body(client.put(url, json={"value": 1}, headers=READER)) == {"score": 1, "my_vote": 1}
    assert body(client.put(url, json={"value": 1}, headers=OTHER)) == {"score": 2, "my_vote": 1}
    assert body(client.put(url, json={"value": -1}, headers=READER)) == {"score": 0, "my_vote": -1}
    assert body(client.put(url, json={"value": 0}, headers=READER)) == {"score": 1, "my_vote": 0}


@pytest.mark.parametrize(
    ("path", "payload", "headers", "status"),
    [
        ("/api/v1/comments/{id}/vote", {"value": 2}, READER, 422),
        ("/api/v1/comments/{id}/vote", {"value": True}, READER, 422),
        ("/api/v1/comments/{id}/vote", {"value": 1.0}, READER, 422),
        ("/api/v1/comments/{id}/vote", {"value": "1"}, READER, 422),
        ("/api/v1/comments/{id}/vote", {}, READER, 422),
        ("/api/v1/comments/{id}/vote", {"value": 1}, {}, 422),
        ("/api/v1/comments/999999/vote", {"value": 1}, READER, 404),
        ("/api/v1/comments/0/vote", {"value": 1}, READER, 422),
        ("/api/v1/comments/99999999999/vote", {"value": 1}, READER, 422),
        ("/api/v1/comments/abc/vote", {"value": 1}, READER, 422),
    ],
)
def test_bad_votes_are_refused_and_change_nothing(client, core, site, path, payload, headers, status):
    comment = make_comment(core, site)
    before = table_rows(core)
    response = client.put(path.format(id=comment.id), json=payload, headers=headers)
    assert response.status_code == status, response.text
    assert body(response)["reason"]
    assert table_rows(core) == before
