"""Importing WordPress (WXR 1.0–1.2, wpDiscuz meta and subscriptions), Isso and Remark42."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from import_samples import (
    WpComment,
    WpItem,
    sample_isso,
    sample_remark42,
    sample_wxr,
    wpdiscuz_dump,
    wxr_file,
)

from engagement.errors import BadImportFile
from engagement.models import Comment, OutboxEvent, Page, Subscriber, Subscription
from engagement.services.operations.imports import ImportOptions, import_file


def run(core, fmt, path, **values):
    return import_file(core.uow(), ImportOptions(fmt=fmt, path=path, site="daily", **values))


def table(core, model, *order):
    with core.engine.connect() as conn:
        return conn.execute(sa.select(model).order_by(*order)).all()


def comments(core):
    return {c.source_id: c for c in table(core, Comment, Comment.id)}


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_a_wordpress_export(core, site, tmp_path, version):
    summary = run(core, "wordpress", sample_wxr(tmp_path / "wp.xml", version))

    assert summary.imported == {"pages": 2, "comments": 3, "pending comments": 1}
    assert sorted(summary.skipped) == [("14", "spam"), ("15", "in the trash"), ("16", "a pingback")]
    found = comments(core)
    first, reply, held, old = found["11"], found["12"], found["13"], found["17"]
    assert first.html == "<p>First line<br>second line</p><p>New paragraph</p>"
    assert first.score == 3
    assert first.anchor_passage == "wpdiscuz-feedback-7"
    assert first.created_at == datetime(2020, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert reply.parent_id == first.id
    assert first.reply_count == 1
    assert held.status == "pending"
    assert held.published_at is None
    assert old.status == "approved"
    pages = {p.key: p for p in table(core, Page, Page.id)}
    assert pages["/hello-world"].comment_count == 3
    assert pages["/hello-world"].source_id == "1"
    assert pages["/about"].comment_count == 0
    assert table(core, OutboxEvent, OutboxEvent.id) == []
    assert run(core, "wordpress", tmp_path / "wp.xml").imported == {"pages": 0}


def test_wpdiscuz_subscriptions_follow_the_wordpress_import(core, site, tmp_path):
    run(core, "wordpress", sample_wxr(tmp_path / "wp.xml"))
    rows = [
        {
            "id": "1",
            "email": "Reader@Example.org",
            "post_id": "1",
            "subscribtion_type": "post",
            "confirm": "1",
        },
        {
            "id": "2",
            "email": "jane@example.org",
            "post_id": "1",
            "subscribtion_type": "all_comment",
            "confirm": "1",
        },
        {
            "id": "3",
            "email": "bob@example.org",
            "post_id": "1",
            "subscribtion_id": "12",
            "subscribtion_type": "comment",
            "confirm": "1",
        },
        {"id": "4", "email": "late@example.org", "post_id": "2", "subscribtion_type": "post", "confirm": "0"},
        {
            "id": "5",
            "email": "nobody@example.org",
            "post_id": "2",
            "subscribtion_type": "all_comment",
            "confirm": "1",
        },
    ]
    path = wpdiscuz_dump(tmp_path / "subs.tsv", rows, delimiter="\t")
    summary = run(core, "wpdiscuz-subscriptions", path)
    assert summary.imported == {"subscriptions": 3}
    assert sorted(summary.skipped) == [
        ("4", "not confirmed"),
        ("5", "no imported comment of this address to hear replies to"),
    ]
    subscribers = {s.email: s for s in table(core, Subscriber, Subscriber.id)}
    assert set(subscribers) == {"reader@example.org", "jane@example.org", "bob@example.org"}
    assert all(s.confirmed_at is not None for s in subscribers.values())
    found = comments(core)
    wishes = {(s.kind, s.target) for s in table(core, Subscription, Subscription.id)}
    page_id = found["11"].page_id
    assert wishes == {
        ("thread", f"page:{page_id}"),
        ("replies", f"comment:{found['11'].id}"),
        ("replies", f"comment:{found['12'].id}"),
    }
    assert table(core, OutboxEvent, OutboxEvent.id) == []
    again = run(core, "wpdiscuz-subscriptions", path)
    assert again.imported == {"subscriptions": 0}


def test_wpdiscuz_subscriptions_need_their_columns_and_known_posts(core, site, tmp_path):
    run(core, "wordpress", sample_wxr(tmp_path / "wp.xml"))
    no_confirm = wpdiscuz_dump(tmp_path / "a.csv", [], columns=["email", "post_id", "subscribtion_type"])
    with pytest.raises(BadImportFile, match="line 1: no column confirm"):
        run(core, "wpdiscuz-subscriptions", no_confirm)
    rows = [
        {"email": "a@example.org", "post_id": "1", "subscribtion_type": "post", "confirm": "1"},
        {"email": "b@example.org", "post_id": "77", "subscribtion_type": "post", "confirm": "1"},
    ]
    with pytest.raises(BadImportFile, match="line 3, post_id: unknown post id '77'"):
        run(core, "wpdiscuz-subscriptions", wpdiscuz_dump(tmp_path / "b.csv", rows))
    assert table(core, Subscriber, Subscriber.id) == []


def test_an_isso_database(core, site, tmp_path):
    path = sample_isso(tmp_path / "comments.db")
    summary = run(core, "isso", path)
    assert summary.imported == {"pages": 2, "comments": 3, "pending comments": 1, "placeholders": 1}
    assert summary.skipped == [("6", "deleted, without replies")]
    found = comments(core)
    first = found["1"]
    assert first.body == "Some *markdown*"
    assert first.html == "<p>Some <em>markdown</em></p>"
    assert first.score == 3
    assert first.created_at == datetime.fromtimestamp(1557130000.5, UTC)
    assert found["2"].author_name == "Anonymous"
    assert found["4"].status == "deleted"
    assert found["5"].parent_id == found["4"].id
    assert {p.key for p in table(core, Page, Page.id)} == {"/2019/05/post", "/2019/06/empty"}
    assert table(core, Subscription, Subscription.id) == []


def test_isso_notifications_only_when_asked(core, site, tmp_path):
    path = sample_isso(tmp_path / "comments.db")
    summary = run(core, "isso", path, with_isso_notifications=True)
    assert summary.imported["subscriptions"] == 2
    found = comments(core)
    assert {s.target for s in table(core, Subscription, Subscription.id)} == {
        f"comment:{found['1'].id}",
        f"comment:{found['5'].id}",
    }
    assert table(core, OutboxEvent, OutboxEvent.id) == []


def test_not_an_isso_database(core, site, tmp_path):
    path = tmp_path / "other.db"
    import sqlite3

    db = sqlite3.connect(path)
    db.execute("CREATE TABLE threads (id INTEGER)")
    db.commit()
    db.close()
    with pytest.raises(BadImportFile, match="not an Isso database"):
        run(core, "isso", path)
    text = tmp_path / "text.db"
    text.write_text("hello")
    with pytest.raises(BadImportFile, match="not an SQLite database"):
        run(core, "isso", text)


@pytest.mark.parametrize("name", ["backup.json", "backup.json.gz"])
def test_a_remark42_backup(core, site, tmp_path, name):
    summary = run(core, "remark42", sample_remark42(tmp_path / name))
    assert summary.imported == {"pages": 1, "comments": 3, "placeholders": 1}
    found = comments(core)
    assert found["a1"].created_at == datetime(2022, 1, 2, 1, 4, 5, 123456, tzinfo=UTC)
    assert found["a1"].score == 4
    assert found["a2"].parent_id == found["a1"].id
    assert found["a4"].parent_id == found["a3"].id
    page = table(core, Page, Page.id)[0]
    assert (page.key, page.title, page.comment_count) == ("/posts/first", "First post", 3)


def test_a_broken_remark42_line_names_the_line(core, site, tmp_path):
    path = sample_remark42(tmp_path / "backup.json")
    with path.open("a") as out:
        out.write('{"id": "x", "locator": {"url": "https://blog.example.org/"}}\n')
    with pytest.raises(BadImportFile, match="line 6: no field time"):
        run(core, "remark42", path)
    path.write_text('{"version": 1}\n{not json\n')
    with pytest.raises(BadImportFile, match="line 2, column 2: not JSON"):
        run(core, "remark42", path)
    path.write_bytes('{"version": 1}\n{"text": "café"}\n'.encode("latin-1"))
    with pytest.raises(BadImportFile, match="line 2: not UTF-8 text"):
        run(core, "remark42", path)
    path.write_bytes(b"")
    with pytest.raises(BadImportFile, match="the file is empty"):
        run(core, "remark42", path)
    assert table(core, Comment, Comment.id) == []


def test_a_wxr_with_an_external_entity_is_refused(core, site, tmp_path):
    path = tmp_path / "evil.xml"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss>&x;</rss>'
    )
    with pytest.raises(BadImportFile, match="refused"):
        run(core, "wordpress", path)
    items = [WpItem(1, "https://news.example.org/a/", "A", [WpComment(1, "x")])]
    plain_rss = (
        wxr_file(tmp_path / "feed.xml", items).read_text().replace("wordpress.org/export", "example.org/x")
    )
    (tmp_path / "feed.xml").write_text(plain_rss)
    with pytest.raises(BadImportFile, match="has no wp: element"):
        run(core, "wordpress", tmp_path / "feed.xml")
