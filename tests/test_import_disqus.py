"""Importing a Disqus export: pages, the tree, placeholders, skips; idempotent, all or nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from import_samples import ARTICLE, OTHER, Post, Thread, disqus_file, sample_disqus

from engagement.errors import BadImportFile, InvalidInput
from engagement.models import Comment, OutboxEvent, Page
from engagement.services.discussion.threads import ThreadQuery, list_thread
from engagement.services.operations.imports import ImportOptions, import_file


def options(path, **values):
    return ImportOptions(fmt="disqus", path=path, site="daily", **values)


def rows(core, model, *order):
    with core.engine.connect() as conn:
        return conn.execute(sa.select(model).order_by(*order)).all()


def by_source(core):
    return {c.source_id: c for c in rows(core, Comment, Comment.id)}


def test_a_disqus_export_becomes_pages_and_threads(core, site, tmp_path):
    summary = import_file(core.uow(), options(sample_disqus(tmp_path / "d.xml")))

    assert summary.imported == {
        "pages": 2,
        "comments": 6,
        "placeholders": 1,
        "replies made top-level (parent missing)": 1,
    }
    assert sorted(summary.skipped) == [
        ("10", "its page is not in the file or has no usable link"),
        ("6", "deleted, without replies"),
        ("7", "spam"),
    ]
    pages = {p.key: p for p in rows(core, Page, Page.id)}
    assert set(pages) == {"/2021/03/article", "/2021/03/other"}
    article = pages["/2021/03/article"]
    assert (article.comment_count, pages["/2021/03/other"].comment_count) == (5, 1)
    assert (article.url, article.title) == (ARTICLE, "The article")
    found = by_source(core)
    assert set(found) == {"1", "2", "3", "4", "5", "8", "9"}
    first, second, third = found["1"], found["2"], found["3"]
    assert first.html == "<p>First <b>bold</b> </p>".replace("<b>bold</b>", "bold")
    assert second.parent_id == first.id
    assert third.parent_id == second.id
    assert third.path == f"/{first.id}/{second.id}/"
    assert third.depth == 2
    assert third.thread_id == first.id
    assert third.page_id == first.page_id == article.id  # the feed link merged into the page
    assert first.reply_count == 1
    assert second.reply_count == 1
    assert third.reply_count == 0
    assert first.created_at == datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert first.published_at == first.created_at
    assert first.status == "approved"
    assert first.author_email == "jane@example.org"
    assert first.author_name == "Jane"
    placeholder = found["4"]
    assert placeholder.status == "deleted"
    assert placeholder.body == ""
    assert placeholder.author_name == ""
    assert placeholder.reply_count == 1
    assert found["5"].parent_id == placeholder.id
    assert found["8"].parent_id is None
    assert found["8"].depth == 0
    assert rows(core, OutboxEvent, OutboxEvent.id) == []


def test_the_imported_thread_reads_like_any_other(core, site, tmp_path):
    import_file(core.uow(), options(sample_disqus(tmp_path / "d.xml")))
    thread = list_thread(core.uow(), ThreadQuery(site="daily", page=ARTICLE, sort="oldest"))
    assert thread.page.comments == 5
    assert thread.page.title == "The article"
    tops = thread.comments
    assert [c.author.name for c in tops] == ["Jane", None, "Ed"]
    assert tops[0].replies[0].author.name == "Bob"
    assert tops[0].replies[0].replies[0].author.name == "Ann"
    assert tops[1].deleted
    assert tops[1].replies[0].author.name == "Cy"


def test_a_thread_read_before_the_import_is_not_served_stale(core, site, tmp_path):
    assert core.settings.thread_cache_seconds > 0
    query = ThreadQuery(site="daily", page=ARTICLE)
    assert list_thread(core.uow(), query).page.comments == 0  # now in the micro-cache
    import_file(core.uow(), options(sample_disqus(tmp_path / "d.xml")))
    assert list_thread(core.uow(), query).page.comments == 5


def test_a_second_run_adds_nothing_and_a_newer_export_only_what_is_new(core, site, tmp_path):
    path = sample_disqus(tmp_path / "d.xml")
    import_file(core.uow(), options(path))
    before = by_source(core)
    again = import_file(core.uow(), options(path))
    assert again.imported.get("comments", 0) == 0
    assert again.already == {"comments": 7}
    assert by_source(core) == before
    newer = disqus_file(
        tmp_path / "newer.xml",
        [Thread("100", ARTICLE), Thread("102", OTHER)],
        [Post("1", "100"), Post("2", "100", parent="1"), Post("20", "100", "<p>New reply</p>", parent="2")],
    )
    summary = import_file(core.uow(), options(newer))
    assert summary.imported == {"pages": 0, "comments": 1}
    found = by_source(core)
    reply = found["20"]
    assert reply.parent_id == found["2"].id
    assert reply.path == f"/{found['1'].id}/{found['2'].id}/"
    assert reply.depth == 2
    assert reply.thread_id == found["1"].id
    assert found["2"].reply_count == 2
    assert {p.key: p.comment_count for p in rows(core, Page, Page.id)}["/2021/03/article"] == 6
    # A later export holding only the new reply still finds its parent from the first import.
    alone = disqus_file(tmp_path / "alone.xml", [Thread("100", ARTICLE)], [Post("21", "100", parent="20")])
    assert import_file(core.uow(), options(alone)).imported == {"pages": 0, "comments": 1}
    found = by_source(core)
    assert found["21"].parent_id == found["20"].id
    assert found["21"].depth == 3
    assert found["20"].reply_count == 1


def test_a_comment_id_twice_is_refused(core, site, tmp_path):
    twice = disqus_file(
        tmp_path / "twice.xml", [Thread("100", ARTICLE)], [Post("1", "100"), Post("1", "100")]
    )
    with pytest.raises(BadImportFile, match="appears twice"):
        import_file(core.uow(), options(twice))
    assert rows(core, Comment, Comment.id) == []


def test_a_dry_run_writes_nothing_and_says_the_same(core, site, tmp_path):
    path = sample_disqus(tmp_path / "d.xml")
    dry = import_file(core.uow(), options(path, dry_run=True))
    assert rows(core, Comment, Comment.id) == []
    assert rows(core, Page, Page.id) == []
    real = import_file(core.uow(), options(path))
    assert dry.imported == real.imported
    assert dry.skipped == real.skipped
    assert dry.dry_run


def test_url_map_and_identifier_keys(core, site, tmp_path):
    path = sample_disqus(tmp_path / "d.xml")
    mapped = [("https://news.example.org/2021/", "https://new.example.org/archive/2021/")]
    import_file(core.uow(), options(path, url_map=mapped, key_by="identifier"))
    keys = {p.key for p in rows(core, Page, Page.id)}
    # Thread 100 has an identifier; 101 (same article) has none and falls back to its mapped link.
    assert keys == {"article-1", "/archive/2021/03/article", "/archive/2021/03/other"}


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ("", "the file is empty"),
        ("<disqus xmlns='http://disqus.com'><post>", "not well-formed XML"),
        ("<?xml version='1.0'?><!DOCTYPE disqus [<!ENTITY a 'b'>]><disqus/>", "refused"),
        ("<rss><channel/></rss>", "not a Disqus export"),
        (
            "<disqus xmlns='http://disqus.com' xmlns:dsq='http://disqus.com/disqus-internals'>"
            "<post dsq:id='1'><thread dsq:id='2'/><createdAt>yesterday</createdAt></post></disqus>",
            "createdAt",
        ),
    ],
)
def test_bad_files_are_refused_with_the_place_and_change_nothing(core, site, tmp_path, content, where):
    path = tmp_path / "bad.xml"
    path.write_text(content)
    with pytest.raises(BadImportFile) as caught:
        import_file(core.uow(), options(path))
    assert str(path) in caught.value.reason
    assert where in caught.value.reason
    assert rows(core, Page, Page.id) == []


def test_a_file_named_gz_that_is_not_and_a_broken_gzip(core, site, tmp_path):
    fake = tmp_path / "d.xml.gz"
    fake.write_text("<disqus/>")
    with pytest.raises(BadImportFile, match="not a gzip"):
        import_file(core.uow(), options(fake))
    good = sample_disqus(tmp_path / "real.xml.gz")
    broken = tmp_path / "broken.xml.gz"
    broken.write_bytes(good.read_bytes()[:-30])
    with pytest.raises(BadImportFile, match=r"broken gzip|not well-formed"):
        import_file(core.uow(), options(broken))
    assert rows(core, Comment, Comment.id) == []
    assert import_file(core.uow(), options(good)).imported["comments"] == 6


def test_an_unknown_site(core, site, tmp_path):
    with pytest.raises(InvalidInput, match="no site"):
        import_file(
            core.uow(), ImportOptions(fmt="disqus", path=sample_disqus(tmp_path / "d.xml"), site="nope")
        )
