"""The comment routes over HTTP: post, thread reads with paging and ETags, edit, delete, counts."""

from __future__ import annotations

import pytest

from engagement.services.discussion.comments import PostComment, post_comment
from engagement.services.discussion.thread_sql import REPLIES_PER_THREAD
from engagement.services.sites import SiteChanges, update_site
from web.support import body, table_rows

ARTICLE = "https://news.example.org/2026/11/article"
READER = {"X-Engagement-Reader": "reader-0123456789"}
OTHER = {"X-Engagement-Reader": "reader-abcdefghij"}


def post(client, text="A thoughtful comment.", headers=READER, **changes):
    payload = {"site": "daily", "page": ARTICLE, "author": {"name": "Jane"}, "body": text} | changes
    return client.post("/api/v1/comments", json=payload, headers=headers)


def thread(client, headers=READER, **params):
    return client.get("/api/v1/comments", params={"site": "daily", "page": ARTICLE} | params, headers=headers)


def test_post_answers_201_with_the_comment_and_its_edit_token(client):
    response = post(client, "Hello *world*", author={"name": "Jane", "email": "jane@mail.example.net"})
    assert response.status_code == 201
    posted = body(response)
    assert posted["status"] == "approved"
    assert posted["confirmation_needed"] is False
    assert len(posted["edit_token"]) >= 32
    comment = posted["comment"]
    assert comment["author"] == {"name": "Jane", "supporter": False, "verified": False}
    assert comment["html"] == "<p>Hello <em>world</em></p>"
    assert comment["parent"] is None
    assert comment["replies"] == []
    assert comment["anchor"] is None
    assert "jane@mail.example.net" not in response.text


def test_a_comment_waiting_for_moderation_answers_202_and_stays_out_of_the_thread(client, core):
    update_site(core.uow(), "daily", SiteChanges(moderation="all"))
    response = post(client)
    assert response.status_code == 202
    assert body(response)["status"] == "pending"
    assert body(thread(client))["comments"] == []


def test_a_filled_honeypot_reads_like_moderation(client):
    response = post(client, honeypot="http://spam.example")
    assert response.status_code == 202
    assert body(response)["status"] == "pending"
    assert body(thread(client))["comments"] == []


def test_notify_with_an_unconfirmed_address_asks_for_confirmation(client):
    posted = body(post(client, author={"name": "Jane", "email": "jane@mail.example.net"}, notify="replies"))
    assert posted["confirmation_needed"] is True


def test_the_thread_nests_replies_and_shows_the_readers_votes_and_reaction(client):
    first = body(post(client, "First"))["comment"]["id"]
    reply = body(post(client, "A reply", parent=first, headers=OTHER))["comment"]["id"]
    body(post(client, "A reply to the reply", parent=reply))
    client.put(f"/api/v1/comments/{reply}/vote", json={"value": 1}, headers=READER)
    client.put(
        "/api/v1/reactions", json={"site": "daily", "page": ARTICLE, "reaction": "wow"}, headers=READER
    )

    response = thread(client)
    assert response.status_code == 200
    data = body(response)
    assert data["page"] == {
        "url": ARTICLE,
        "title": None,
        "comments": 3,
        "reactions": {"like": 0, "love": 0, "haha": 0, "wow": 1, "sad": 0, "angry": 0},
        "my_reaction": "wow",
    }
    assert data["next_cursor"] is None
    [top] = data["comments"]
    assert top["reply_count"] == 1
    [child] = top["replies"]
    assert (child["id"], child["parent"], child["score"], child["my_vote"]) == (reply, first, 1, 1)
    assert child["replies"][0]["html"] == "<p>A reply to the reply</p>"
    assert body(thread(client, headers=OTHER))["comments"][0]["replies"][0]["my_vote"] == 0


def test_the_thread_has_a_short_cache_an_etag_and_answers_304(client):
    post(client)
    first = thread(client)
    etag = first.headers["etag"]
    assert "max-age=5" in first.headers["cache-control"]
    assert "X-Engagement-Reader" in first.headers["vary"]
    unchanged = thread(client, headers=READER | {"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    post(client, "Another")
    assert thread(client, headers=READER | {"If-None-Match": etag}).status_code == 200


@pytest.mark.parametrize("sort", ["newest", "oldest", "top"])
def test_cursor_paging_walks_every_comment_once(client, clock, sort):
    ids = []
    for n in range(7):
        ids.append(body(post(client, f"Comment {n}"))["comment"]["id"])
        clock.advance(seconds=1)
    seen, cursor = [], None
    while True:
        params = {"sort": sort, "limit": 3} | ({"cursor": cursor} if cursor else {})
        data = body(thread(client, **params))
        seen += [c["id"] for c in data["comments"]]
        cursor = data["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids)
    assert seen == (ids if sort == "oldest" else ids[::-1])


def test_inline_feedback_by_passage_and_quote(client):
    post(client, "On the lede", anchor={"passage": "p1"})
    post(
        client, "On a quote", anchor={"quote": {"exact": "rates rose", "prefix": "the ", "suffix": " again"}}
    )
    post(client, "Not inline")
    by_passage = body(thread(client, passage="p1"))["comments"]
    assert [c["anchor"] for c in by_passage] == [{"passage": "p1", "quote": None}]
    inline = body(thread(client, passage="*"))["comments"]
    assert {c["html"] for c in inline} == {"<p>On the lede</p>", "<p>On a quote</p>"}
    quoted = next(c for c in inline if c["anchor"]["quote"])
    assert quoted["anchor"]["quote"] == {"exact": "rates rose", "prefix": "the ", "suffix": " again"}
    passages = client.get("/api/v1/passages", params={"site": "daily", "page": ARTICLE})
    assert body(passages) == {"passages": {"p1": 1}}


def test_deep_threads_are_flattened_below_the_nesting_limit(client):
    parent = None
    for n in range(20):
        parent = body(post(client, f"Level {n}", parent=parent))["comment"]["id"]
    level = body(thread(client))["comments"][0]
    for _ in range(15):
        [level] = level["replies"]
    # Replies deeper than 15 are listed, oldest first, under their ancestor at depth 15.
    assert level["html"] == "<p>Level 15</p>"
    assert [c["html"] for c in level["replies"]] == [f"<p>Level {n}</p>" for n in range(16, 20)]
    assert all(c["replies"] == [] for c in level["replies"])
    assert level["replies"][1]["parent"] == level["replies"][0]["id"]


def test_a_busy_comment_carries_its_oldest_replies_and_pages_the_rest(client, core):
    top = body(post(client, "Busy"))["comment"]["id"]
    answer = PostComment(site="daily", page=ARTICLE, parent=top, author_name="Bob", body="A reply.")
    posted = [post_comment(core.uow(), answer).comment.id for _ in range(REPLIES_PER_THREAD + 3)]
    [busy] = body(thread(client))["comments"]
    assert [c["id"] for c in busy["replies"]] == posted[:REPLIES_PER_THREAD]
    assert busy["more_replies"] == 3
    assert busy["replies"][0]["more_replies"] == 0
    assert busy["replies"][0]["replies_cursor"] is None

    url = f"/api/v1/comments/{top}/replies"
    rest = client.get(url, params={"site": "daily", "cursor": busy["replies_cursor"]}, headers=READER)
    assert rest.status_code == 200
    assert (
        rest.headers["Vary"] == "X-Engagement-Reader, X-Engagement-SSO"
    )  # each reader's own votes are in it
    assert [c["id"] for c in body(rest)["replies"]] == posted[REPLIES_PER_THREAD:]
    assert body(rest)["next_cursor"] is None
    first_two = body(client.get(url, params={"site": "daily", "limit": 2}))
    assert [c["id"] for c in first_two["replies"]] == posted[:2]
    after = body(client.get(url, params={"site": "daily", "cursor": first_two["next_cursor"], "limit": 2}))
    assert [c["id"] for c in after["replies"]] == posted[2:4]


def test_bad_reply_queries(client):
    top = body(post(client, "Top"))["comment"]["id"]
    answer = body(post(client, "Answer", parent=top))["comment"]["id"]
    url = f"/api/v1/comments/{top}/replies"
    for params, status, field in [
        ({"site": "daily", "cursor": "garbage"}, 422, "cursor"),
        ({"site": "daily", "limit": 0}, 422, "limit"),
        ({"site": "Not A Key"}, 422, "site"),
    ]:
        response = client.get(url, params=params)
        assert response.status_code == status, response.text
        assert body(response)["field"] == field
    for missing in (answer, 987_654):  # a reply has no replies page of its own
        response = client.get(f"/api/v1/comments/{missing}/replies", params={"site": "daily"})
        assert response.status_code == 404, response.text


def test_edit_and_delete_with_the_edit_token(client):
    posted = body(post(client))
    url, auth = (
        f"/api/v1/comments/{posted['comment']['id']}",
        {"Authorization": f"Bearer {posted['edit_token']}"},
    )
    edited = client.patch(url, json={"body": "Changed **text**"}, headers=auth)
    assert edited.status_code == 200
    assert body(edited)["comment"]["html"] == "<p>Changed <strong>text</strong></p>"
    assert body(edited)["comment"]["edited_at"] is not None
    assert client.delete(url, headers=auth).status_code == 204
    assert body(thread(client))["comments"] == []
    assert client.delete(url, headers=auth).status_code == 404


def test_a_deleted_comment_with_replies_stays_as_a_placeholder(client):
    posted = body(post(client))
    post(client, "A reply", parent=posted["comment"]["id"])
    client.delete(
        f"/api/v1/comments/{posted['comment']['id']}",
        headers={"Authorization": f"Bearer {posted['edit_token']}"},
    )
    [top] = body(thread(client))["comments"]
    assert top["deleted"] is True
    assert top["author"] == {"name": None, "supporter": False, "verified": False}
    assert top["html"] == ""
    assert top["replies"][0]["html"] == "<p>A reply</p>"


def test_edits_need_the_right_token_within_the_window(client, core, clock):
    posted = body(post(client))
    url = f"/api/v1/comments/{posted['comment']['id']}"
    before = table_rows(core)
    wrong = client.patch(url, json={"body": "x"}, headers={"Authorization": "Bearer " + "x" * 43})
    assert wrong.status_code == 403
    assert body(wrong)["code"] == "invalid_token"
    for header in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer short"},
    ):
        for refused in (
            client.patch(url, json={"body": "x"}, headers=header),
            client.delete(url, headers=header),
        ):
            assert refused.status_code == 401, header
            assert refused.headers["WWW-Authenticate"] == "Bearer"
            assert body(refused)["code"] == "unauthenticated"
            assert "edit_token" in body(refused)["reason"]
    clock.advance(minutes=16)
    late = client.delete(url, headers={"Authorization": f"Bearer {posted['edit_token']}"})
    assert late.status_code == 403
    assert body(late)["code"] == "edit_window_closed"
    assert table_rows(core) == before


BAD_POSTS = [
    ({"body": ""}, 422, "body"),
    ({"body": "x" * 10_001}, 422, "body"),
    ({"body": 5}, 422, "body"),
    ({"author": {"name": ""}}, 422, "author_name"),
    ({"author": {"name": "Jane\nBcc: x"}}, 422, "author_name"),
    ({"author": {"name": "Jane", "email": "nope"}}, 422, "author_email"),
    ({"author": {"name": "Jane", "extra": 1}}, 422, "author.extra"),
    ({"notify": "all"}, 422, "notify"),
    ({"notify": "everything"}, 422, "notify"),
    ({"parent": 999_999}, 422, "parent"),
    ({"parent": True}, 422, "parent"),
    ({"parent": "1"}, 422, "parent"),
    ({"anchor": {}}, 422, "anchor"),
    ({"anchor": {"quote": {"exact": "x" * 1001}}}, 422, "anchor.quote.exact"),
    ({"page": ""}, 422, "page"),
    ({"site": "nope"}, 404, None),
    ({"site": 1}, 422, "site"),
]


@pytest.mark.parametrize(("changes", "status", "field"), BAD_POSTS)
def test_bad_posts_are_refused_and_change_nothing(client, core, changes, status, field):
    before = table_rows(core)
    response = post(client, **changes)
    assert response.status_code == status, response.text
    error = body(response)
    assert error["reason"]
    assert error.get("field") == field
    assert table_rows(core) == before


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "best"}, "sort"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "garbage"}, "cursor"),
        ({"page": ""}, "page"),
    ],
)
def test_bad_thread_queries_are_422(client, params, field):
    response = thread(client, **params)
    assert response.status_code == 422, response.text
    assert body(response)["field"] == field


def test_counts_for_many_pages_by_get_and_post(client):
    post(client)
    client.put(
        "/api/v1/reactions", json={"site": "daily", "page": ARTICLE, "reaction": "like"}, headers=READER
    )
    other = "https://news.example.org/other"
    got = client.get("/api/v1/counts", params={"site": "daily", "page": [ARTICLE, other]})
    assert got.status_code == 200
    expected = {"counts": {ARTICLE: {"comments": 1, "reactions": 1}, other: {"comments": 0, "reactions": 0}}}
    assert body(got) == expected
    assert "max-age" in got.headers["cache-control"]
    posted = client.post("/api/v1/counts", json={"site": "daily", "pages": [ARTICLE, other]})
    assert body(posted) == expected


def test_counts_refuse_more_than_500_pages(client):
    pages = [f"/article/{n}" for n in range(501)]
    response = client.post("/api/v1/counts", json={"site": "daily", "pages": pages})
    assert response.status_code == 422
    assert body(response)["field"] == "pages"
    assert client.post("/api/v1/counts", json={"site": "daily", "pages": pages[:500]}).status_code == 200


def test_too_many_comments_from_one_reader_is_429(core, site):
    from engagement.core import build_core
    from engagement.web import create_app
    from web.support import RecordingClient

    settings = core.settings.model_copy(
        update={"rate_limits_enabled": True, "comment_rate_limit": "2/minute"}
    )
    limited = build_core(settings, clock=core.clock)
    try:
        with RecordingClient(create_app(settings, limited)) as client:
            assert [post(client).status_code for _ in range(2)] == [201, 201]
            before = table_rows(core)
            refused = post(client)
            assert table_rows(core) == before
    finally:
        limited.dispose()
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1


def test_the_reader_header_is_optional_for_posting_and_reading(client):
    assert post(client, headers={}).status_code == 201
    data = body(thread(client, headers={}))
    assert data["page"]["my_reaction"] is None
    assert data["comments"][0]["my_vote"] == 0
