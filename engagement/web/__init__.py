"""The HTTP adapter: a thin FastAPI layer whose routes parse typed input and call one core service."""

from engagement.web.app import create_app

__all__ = ["create_app"]
