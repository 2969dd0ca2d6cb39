"""``engagement import`` from the command line: the summary, bad input, a run killed half-way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from import_samples import ARTICLE, Post, Thread, disqus_file, sample_disqus

from engagement.cli import CliState, main
from engagement.models import Comment, Page
from engagement.services.discussion.comments import PostComment, delete_comment, post_comment
from engagement.services.discussion.threads import ThreadQuery, list_thread
from engagement.services.operations.exports import export_site
from engagement.services.operations.imports import ImportOptions, ImportSummary, import_file
from engagement.services.sites import SiteChanges, add_site


def invoke(core, *args):
    return CliRunner().invoke(main, ["import", *args], obj=CliState(core.settings))


def count(core, model):
    with core.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def test_the_summary_names_each_kind_and_each_skip(core, site, tmp_path):
    path = sample_disqus(tmp_path / "d.xml")
    result = invoke(core, "disqus", str(path), "--site", "daily")
    assert result.exit_code == 0, result.output
    assert "Imported into daily: 2 pages, 6 comments, 1 placeholders" in result.output
    assert "    7: spam" in result.output
    assert "    6: deleted, without replies" in result.output
    assert "reading: 13 items (100% of" in result.output  # plain progress lines off a terminal
    again = invoke(core, "disqus", str(path), "--site", "daily", "--dry-run")
    assert "Dry run, nothing written: would import into daily: 0 pages" in again.output
    assert "already imported before: 7 comments" in again.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["disqus", "{bad}", "--site", "daily"],
            "{bad}, line 1, column 1: not well-formed XML (syntax error)",
        ),
        (["disqus", "{good}", "--site", "nope"], "--site: no site 'nope'"),
        (
            ["disqus", "{good}", "--site", "daily", "--url-map", "{map}"],
            "{map}, line 2: a line must be two URLs: old-prefix new-prefix",
        ),
        (["disqus", "{missing}", "--site", "daily"], "{missing}: No such file or directory"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(core, site, tmp_path, args, message):
    files = {
        "bad": tmp_path / "bad.xml",
        "good": sample_disqus(tmp_path / "d.xml"),
        "map": tmp_path / "map.txt",
        "missing": tmp_path / "none.xml",
    }
    files["bad"].write_text("not xml")
    files["map"].write_text("https://old.example.org/ https://new.example.org/\njust-one-word\n")
    result = invoke(core, *[a.format(**files) for a in args])
    assert result.exit_code == 2, result.output
    assert result.output.strip() == f"Error: {message.format(**files)}"
    assert count(core, Comment) == 0


def _environment(core):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGEMENT_")}
    env.update(
        ENGAGEMENT_DATABASE_URL=core.settings.resolved_database_url,
        ENGAGEMENT_SECRET_KEY="test-secret-" + "x" * 32,
        ENGAGEMENT_DATA_DIR=str(core.settings.data_dir),
        ENGAGEMENT_RATE_LIMITS_ENABLED="false",
    )
    return env


def test_a_run_killed_half_way_changes_nothing_and_the_next_completes(core, site, tmp_path):
    threads = [Thread(str(t), f"https://news.example.org/p/{t}") for t in range(200)]
    posts = [Post(str(n), str(n % 200), parent=str(n - 200) if n >= 400 else None) for n in range(40_000)]
    path = disqus_file(tmp_path / "big.xml", threads, posts)
    command = [sys.executable, "-m", "engagement.cli", "import", "disqus", str(path), "--site", "daily"]
    process = subprocess.Popen(
        command, env=_environment(core), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    for line in process.stdout:  # the first pass is done: the writing transaction is open
        if line.startswith("reading:") and "(100%" in line:
            break
    time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    process.stdout.close()
    assert process.returncode == -signal.SIGKILL
    assert (count(core, Comment), count(core, Page)) == (0, 0)
    done = subprocess.run(command, env=_environment(core), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "40000 comments" in done.stdout
    assert count(core, Comment) == 40_000


def test_our_disqus_export_imports_into_a_fresh_site_as_the_same_threads(core, site, tmp_path):
    def post(**values):
        base = {"site": "daily", "page": ARTICLE, "author_name": "Jane", "body": "A *comment*."}
        return post_comment(core.uow(), PostComment(**{**base, **values}))

    first = post(author_email="jane@example.org")
    gone = post(author_name="Al", body="To be removed.")
    reply = post(parent=first.comment.id, author_name="Bob", body="A reply with ünïcode ✓ & <b>tags</b>.")
    post(parent=reply.comment.id, author_name="Cy", body="Deeper [link](https://example.org/x).")
    post(parent=gone.comment.id, author_name="Ann", body="Replying to what goes.")
    delete_comment(core.uow(), gone.comment.id, gone.edit_token)
    post(page="https://news.example.org/other", author_name="Flo", body="Elsewhere.")
    exported = tmp_path / "daily.xml"
    export_site(core.uow(), "daily", exported, fmt="disqus")
    add_site(core.uow(), "fresh", SiteChanges(name="Fresh", origins=["https://news.example.org"]))

    import_file(core.uow(), ImportOptions(fmt="disqus", path=exported, site="fresh"))

    for page in (ARTICLE, "https://news.example.org/other"):
        before = list_thread(core.uow(), ThreadQuery(site="daily", page=page, sort="oldest"))
        after = list_thread(core.uow(), ThreadQuery(site="fresh", page=page, sort="oldest"))
        assert _shape(after.comments) == _shape(before.comments)
        assert after.page.comments == before.page.comments
        assert after.page.url == before.page.url


def _shape(comments):
    return [
        (c.author.name, c.html, c.created_at, c.deleted, c.reply_count, _shape(c.replies)) for c in comments
    ]


def test_a_summary_keeps_every_skip_in_order_past_what_it_holds_in_memory():
    summary = ImportSummary()
    for n in range(10_005):
        summary.skip(f"id\t{n}" if n == 10_003 else str(n), "spam")
    skips = summary.skipped
    summary.close()
    assert summary.skip_count == len(skips) == 10_005
    assert skips[0] == ("0", "spam")
    assert skips[10_003] == ("id 10003", "spam")
    assert skips[-1] == ("10004", "spam")
