"""Exports: a site's engagement as our JSON or as a Disqus export, addresses only when asked."""

from __future__ import annotations

import gzip
import json

import pytest
from click.testing import CliRunner
from defusedxml import ElementTree
from sample_site import ARTICLE, populate, settings_for

from engagement.cli import CliState, main
from engagement.core import build_core
from engagement.errors import SiteNotFound
from engagement.services.discussion.comments import PostComment, post_comment
from engagement.services.operations.exports import DISQUS_INTERNALS_NS, DISQUS_NS, export_site
from engagement.services.sites import SiteChanges, update_site

DSQ_ID = f"{{{DISQUS_INTERNALS_NS}}}id"


@pytest.fixture
def core(tmp_path):
    url = f"sqlite:///{tmp_path / 'site.db'}"
    populate(url, tmp_path)
    core = build_core(settings_for(url, tmp_path))
    # One comment waiting for a moderator: Disqus has no such state.
    update_site(core.uow(), "daily", SiteChanges(moderation="all"))
    post_comment(core.uow(), PostComment(site="daily", page=ARTICLE, author_name="Wait", body="Held."))
    yield core
    core.dispose()


def test_json_export_holds_every_comment_and_no_address(core, tmp_path):
    path = tmp_path / "daily.json"
    summary = export_site(core.uow(), "daily", path)
    text = path.read_text()
    document = json.loads(text)
    assert document["format"] == "engagement-export"
    assert document["site"]["key"] == "daily"
    assert summary.counts == {"pages": 1, "comments": 5, "reactions": 1, "votes": 1}
    assert [c["status"] for c in document["comments"]] == [
        "approved",
        "deleted",
        "approved",
        "approved",
        "pending",
    ]
    reply = document["comments"][2]
    assert reply["parent"] == document["comments"][0]["id"]
    assert "ünïcode ✓" in reply["body"]
    assert reply["created_at"].endswith("Z")
    assert "@" not in text


def test_json_export_with_addresses_and_gzipped(core, tmp_path):
    path = tmp_path / "daily.json.gz"
    export_site(core.uow(), "daily", path, with_addresses=True)
    document = json.loads(gzip.decompress(path.read_bytes()))
    assert document["comments"][0]["author"]["email"] == "jane@example.org"


def test_disqus_export_is_a_valid_disqus_document(core, tmp_path):
    path = tmp_path / "daily.xml"
    summary = export_site(core.uow(), "daily", path, fmt="disqus")
    root = ElementTree.parse(path).getroot()
    assert root.tag == f"{{{DISQUS_NS}}}disqus"
    threads = root.findall(f"{{{DISQUS_NS}}}thread")
    posts = root.findall(f"{{{DISQUS_NS}}}post")
    assert len(threads) == 1
    assert threads[0].findtext(f"{{{DISQUS_NS}}}link") == ARTICLE
    assert len(posts) == 4
    assert summary.left_out == {"pending comments (Disqus has no such state)": 1}
    deleted = [p for p in posts if p.findtext(f"{{{DISQUS_NS}}}isDeleted") == "true"]
    assert len(deleted) == 1
    replies = [p for p in posts if p.find(f"{{{DISQUS_NS}}}parent") is not None]
    assert {r.find(f"{{{DISQUS_NS}}}parent").get(DSQ_ID) for r in replies} <= {p.get(DSQ_ID) for p in posts}
    assert all(p.find(f"{{{DISQUS_NS}}}thread").get(DSQ_ID) == threads[0].get(DSQ_ID) for p in posts)
    assert "@" not in path.read_text()
    assert posts[0].findtext(f"{{{DISQUS_NS}}}message").startswith("<p>A <em>comment</em>")
    assert posts[0].findtext(f"{{{DISQUS_NS}}}createdAt").endswith("Z")


def test_an_unknown_site_writes_nothing(core, tmp_path):
    path = tmp_path / "none.json"
    with pytest.raises(SiteNotFound):
        export_site(core.uow(), "nosuch", path)
    assert list(tmp_path.glob("none.json*")) == []


def test_the_cli_exports(core, tmp_path):
    path = tmp_path / "out.xml"
    result = CliRunner().invoke(
        main, ["export", "daily", "--format", "disqus", "-o", str(path)], obj=CliState(core.settings)
    )
    assert result.exit_code == 0, result.output
    assert "1 threads, 4 posts" in result.output
    assert "left out: 1 pending comments" in result.output
