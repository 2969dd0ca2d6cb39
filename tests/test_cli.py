"""The ``engagement`` command line: sites and database commands, their errors and exit codes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import CliRunner, Result

from engagement import errors, migrations
from engagement.cli import EXIT_CODES, main
from engagement.cli._app import exit_code_for
from engagement.config import load_settings
from engagement.core import build_core
from engagement.services.sites import read_site

Invoke = Callable[..., Result]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def cli(runner: CliRunner, data_dir) -> Invoke:
    """Runs ``engagement ARGS`` in a fresh embedded data folder (nothing else from the host)."""

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        environment = {"ENGAGEMENT_DATA_DIR": str(data_dir), "COLUMNS": "200", **(env or {})}
        return runner.invoke(main, list(args), env=environment, catch_exceptions=False)

    return invoke


@pytest.fixture
def migrated(cli: Invoke) -> Invoke:
    assert cli("db", "upgrade").exit_code == 0
    return cli


def _site(data_dir, key: str):
    core = build_core(load_settings(data_dir=data_dir))
    try:
        return read_site(core.uow(), key)
    finally:
        core.dispose()


def test_db_upgrade_on_a_fresh_data_folder(cli: Invoke, data_dir):
    result = cli("db", "upgrade")

    assert result.exit_code == 0, result.output
    assert "is at revision" in result.stdout
    url = f"sqlite:///{(data_dir / 'engagement.db').resolve()}"
    assert migrations.current(url) == migrations.heads()
    assert (data_dir / "secret_key").exists()


def test_db_current_says_when_the_database_is_behind(cli: Invoke):
    before = cli("db", "current", "--check")
    assert before.exit_code == 1
    assert "engagement db upgrade" in before.stdout

    cli("db", "upgrade")
    after = cli("db", "current", "--check")

    assert after.exit_code == 0
    assert "up to date" in after.stdout


def test_a_command_on_an_unmigrated_database_says_what_to_do(cli: Invoke):
    result = cli("sites", "list")

    assert result.exit_code == 1
    assert "engagement db upgrade" in result.stderr
    assert "Traceback" not in result.output


def test_sites_add_with_every_option(migrated: Invoke, data_dir):
    result = migrated(
        "sites", "add", "daily",
        "--name", "The Daily Example",
        "--origin", "https://news.example.org", "--origin", "https://www.example.org/",
        "--moderation", "first",
        "--moderator-email", "Editor@Example.org", "--moderator-email", "desk@example.org",
        "--edit-window", "600",
        "--support-url", "https://patreon.com/daily",
        "--support-text", "Keep us independent",
        "--banned-word", "Casino",
        "--link-limit", "2",
        "--reaction", "like=👍 Like", "--reaction", "insightful=💡 Insightful",
        "--timezone", "Europe/Paris",
        "--digest-hour", "7",
        "--digest-weekday", "4",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert 'data-site="daily"' in result.stdout
    site = _site(data_dir, "daily")
    assert site.name == "The Daily Example"
    assert site.origins == ["https://news.example.org", "https://www.example.org"]
    assert site.moderation == "first"
    assert site.moderator_emails == ["editor@example.org", "desk@example.org"]
    assert site.edit_window_seconds == 600
    assert (site.support_url, site.support_call) == ("https://patreon.com/daily", "Keep us independent")
    assert site.banned_words == ["casino"]
    assert site.link_limit == 2
    assert site.reaction_keys == ["like", "insightful"]
    assert (site.timezone, site.digest_hour, site.digest_weekday) == ("Europe/Paris", 7, 4)


def test_sites_add_gives_defaults(migrated: Invoke, data_dir):
    assert migrated("sites", "add", "daily", "--name", "The Daily").exit_code == 0

    site = _site(data_dir, "daily")
    assert site.moderation == "off"
    assert site.edit_window_seconds == 900
    assert len(site.reactions) == 6
    assert site.support_call == "Help us grow. Support The Daily on Patreon!"


def test_sites_list(migrated: Invoke):
    assert "no sites yet" in migrated("sites", "list").stdout
    migrated("sites", "add", "daily", "--name", "The Daily", "--origin", "https://news.example.org")
    migrated("sites", "add", "blog", "--name", "A Blog", "--moderator-email", "me@example.org")

    result = migrated("sites", "list")

    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    rows = [line for line in lines if "The Daily" in line or "A Blog" in line]
    assert ["A Blog" in rows[0], "The Daily" in rows[1]] == [True, True]  # sorted by key
    assert "https://news.example.org" in result.stdout
    assert "me@example.org" in result.stdout
    assert "Help us grow. Support The Daily on Patreon!" in result.stdout


def test_sites_update_changes_only_what_is_given(migrated: Invoke, data_dir):
    migrated(
        "sites", "add", "daily", "--name", "The Daily", "--origin", "https://news.example.org",
        "--moderator-email", "mod@example.org", "--banned-word", "casino",
    )  # fmt: skip

    result = migrated("sites", "update", "daily", "--moderation", "all", "--origin", "https://a.example.org")

    assert result.exit_code == 0, result.output
    site = _site(data_dir, "daily")
    assert site.moderation == "all"
    assert site.origins == ["https://a.example.org"]
    assert site.name == "The Daily"
    assert site.moderator_emails == ["mod@example.org"]
    assert site.banned_words == ["casino"]


def test_sites_update_clears_a_list_with_an_empty_value(migrated: Invoke, data_dir):
    migrated("sites", "add", "daily", "--name", "The Daily", "--banned-word", "casino")

    migrated("sites", "update", "daily", "--banned-word", "", "--support-url", "")

    site = _site(data_dir, "daily")
    assert site.banned_words == []
    assert site.support_url is None


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["sites", "add", "Bad Key", "--name", "x"], 2, "key: use 1-64 lower-case"),
        (["sites", "add", "daily"], 2, "--name: is required"),
        (["sites", "add", "daily", "--name", "x", "--origin", "ftp://x"], 2, "--origin: must be an absolute"),
        (["sites", "add", "daily", "--name", "x", "--moderator-email", "nope"], 2, "--moderator-email:"),
        (
            ["sites", "add", "daily", "--name", "x", "--edit-window", "-5"],
            2,
            "--edit-window: must be a whole",
        ),
        (["sites", "add", "daily", "--name", "x", "--timezone", "Mars/Olympus"], 2, "unknown time zone"),
        (["sites", "add", "daily", "--name", "x", "--digest-hour", "24"], 2, "--digest-hour:"),
        (["sites", "add", "daily", "--name", "x", "--reaction", "like"], 2, "is not KEY=LABEL"),
        (
            ["sites", "add", "daily", "--name", "x", "--moderation", "sometimes"],
            2,
            "'sometimes' is not one of",
        ),
        (["sites", "update", "nowhere", "--name", "x"], 3, "no site with key 'nowhere'"),
    ],
)
def test_sites_errors_give_a_reason_and_an_exit_code(migrated: Invoke, data_dir, args, code, message):
    result = migrated(*args)

    assert result.exit_code == code
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert migrated("sites", "list").stdout.startswith("no sites yet")  # nothing was written


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_key_no_site_could_have_is_no_site(
    migrated: Invoke, request: pytest.FixtureRequest, database: str
) -> None:
    env = {"ENGAGEMENT_DATABASE_URL": request.getfixturevalue("pg_url")} if database == "postgresql" else {}

    for key in ("daily\x00", "daily\n", "d" * 65):
        result = migrated("sites", "update", key, "--name", "x", env=env)

        assert result.exit_code == 3, result.output
        assert f"no site with key {key!r}" in result.stderr
        assert "Traceback" not in result.output


def test_adding_a_site_twice_is_a_conflict(migrated: Invoke, data_dir):
    migrated("sites", "add", "daily", "--name", "The Daily")

    result = migrated("sites", "add", "daily", "--name", "Another")

    assert result.exit_code == 5
    assert "exists already" in result.stderr
    assert _site(data_dir, "daily").name == "The Daily"


def test_a_bad_update_changes_nothing(migrated: Invoke, data_dir):
    migrated("sites", "add", "daily", "--name", "The Daily")

    result = migrated("sites", "update", "daily", "--name", "Renamed", "--link-limit", "1000")

    assert result.exit_code == 2
    assert _site(data_dir, "daily").name == "The Daily"


def test_one_table_maps_domain_errors_to_exit_codes():
    cases = {
        errors.InvalidInput("f", "bad"): 2,
        errors.InvalidToken("bad link"): 2,
        errors.SiteNotFound("none"): 3,
        errors.CommentNotFound("none"): 3,
        errors.EditWindowClosed("late"): 4,
        errors.Banned("no"): 4,
        errors.Conflict("twice"): 5,
        errors.RateLimited("slow down", 10): 6,
        errors.EngagementError("other"): 1,
    }
    assert {type(e).__name__: exit_code_for(e) for e in cases} == {
        type(e).__name__: c for e, c in cases.items()
    }
    assert len({code for _, code in EXIT_CODES}) == 5


def test_version_and_help_need_no_settings(cli: Invoke):
    bad = {"ENGAGEMENT_NOTIFY_WINDOW_SECONDS": "soon"}
    assert cli("--version", env=bad).exit_code == 0
    result = cli("--help", env=bad)
    assert result.exit_code == 0
    assert "sites" in result.stdout
    assert "db" in result.stdout


def test_an_unreachable_database_is_one_line_not_a_traceback(cli: Invoke):
    result = cli(
        "db", "upgrade", env={"ENGAGEMENT_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/engagement"}
    )

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: database error:")
    assert result.stderr.count("\n") == 1


def test_sites_update_turns_more_discussions_off_and_names_it(migrated: Invoke, data_dir):
    migrated("sites", "add", "daily", "--name", "The Daily")
    assert _site(data_dir, "daily").popular is True

    result = migrated("sites", "update", "daily", "--no-popular", "--popular-title", "Elsewhere")

    assert result.exit_code == 0, result.output
    site = _site(data_dir, "daily")
    assert (site.popular, site.popular_title) == (False, "Elsewhere")
    migrated("sites", "update", "daily", "--popular", "--popular-title", "")
    site = _site(data_dir, "daily")
    assert (site.popular, site.popular_title) == (True, None)
    refused = migrated("sites", "update", "daily", "--popular-title", "x" * 101)
    assert refused.exit_code == 2
    assert "--popular-title:" in refused.stderr
