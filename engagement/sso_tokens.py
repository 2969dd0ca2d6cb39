"""Sign-in tokens a publisher's server signs for its readers: HS256 JWTs, each claim checked."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import jwt

from engagement import validation as check
from engagement.errors import InvalidInput, Unauthenticated

ALGORITHM = "HS256"
LEEWAY = timedelta(seconds=60)  # clocks of the publisher's server and ours may differ a little
MAX_LIFETIME = timedelta(hours=24)  # a leaked token stops working within a day
MAX_TOKEN = 4096  # characters: claims are a few short strings, never a document
MAX_SUBJECT = 200
MIN_SECRET = 32  # bytes of HS256 key: RFC 7518 §3.2 asks for at least the hash's size
MAX_SECRET = 200
MAX_AVATAR = 2000

# Signature, shape and type are checked here; times, audience and subject by `_claims` below,
# against our clock and with reasons a publisher can act on.
_DECODE_OPTIONS: Any = {
    "verify_signature": True,
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_aud": False,
    "verify_iss": False,
    "verify_sub": False,
    "verify_jti": False,
    "require": [],
}


@dataclass(frozen=True)
class SignedIn:
    """Who a valid token signs in: the publisher's user id and what it vouches for."""

    subject: str
    name: str
    email: str | None
    email_verified: bool
    avatar: str | None
    supporter: bool


def read_token(token: object, secret: str, site_key: str, now: datetime) -> SignedIn:
    """The reader a token signs in on ``site_key``, or Unauthenticated with the reason.

    Only HS256 is accepted, whatever the token's header says (never ``none``); ``exp`` and
    ``iat`` are required, at most 24 hours apart, with 60 seconds of leeway either way.
    """
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN or token.count(".") != 2:
        raise Unauthenticated("the sign-in token is malformed (expected a JWT: three parts)")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Unauthenticated("the sign-in token is malformed (its header is not base64 JSON)") from None
    algorithm = header.get("alg")
    if algorithm != ALGORITHM:
        raise Unauthenticated(f"the sign-in token must be signed with {ALGORITHM}, not {algorithm!r}")
    try:
        payload = jwt.decode(token, secret, algorithms=[ALGORITHM], options=_DECODE_OPTIONS)
    except jwt.InvalidSignatureError:
        raise Unauthenticated("the sign-in token's signature does not match this site's secret") from None
    except jwt.PyJWTError:
        raise Unauthenticated("the sign-in token is malformed (its claims are not a JSON object)") from None
    return _claims(payload, site_key, now)


def _claims(payload: dict[str, Any], site_key: str, now: datetime) -> SignedIn:
    _times(payload, now.timestamp())
    audience = payload.get("aud")
    if audience is not None and site_key not in (audience if isinstance(audience, list) else [audience]):
        raise Unauthenticated(f"the sign-in token is for another site (aud {audience!r}, not {site_key!r})")
    subject = payload.get("sub")
    if not isinstance(subject, str) or not subject.strip() or len(subject) > MAX_SUBJECT:
        raise Unauthenticated(f"the sign-in token needs 'sub', the reader's id (1-{MAX_SUBJECT} characters)")
    email = payload.get("email")
    return SignedIn(
        subject=subject,
        name=_text(payload, "name", check.MAX_NAME),
        email=_email(email),
        email_verified=email is not None and _flag(payload, "email_verified"),
        avatar=_avatar(payload.get("avatar")),
        supporter=_flag(payload, "supporter"),
    )


def _times(payload: dict[str, Any], now: float) -> None:
    leeway = LEEWAY.total_seconds()
    expires, issued = _time(payload, "exp"), _time(payload, "iat")
    if expires + leeway < now:
        raise Unauthenticated("the sign-in token has expired")
    if issued - leeway > now:
        raise Unauthenticated("the sign-in token is not valid yet (issued in the future)")
    not_before = payload.get("nbf")
    if not_before is not None and _time(payload, "nbf") - leeway > now:
        raise Unauthenticated("the sign-in token is not valid yet (nbf)")
    if expires - issued > MAX_LIFETIME.total_seconds():
        raise Unauthenticated("the sign-in token may live at most 24 hours (exp - iat)")


def _time(payload: dict[str, Any], claim: str) -> float:
    value = payload.get(claim)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Unauthenticated(f"the sign-in token needs '{claim}' as a number of seconds since 1970")
    return float(value)


def _text(payload: dict[str, Any], claim: str, max_length: int) -> str:
    value = payload.get(claim)
    try:
        text = check.single_line(claim, value, max_length=max_length) if isinstance(value, str) else None
    except InvalidInput:
        text = None
    if not text:
        raise Unauthenticated(f"the sign-in token needs '{claim}' (one line, 1-{max_length} characters)")
    return text


def _email(value: object) -> str | None:
    if value is None:
        return None
    try:
        return check.email("email", value) if isinstance(value, str) else _bad_email()
    except InvalidInput:
        return _bad_email()


def _bad_email() -> str:
    raise Unauthenticated("the sign-in token's 'email' is not a valid address")


def _flag(payload: dict[str, Any], claim: str) -> bool:
    value = payload.get(claim, False)
    if not isinstance(value, bool):
        raise Unauthenticated(f"the sign-in token's '{claim}' must be true or false")
    return value


def _avatar(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and len(value) <= MAX_AVATAR and not any(ord(c) < 33 for c in value):
        parts = urlsplit(value)
        if parts.scheme == "https" and parts.hostname:
            return value
    raise Unauthenticated(
        f"the sign-in token's 'avatar' must be an https URL of at most {MAX_AVATAR} characters"
    )


def check_secret(field: str, value: str) -> str:
    """A signing secret a publisher sets: long enough for HS256, one line."""
    secret = check.single_line(field, value, max_length=MAX_SECRET)
    if secret is None or len(secret.encode()) < MIN_SECRET:
        raise InvalidInput(field, f"use at least {MIN_SECRET} characters (or --sso-secret-generate)")
    return secret


def new_secret() -> str:
    """A random signing secret for a site (43 URL-safe characters, 256 bits)."""
    return secrets.token_urlsafe(32)
