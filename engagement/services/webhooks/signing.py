"""Standard Webhooks signatures: ``whsec_`` secrets and ``v1,<base64 HMAC-SHA256 of id.timestamp.body>``."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 -- the prefix the specification gives secrets, not a secret
SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh endpoint secret, shown to the owner once."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


@functools.lru_cache(maxsize=4096)  # an endpoint's secret signs every delivery to it
def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header's value for one attempt."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.digest(_key(secret), signed, hashlib.sha256)
    return "v1," + base64.b64encode(digest).decode()


def verify(secret: str, message_id: str, timestamp: int, body: bytes, header: str) -> bool:
    """True when one of the header's space-separated signatures is ours (receivers do this)."""
    expected = sign(secret, message_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in header.split())
