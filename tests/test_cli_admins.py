"""``engagement admins`` and ``sites update --report-threshold``."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from engagement.cli import main


@pytest.fixture
def cli(tmp_path):
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None):
        env = {"ENGAGEMENT_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
        return runner.invoke(main, list(args), env=env, input=stdin, catch_exceptions=False)

    assert invoke("db", "upgrade").exit_code == 0
    assert invoke("sites", "add", "daily", "--name", "The Daily").exit_code == 0
    return invoke


def test_add_list_reset_remove(cli):
    added = cli("admins", "add", "Owner@Example.org", "--role", "owner")
    assert added.exit_code == 0, added.output
    assert re.search(r"/admin/password/[A-Za-z0-9_-]{40,}", added.output)
    scripted = cli(
        "admins", "add", "mod@example.org", "--role", "moderator", "--site", "daily", "--password-stdin",
        stdin="a long enough passphrase\n",
    )  # fmt: skip
    assert scripted.exit_code == 0, scripted.output
    assert "/admin/password/" not in scripted.output
    listed = cli("admins", "list").output
    assert "owner@example.org  owner  every site  (password not set yet)" in listed
    assert "mod@example.org  moderator  daily\n" in listed
    assert "/admin/password/" in cli("admins", "reset", "mod@example.org").output
    assert cli("admins", "remove", "mod@example.org").exit_code == 0
    assert "mod@example.org" not in cli("admins", "list").output


def test_refusals(cli):
    cli("admins", "add", "owner@example.org", "--role", "owner")
    last = cli("admins", "remove", "owner@example.org")
    assert (last.exit_code, "last owner" in last.output) == (5, True)
    assert cli("admins", "add", "owner@example.org", "--role", "owner").exit_code == 5
    assert cli("admins", "add", "m@example.org", "--role", "moderator").exit_code == 2
    assert cli("admins", "add", "m@example.org", "--role", "moderator", "--site", "nope").exit_code == 3
    weak = cli("admins", "reset", "owner@example.org", "--password-stdin", stdin="password1234\n")
    assert (weak.exit_code, "most common" in weak.output) == (2, True)
    assert cli("admins", "remove", "ghost@example.org").exit_code == 3


def test_report_threshold(cli):
    assert cli("sites", "update", "daily", "--report-threshold", "5").exit_code == 0
    bad = cli("sites", "update", "daily", "--report-threshold", "0")
    assert (bad.exit_code, "--report-threshold" in bad.output) == (2, True)
