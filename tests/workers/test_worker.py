"""Through a real worker on the real Redis: from a core call to a parsed mail, and faults."""

from __future__ import annotations

import re

from drive import ARTICLE, subscribe

from engagement.services.comments import PostComment, post_comment


def _post(live, **overrides):
    values = {
        "site": "daily",
        "page": ARTICLE,
        "page_title": "The article",
        "author_name": "Jane",
        "body": "Hi.",
    }
    values.update(overrides)
    return post_comment(live.core.uow(), PostComment(**values))


def test_a_comment_reaches_its_followers_through_the_worker(live, sink):
    subscribe(live.core, "alice@example.org", page=ARTICLE)

    _post(live, author_email="jane@example.org")

    (received,) = sink.wait_for(1)
    assert received.recipients == ["alice@example.org"]
    assert re.search(r"Jane commented", received.message["Subject"])
