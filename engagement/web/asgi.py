"""The app each of ``engagement serve --workers N``'s processes builds: settings from the environment."""

from __future__ import annotations

from fastapi import FastAPI

from engagement.config import load_settings
from engagement.logs import configure_logging
from engagement.web.app import create_app
from engagement.web.collector import freeze_startup


def app_from_environment() -> FastAPI:
    """uvicorn's factory in a worker process (spawned: nothing is inherited but the environment)."""
    settings = load_settings()
    configure_logging(settings)
    app = create_app(settings)
    freeze_startup()
    return app
