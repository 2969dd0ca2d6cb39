"""A publisher's own mail templates: every site's, one site's, a broken one, and the CLI over them."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from structlog.testing import capture_logs

from engagement.cli import main
from engagement.config import ConfigError, load_settings
from engagement.mail.render import MailRenderer
from engagement.mail.samples import sample_context
from engagement.mail.templates import TEMPLATES


def _write(root, relative: str, text: str) -> None:
    path = root / "emails" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def overrides(tmp_path):
    root = tmp_path / "own"
    _write(root, "confirm_subscription/subject.txt", "Everyone's own: confirm for {{ site.name }}")
    _write(root, "daily/confirm_subscription/subject.txt", "The Daily's own: {{ site.name }}")
    _write(root, "weekly/confirm_subscription/subject.txt", "Broken {{ site.nmae }}")
    _write(root, "weekly/digest/body.html", "{% extends '_base/body.html' %}{% block content %}{% if %}")
    _write(root, "daily/_base/body.txt", "DAILY FRAME\n{% block content %}{% endblock %}")
    return root


def test_a_sites_override_wins_over_everyones_which_wins_over_the_shipped(overrides):
    renderer = MailRenderer(overrides)

    assert (
        renderer.render("confirm_subscription", sample_context("daily")).subject
        == "The Daily's own: Example Daily"
    )
    assert renderer.render("confirm_subscription", sample_context("other")).subject.startswith(
        "Everyone's own"
    )
    shipped = MailRenderer().render("confirm_subscription", sample_context("daily")).subject
    assert shipped == "Confirm your subscription to Example Daily"


def test_a_sites_base_frames_its_mails_and_only_its_own(overrides):
    renderer = MailRenderer(overrides)

    assert renderer.render("comment_approved", sample_context("daily")).text.startswith("DAILY FRAME")
    assert not renderer.render("comment_approved", sample_context("other")).text.startswith("DAILY FRAME")


@pytest.mark.parametrize("name", ["confirm_subscription", "digest"])
def test_a_broken_override_falls_back_to_the_shipped_template_and_logs_why(overrides, name):
    with capture_logs() as logs:
        rendered = MailRenderer(overrides).render(name, sample_context("weekly"))

    assert rendered == MailRenderer().render(name, sample_context("weekly"))
    [entry] = [e for e in logs if e["event"] == "mail.template_fallback"]
    assert entry["log_level"] == "warning"
    assert entry["template"] == name
    assert entry["site"] == "weekly"
    assert entry["error"].startswith(("UndefinedError", "TemplateSyntaxError"))
    assert "reader@example.org" not in str(logs)


def test_the_mailer_of_a_process_uses_the_settings_overrides(tmp_path, overrides):
    from engagement.keys import Keys
    from engagement.mail.mailer import build_mailer

    settings = load_settings(data_dir=tmp_path / "data", templates_dir=overrides)
    mailer = build_mailer(settings, Keys(settings.secret_key))

    assert mailer.renderer.render("confirm_subscription", sample_context("daily")).subject.startswith(
        "The Daily"
    )


def test_a_templates_dir_without_emails_is_refused_by_name(tmp_path):
    with pytest.raises(ConfigError, match=r"ENGAGEMENT_TEMPLATES_DIR.*no emails/ folder"):
        load_settings(data_dir=tmp_path / "data", templates_dir=tmp_path)


def _cli(tmp_path, *args: str, overrides=None):
    env = {"ENGAGEMENT_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    if overrides is not None:
        env["ENGAGEMENT_TEMPLATES_DIR"] = str(overrides)
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_check_passes_the_shipped_templates(tmp_path):
    result = _cli(tmp_path, "templates", "check")

    assert result.exit_code == 0, result.output
    assert result.stdout.count(" ok\n") == len(TEMPLATES)


def test_check_names_each_broken_override_and_a_folder_that_names_no_site(tmp_path, overrides):
    _write(overrides, "dialy/digest/subject.txt", "typo in the folder")
    assert _cli(tmp_path, "db", "upgrade").exit_code == 0
    for key in ("daily", "weekly"):
        assert _cli(tmp_path, "sites", "add", key, "--name", key.title()).exit_code == 0

    result = _cli(tmp_path, "templates", "check", overrides=overrides)

    assert result.exit_code == 1
    failed = [line for line in result.stdout.splitlines() if "FAIL" in line]
    assert len(failed) == 3, result.stdout
    assert any(line.startswith("confirm_subscription") and "site weekly" in line for line in failed)
    assert any(line.startswith("digest") and "TemplateSyntaxError" in line for line in failed)
    assert any("emails/dialy/ names no site" in line for line in failed)
    assert "3 template(s) failed" in result.stderr


def test_preview_writes_the_html_and_the_text_of_a_sites_mail(tmp_path, overrides):
    out = tmp_path / "preview"

    result = _cli(
        tmp_path,
        "templates",
        "preview",
        "confirm_subscription",
        "--site",
        "daily",
        "-o",
        str(out),
        overrides=overrides,
    )

    assert result.exit_code == 0, result.output
    assert (out / "confirm_subscription.txt").read_text().startswith("Subject: The Daily's own")
    assert "<html" in (out / "confirm_subscription.html").read_text().lower()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("preview", "nosuch"), 2, "nosuch"),
        (("preview", "digest", "--site", "Not A Key"), 2, "is not a site key"),
        (("preview", "digest", "--site", "weekly"), 1, "TemplateSyntaxError"),
    ],
)
def test_preview_refuses_what_it_cannot_show(tmp_path, overrides, args, code, message):
    result = _cli(tmp_path, "templates", *args, "-o", str(tmp_path / "out"), overrides=overrides)

    assert result.exit_code == code
    assert message in result.stderr
    assert not (tmp_path / "out").exists()


def test_preview_of_a_known_site_uses_its_name(tmp_path, overrides):
    assert _cli(tmp_path, "db", "upgrade").exit_code == 0
    assert _cli(tmp_path, "sites", "add", "daily", "--name", "The Real Daily").exit_code == 0

    args = ("templates", "preview", "confirm_subscription", "--site", "daily", "-o", str(tmp_path))
    result = _cli(tmp_path, *args, overrides=overrides)

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Subject: The Daily's own: The Real Daily")
