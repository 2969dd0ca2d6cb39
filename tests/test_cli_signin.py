"""`engagement sites add|update` sign-in options: a secret set, generated once, removed; bad ones exit 2."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner, Result

from engagement.cli import main
from engagement.config import load_settings
from engagement.core import build_core
from engagement.services.sites import read_site

SECRET = "publisher-secret-0123456789-abcdefghijklmnop"


@pytest.fixture
def cli(tmp_path):
    data_dir = tmp_path / "data"

    def invoke(*args: str) -> Result:
        env = {"ENGAGEMENT_DATA_DIR": str(data_dir), "COLUMNS": "200"}
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    assert invoke("db", "upgrade").exit_code == 0
    assert invoke("sites", "add", "daily", "--name", "The Daily").exit_code == 0
    invoke.data_dir = data_dir  # type: ignore[attr-defined]
    return invoke


def _site(cli):
    core = build_core(load_settings(data_dir=cli.data_dir))
    try:
        return read_site(core.uow(), "daily")
    finally:
        core.dispose()


def test_set_require_and_remove_the_secret(cli):
    result = cli(
        "sites", "update", "daily", "--sso-secret", SECRET, "--sso-required",
        "--sso-login-url", "https://news.example.org/login",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    site = _site(cli)
    assert (site.sso_secret, site.sso_required, site.sso_login_url) == (
        SECRET,
        True,
        "https://news.example.org/login",
    )
    assert SECRET not in cli("sites", "list").output
    assert cli("sites", "update", "daily", "--sso-optional").exit_code == 0
    assert _site(cli).sso_required is False
    cli("sites", "update", "daily", "--sso-required")
    assert cli("sites", "update", "daily", "--no-sso").exit_code == 0
    site = _site(cli)
    assert (site.sso_secret, site.sso_required) == (None, False)  # guests may write again


def test_a_generated_secret_is_printed_once(cli):
    result = cli("sites", "update", "daily", "--sso-secret-generate")
    assert result.exit_code == 0, result.output
    printed = re.search(r"shown once; keep it on your site's server\): (\S+)", result.output)
    assert printed is not None
    assert _site(cli).sso_secret == printed.group(1)
    assert len(printed.group(1)) >= 43
    again = cli("sites", "update", "daily", "--sso-secret-generate")
    assert printed.group(1) not in again.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sso-secret", "short"], "--sso-secret: use at least 32 characters"),
        (["--sso-secret", SECRET, "--sso-secret-generate"], "cannot be used together"),
        (["--sso-secret-generate", "--no-sso"], "cannot be used together"),
        (["--sso-required"], "--sso-required: a site can require sign-in only once it has a signing secret"),
        (["--sso-login-url", "javascript:alert(1)"], "--sso-login-url: must be an absolute http(s) URL"),
    ],
)
def test_bad_sign_in_settings_exit_2_and_change_nothing(cli, args, message):
    result = cli("sites", "update", "daily", *args)
    assert result.exit_code == 2
    assert message in result.output
    site = _site(cli)
    assert (site.sso_secret, site.sso_required, site.sso_login_url) == (None, False, None)
