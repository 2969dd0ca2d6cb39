"""The sign-in options of ``engagement sites add|update``: the signing secret, required or not, the link."""

from __future__ import annotations

from typing import Any

import click

from engagement.sso_tokens import new_secret

SSO_OPTIONS = [
    click.option(
        "--sso-secret",
        metavar="SECRET",
        help="The HS256 secret your site signs readers' sign-in tokens with (32+ characters).",
    ),
    click.option(
        "--sso-secret-generate",
        is_flag=True,
        default=False,
        help="Make a new signing secret and print it once (tokens signed with the old one stop working).",
    ),
    click.option(
        "--no-sso",
        is_flag=True,
        default=False,
        help="Stop accepting sign-in tokens (removes the secret; guests may write again).",
    ),
    click.option(
        "--sso-required/--sso-optional",
        "sso_required",
        default=None,
        help="Whether only readers your site signed in may comment, vote and react (default optional).",
    ),
    click.option(
        "--sso-login-url",
        metavar="URL",
        help="Where the widget's 'Sign in' link goes ('' removes it).",
    ),
]


def generate_secret(options: dict[str, Any]) -> str | None:
    """With --sso-secret-generate, a new secret put in place of --sso-secret (None otherwise)."""
    chosen = [name for name in ("sso_secret", "sso_secret_generate", "no_sso") if options[name]]
    if len(chosen) > 1:
        flags = " and ".join("--" + name.replace("_", "-") for name in chosen)
        raise click.UsageError(f"{flags} cannot be used together")
    if not options["sso_secret_generate"]:
        return None
    options["sso_secret"] = new_secret()
    return str(options["sso_secret"])


def sso_changes(options: dict[str, Any]) -> dict[str, Any]:
    """The sign-in part of a site's changes (None: leave as it is; '' removes)."""
    secret = "" if options["no_sso"] else options["sso_secret"]
    return {
        "sso_secret": secret,
        "sso_required": options["sso_required"],
        "sso_login_url": options["sso_login_url"],
    }


def echo_generated(secret: str | None) -> None:
    """Show a generated secret, this once: it is never shown again."""
    if secret is not None:
        click.echo(f"sign-in secret (shown once; keep it on your site's server): {secret}")
