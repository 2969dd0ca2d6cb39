"""Checks on input shared by every service: lengths, e-mail syntax, URLs, enumerations."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email

from engagement.errors import InvalidInput

MAX_BODY = 10_000
MAX_NAME = 100
MAX_URL = 2000
MAX_TITLE = 300
MAX_PASSAGE = 200
MAX_QUOTE = 1000
MAX_QUOTE_CONTEXT = 200
MAX_EMAIL = 320
# Control bytes other than tab, newline and carriage return (one C scan, not a Python loop).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def text(field: str, value: str | None, *, max_length: int, required: bool = True) -> str | None:
    """Strip ``value``; refuse it when empty (if required), too long, or holding control bytes."""
    if value is None:
        if required:
            raise InvalidInput(field, "is required")
        return None
    value = value.strip()
    if not value:
        if required:
            raise InvalidInput(field, "must not be empty")
        return None
    if len(value) > max_length:
        raise InvalidInput(field, f"must be at most {max_length} characters (got {len(value)})")
    if CONTROL_CHARACTERS.search(value):
        raise InvalidInput(field, "must not contain control characters")
    return value


def required_text(field: str, value: str | None, *, max_length: int) -> str:
    result = text(field, value, max_length=max_length, required=True)
    assert result is not None
    return result


def single_line(field: str, value: str | None, *, max_length: int, required: bool = True) -> str | None:
    """Like :func:`text`, but for names and titles, which end up in mail headers."""
    result = text(field, value, max_length=max_length, required=required)
    if result is not None and ("\n" in result or "\r" in result):
        raise InvalidInput(field, "must be a single line")
    return result


def email(field: str, value: str) -> str:
    """A syntactically valid address, normalised (domain lower-cased); no DNS look-up."""
    if not isinstance(value, str) or len(value) > MAX_EMAIL:
        raise InvalidInput(field, "is not a valid e-mail address")
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(field, str(exc)) from None
    local, _, domain = checked.normalized.rpartition("@")
    # Local parts are case-sensitive in theory, never in practice: one person, one subscriber.
    return f"{local.lower()}@{domain.lower()}"


def http_url(field: str, value: str, *, max_length: int = MAX_URL) -> str:
    value = required_text(field, value, max_length=max_length)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(field, "must be an absolute http(s) URL")
    return value


def one_of(field: str, value: str, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise InvalidInput(field, f"must be one of {', '.join(allowed)}")
    return value


def integer(field: str, value: int, *, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidInput(field, f"must be a whole number from {minimum} to {maximum}")
    return value


def timezone(field: str, value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(field, f"unknown time zone {value!r}") from None
    return value


def boolean(field: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(field, "must be true or false")
    return value
