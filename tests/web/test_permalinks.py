"""A permalink's comment over HTTP: the thread's shape, published comments only, no address."""

from __future__ import annotations

from engagement.services.discussion.comments import PostComment, post_comment
from engagement.services.discussion.thread_sql import CONTEXT_MAX_REPLIES, REPLIES_PER_THREAD
from engagement.services.sites import SiteChanges, update_site
from web.support import body

ARTICLE = "https://news.example.org/2026/11/article"
READER = {"X-Engagement-Reader": "reader-0123456789"}


def post(client, text, **changes):
    payload = {"site": "daily", "page": ARTICLE, "author": {"name": "Jane"}, "body": text} | changes
    return body(client.post("/api/v1/comments", json=payload, headers=READER))


def context(client, comment_id, **params):
    url = f"/api/v1/comments/{comment_id}/context"
    return client.get(url, params={"site": "daily", "page": ARTICLE} | params, headers=READER)


def every_id(comment):
    return [comment["id"], *(i for reply in comment["replies"] for i in every_id(reply))]


def test_a_reply_past_the_first_page_comes_in_its_thread_as_the_thread_shows_it(client, core):
    top = post(client, "Busy", author={"name": "Ann", "email": "ann@mail.example.net"})["comment"]["id"]
    answer = PostComment(
        site="daily",
        page=ARTICLE,
        parent=top,
        author_name="Bob",
        author_email="bob@mail.example.net",
        body="Yes",
    )
    posted = [post_comment(core.uow(), answer).comment.id for _ in range(REPLIES_PER_THREAD + 15)]
    linked = posted[REPLIES_PER_THREAD + 9]

    response = context(client, linked)

    assert response.status_code == 200
    assert response.headers["Vary"] == "X-Engagement-Reader, X-Engagement-SSO"
    comment = body(response)["comment"]
    [shown] = body(client.get("/api/v1/comments", params={"site": "daily", "page": ARTICLE}))["comments"]
    assert comment.keys() == shown.keys()
    assert every_id(comment) == [top, *posted[: REPLIES_PER_THREAD + 10]]
    assert comment["more_replies"] == 5
    rest = client.get(
        f"/api/v1/comments/{top}/replies", params={"site": "daily", "cursor": comment["replies_cursor"]}
    )
    assert [c["id"] for c in body(rest)["replies"]] == posted[REPLIES_PER_THREAD + 10 :]
    assert "mail.example.net" not in response.text


def test_a_reply_far_down_a_busy_comment_comes_with_a_thread_pages_replies_and_its_chain(client, core):
    top = post(client, "Busy")["comment"]["id"]
    parents = {249: 6, 299: 249}  # reply 300 answers reply 250, which answers reply 7
    posted: list[int] = []
    for i in range(320):
        parent = posted[parents[i]] if i in parents else top
        answer = PostComment(
            site="daily", page=ARTICLE, parent=parent, author_name="Bob", body=f"Reply {i + 1}"
        )
        posted.append(post_comment(core.uow(), answer).comment.id)
    assert CONTEXT_MAX_REPLIES < 300

    response = context(client, posted[299])

    assert response.status_code == 200
    comment = body(response)["comment"]
    assert sorted(every_id(comment)) == [top, *posted[:REPLIES_PER_THREAD], posted[249], posted[299]]
    assert [r["id"] for r in comment["replies"]] == posted[:REPLIES_PER_THREAD]
    [reply_250] = comment["replies"][6]["replies"]
    assert [reply_250["id"], *(r["id"] for r in reply_250["replies"])] == [posted[249], posted[299]]
    [shown] = body(client.get("/api/v1/comments", params={"site": "daily", "page": ARTICLE}))["comments"]
    assert (comment["more_replies"], comment["replies_cursor"]) == (
        shown["more_replies"],
        shown["replies_cursor"],
    )
    assert comment["more_replies"] == 320 - REPLIES_PER_THREAD
    rest = client.get(
        f"/api/v1/comments/{top}/replies", params={"site": "daily", "cursor": comment["replies_cursor"]}
    )
    assert [c["id"] for c in body(rest)["replies"]] == posted[REPLIES_PER_THREAD : 2 * REPLIES_PER_THREAD]


def test_an_unknown_or_unpublished_comment_is_a_clear_404(client, core):
    published = post(client, "Published")["comment"]["id"]
    update_site(core.uow(), "daily", SiteChanges(moderation="all"))
    pending = post(client, "Waiting")["comment"]["id"]
    for missing in (pending, 987_654):
        response = context(client, missing)
        assert response.status_code == 404, response.text
        assert body(response)["code"] == "comment_not_found"
    elsewhere = context(client, published, page="https://news.example.org/2026/11/another")
    assert elsewhere.status_code == 404


def test_bad_context_queries(client):
    linked = post(client, "Linked")["comment"]["id"]
    for comment_id, params, field in [
        (0, {}, "comment_id"),
        (2**31, {}, "comment_id"),
        (linked, {"site": "Not A Key"}, "site"),
        (linked, {"page": "x" * 2001}, "page"),
    ]:
        response = context(client, comment_id, **params)
        assert response.status_code == 422, response.text
        assert body(response)["field"] == field
    missing_page = client.get(f"/api/v1/comments/{linked}/context", params={"site": "daily"})
    assert missing_page.status_code == 422
    assert body(missing_page)["field"] == "page"
