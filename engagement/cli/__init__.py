"""The ``engagement`` command line: a thin click adapter over the core services.

Each module holds one command or group named after it; register it here with one line.
"""

from __future__ import annotations

from engagement.cli import (
    admins,
    backup,
    db,
    delivery,
    demo,
    doctor,
    export,
    imports,
    moderation,
    privacy,
    serve,
    sites,
    supporters,
    templates,
)
from engagement.cli._app import EXIT_CODES, CliState, fail, main, pass_state

main.add_command(db.db)
main.add_command(sites.sites)
main.add_command(moderation.moderation)
main.add_command(privacy.privacy)
main.add_command(serve.serve)
main.add_command(demo.demo)
main.add_command(backup.backup)
main.add_command(export.export)
main.add_command(imports.import_)
main.add_command(supporters.supporters)
main.add_command(admins.admins)
main.add_command(templates.templates)
main.add_command(doctor.doctor)
delivery.register(main)

__all__ = ["EXIT_CODES", "CliState", "fail", "main", "pass_state"]
