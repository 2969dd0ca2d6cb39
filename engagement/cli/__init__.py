"""The ``engagement`` command line: a thin click adapter over the core services.

Each module holds one command or group named after it; register it here with one line
(imported when the command runs, so each command loads only what it uses).
"""

from __future__ import annotations

from engagement.cli._app import EXIT_CODES, CliState, fail, main, pass_state

main.lazy.update(
    {
        "db": "engagement.cli.db:db",
        "sites": "engagement.cli.sites:sites",
        "moderation": "engagement.cli.moderation:moderation",
        "privacy": "engagement.cli.privacy:privacy",
        "serve": "engagement.cli.serve:serve",
        "demo": "engagement.cli.demo:demo",
        "backup": "engagement.cli.backup:backup",
        "export": "engagement.cli.export:export",
        "import": "engagement.cli.imports:import_",
        "supporters": "engagement.cli.supporters:supporters",
        "admins": "engagement.cli.admins:admins",
        "templates": "engagement.cli.templates:templates",
        "doctor": "engagement.cli.doctor:doctor",
        "worker": "engagement.cli.delivery:worker",
        "beat": "engagement.cli.delivery:beat",
        "deliveries": "engagement.cli.delivery:deliveries",
        "bounces": "engagement.cli.delivery:bounces",
        "digest": "engagement.cli.delivery:digest",
        "health": "engagement.cli.health:health",
        "webhooks": "engagement.cli.webhooks:webhooks",
        "i18n": "engagement.cli.i18n:i18n",
    }
)

__all__ = ["EXIT_CODES", "CliState", "fail", "main", "pass_state"]
