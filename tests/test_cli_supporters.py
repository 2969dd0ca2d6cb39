"""``engagement supporters`` and the supporter settings of ``engagement sites``."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from engagement.cli import main


@pytest.fixture
def cli(tmp_path):
    runner = CliRunner()

    def invoke(*args: str):
        env = {"ENGAGEMENT_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
        return runner.invoke(main, list(args), env=env, catch_exceptions=False)

    assert invoke("db", "upgrade").exit_code == 0
    assert invoke("sites", "add", "daily", "--name", "The Daily").exit_code == 0
    return invoke


def test_import_list_and_counts(cli, tmp_path):
    members = tmp_path / "members.csv"
    members.write_text(
        "Name,Email,Patron Status,Tier\n"
        "Ann,ann@example.org,Active patron,Gold\n"
        "Bob,bob@example.org,Former patron,\n"
        "Cat,,Active patron,Gold\n"
    )
    result = cli("supporters", "import-patreon", str(members), "--site", "daily")
    assert result.exit_code == 0, result.output
    assert "1 active supporters, 1 declined or former" in result.output
    assert "skipped line 4: no address" in result.output

    listed = cli("supporters", "list", "daily")
    assert "ann@example.org" in listed.output
    assert "1 active of 2" in listed.output
    assert cli("supporters", "set", "daily", "dan@example.org").exit_code == 0
    assert cli("sites", "update", "daily", "--supporter-badges", "on").exit_code == 0
    sites = cli("sites", "list")
    assert "2, badges on" in sites.output


def test_bad_input_exits_2_with_the_reason(cli, tmp_path):
    members = tmp_path / "members.csv"
    members.write_text("Name,Email\nAnn,ann@example.org\n")
    result = cli("supporters", "import-patreon", str(members), "--site", "daily")
    assert result.exit_code == 2
    assert "no 'Patron Status', 'Tier' column" in result.output
    assert str(members) in result.output
    missing = cli("supporters", "import-patreon", str(tmp_path / "none.csv"), "--site", "daily")
    assert missing.exit_code == 2
    short = cli("sites", "update", "daily", "--patreon-webhook-secret", "short")
    assert short.exit_code == 2
    assert "--patreon-webhook-secret" in short.output
    unknown = cli("supporters", "import-patreon", str(members), "--site", "nope")
    assert unknown.exit_code == 3
