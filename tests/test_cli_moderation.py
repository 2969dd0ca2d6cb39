"""``engagement moderation`` and ``engagement privacy`` over a real embedded database."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result

from engagement.cli import main
from engagement.config import load_settings
from engagement.core import Core, build_core
from engagement.errors import Banned
from engagement.services.audience.privacy import export_address
from engagement.services.discussion.comments import PostComment, post_comment


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def cli(data_dir):
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        env = {"ENGAGEMENT_DATA_DIR": str(data_dir), "COLUMNS": "200"}
        return runner.invoke(main, list(args), env=env, input=input, catch_exceptions=False)

    assert invoke("db", "upgrade").exit_code == 0
    assert invoke("sites", "add", "daily", "--name", "The Daily", "--moderation", "all").exit_code == 0
    return invoke


@pytest.fixture
def core(cli, data_dir) -> Iterator[Core]:
    # The test's core stands for a web process beside the CLI: without a site cache, what the
    # CLI changes (a ban) applies at once instead of within the cache's life.
    core = build_core(load_settings(data_dir=data_dir, thread_cache_seconds=0))
    yield core
    core.dispose()


def _post(core: Core, body: str, email: str = "jane@example.org") -> int:
    posted = post_comment(
        core.uow(),
        PostComment(
            site="daily", page="https://news.example.org/a", author_name="Jane", author_email=email, body=body
        ),
    )
    assert posted.status == "pending"
    return posted.comment.id


def test_queue_lists_what_waits(cli, core):
    assert "nothing waiting" in cli("moderation", "queue", "daily").stdout
    first = _post(core, "First thoughts on the article.")
    second = _post(core, "A second, longer opinion. " * 10)

    result = cli("moderation", "queue", "daily")

    assert result.exit_code == 0
    assert "First thoughts on the article." in result.stdout
    assert "…" in result.stdout  # long bodies are cut
    assert result.stdout.index(f"│ {first} ") < result.stdout.index(f"│ {second} ")
    assert "jane@example.org" not in result.stdout


def test_approve_reject_and_spam(cli, core):
    approved, rejected, spam = (_post(core, f"Comment {n}") for n in range(3))

    assert cli("moderation", "approve", str(approved)).stdout == f"comment {approved} approved\n"
    assert cli("moderation", "reject", str(rejected)).stdout == f"comment {rejected} rejected\n"
    assert cli("moderation", "spam", str(spam)).stdout == f"comment {spam} marked as spam\n"

    assert "nothing waiting" in cli("moderation", "queue", "daily").stdout
    assert f"Comment {2}" in cli("moderation", "queue", "daily", "--spam").stdout


def test_an_approval_is_handed_to_the_relay_at_once(cli, core, data_dir):
    comment = _post(core, "Worth announcing.")

    assert cli("moderation", "approve", str(comment)).exit_code == 0

    # The embedded broker is a folder: the relay task for the new outbox event waits there.
    queued = [path.read_text() for path in (data_dir / "broker" / "queue").iterdir()]
    assert len(queued) == 1
    assert "engagement.relay" in queued[0]


def test_moderating_twice_is_a_conflict_and_unknown_is_not_found(cli, core):
    comment = _post(core, "Once is enough.")
    cli("moderation", "approve", str(comment))

    again = cli("moderation", "approve", str(comment))
    missing = cli("moderation", "reject", "999999")

    assert (again.exit_code, missing.exit_code) == (5, 3)
    assert "already approved" in again.stderr


def test_ban_an_address(cli, core):
    result = cli("moderation", "ban", "daily", "troll@example.org", "--reason", "abuse")

    assert result.exit_code == 0
    refused = cli("moderation", "ban", "daily", "not-an-address")
    assert refused.exit_code == 2
    with pytest.raises(Banned):
        _post(core, "Let me in", email="troll@example.org")


def test_ban_the_author_of_a_comment(cli, core):
    comment = _post(core, "Buy cheap watches", email="spammer@example.org")

    assert cli("moderation", "ban-author", str(comment)).exit_code == 0

    with pytest.raises(Banned):
        _post(core, "Again", email="spammer@example.org")


def test_privacy_export_and_erase(cli, core, tmp_path):
    comment = _post(core, "My words", email="jane@example.org")
    cli("moderation", "approve", str(comment))

    exported = cli("privacy", "export", "Jane@Example.org")
    assert exported.exit_code == 0
    document = json.loads(exported.stdout)
    assert document["email"] == "jane@example.org"
    assert [c["body"] for c in document["comments"]] == ["My words"]

    target = tmp_path / "jane.json"
    assert cli("privacy", "export", "jane@example.org", "-o", str(target)).exit_code == 0
    assert json.loads(target.read_text())["email"] == "jane@example.org"
    assert oct(target.stat().st_mode & 0o777) == "0o600"

    refused = cli("privacy", "erase", "jane@example.org", input="n\n")
    assert refused.exit_code == 1
    assert export_address(core.uow(), "jane@example.org")["comments"]

    erased = cli("privacy", "erase", "jane@example.org", "--yes")
    assert erased.exit_code == 0
    assert "comments: 1" in erased.stdout
    assert export_address(core.uow(), "jane@example.org")["comments"] == []


def test_privacy_refuses_a_bad_address(cli):
    result = cli("privacy", "export", "not an address")

    assert result.exit_code == 2
    assert "email:" in result.stderr
