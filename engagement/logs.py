"""Structured logs: JSON lines in production, key=value on a terminal, never an e-mail address."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from engagement.config import Settings

# Loose on purpose: whatever looks like an address is masked, even where it is no address.
ADDRESS = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+\.[^\s@<>()\[\],;:\"']+")
MASK = "[address]"
REQUEST_ID = "request_id"


def mask_addresses(value: Any) -> Any:
    """``value`` with every e-mail address in its strings (nested in lists, dicts) masked."""
    if isinstance(value, str):
        return ADDRESS.sub(MASK, value) if "@" in value else value
    if isinstance(value, list | tuple):
        return type(value)(mask_addresses(item) for item in value)
    if isinstance(value, dict):
        return {key: mask_addresses(item) for key, item in value.items()}
    return value


def _mask(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    if event.get("exc_info"):
        # Render the traceback here, so that the addresses it may hold are masked too.
        event = structlog.processors.format_exc_info(_logger, _name, event)
    return {key: mask_addresses(value) for key, value in event.items()}


def current_request_id() -> str | None:
    """The id of the request (or of the request that caused the task) being handled, if any."""
    value = structlog.contextvars.get_contextvars().get(REQUEST_ID)
    return value if isinstance(value, str) else None


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (a test runner may swap it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def use_json(settings: Settings, stream: TextIO | None = None) -> bool:
    """JSON lines unless a person reads them: production mode away from a terminal, or asked for."""
    if settings.log_format != "auto":
        return settings.log_format == "json"
    return settings.mode == "production" and not (stream or sys.stderr).isatty()


def configure_logging(settings: Settings) -> None:
    """Send structlog's and the standard library's records (uvicorn, Celery) through one formatter.

    Called by each command once its settings are known; a second call replaces the first.
    """
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _mask,
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if use_json(settings)
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        # A line below the level is dropped before any processor runs (one per request, at info).
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: a logger keeps following the configuration (and tests' log capture).
        cache_logger_on_first_use=False,
    )
    handler = _Stderr()
    handler.set_name("engagement")
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.get_name() != "engagement"] + [handler]
    root.setLevel(settings.log_level.upper())
    logging.captureWarnings(True)  # a library's warning is a line like the others, not free text


def bind_request_id(request_id: str | None) -> None:
    """Tie the log lines that follow (and the outbox events written) to ``request_id``."""
    if request_id:
        structlog.contextvars.bind_contextvars(**{REQUEST_ID: request_id})
    else:
        structlog.contextvars.unbind_contextvars(REQUEST_ID)


def with_request_id(payload: dict[str, Any]) -> dict[str, Any]:
    """An outbox event's payload carrying the current request id, for the tasks it causes."""
    request_id = current_request_id()
    return {**payload, REQUEST_ID: request_id} if request_id else payload
