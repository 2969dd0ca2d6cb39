"""Keyed hashes of reader ids, one-time edit tokens and signed single-purpose links."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from engagement.errors import InvalidToken

# Each link may do one thing only: a token signed for "unsubscribe" is refused by "moderate".
PURPOSES = (
    "confirm",
    "unsubscribe",
    "preferences",
    "moderate",
    "moderator_optout",
    "approval_optout",
    "admin_form",
    "thread_form",
)


class Keys:
    """Everything derived from the site-wide secret key."""

    def __init__(self, secret_key: str) -> None:
        if not secret_key:
            raise ValueError("secret key is empty")
        self._secret = secret_key.encode()
        self._reader_key = hmac.new(self._secret, b"reader-id", hashlib.sha256).digest()
        self._signed_in_key = hmac.new(self._secret, b"signed-in-reader", hashlib.sha256).digest()
        # The same readers come back read after read: each one's hash is computed once.
        self._reader_hashes = functools.lru_cache(maxsize=4096)(self._reader_hash)
        # Built once: a fan-out signs two links per mail.
        self._serializers = {
            purpose: URLSafeTimedSerializer(self._secret, salt=f"engagement.{purpose}")
            for purpose in PURPOSES
        }

    def reader_hash(self, reader_id: str) -> str:
        """The only form in which a browser's opaque id is stored."""
        return self._reader_hashes(reader_id)

    def _reader_hash(self, reader_id: str) -> str:
        return hmac.new(self._reader_key, reader_id.encode(), hashlib.sha256).hexdigest()

    def signed_in_reader_id(self, site_key: str, subject: str) -> str:
        """The reader id of someone the publisher's site signed in: the same on every device.

        Keyed, so nobody can compute another reader's id from a publisher's user id; shaped
        like the widget's random ids, so votes, reactions and reports take it unchanged.
        """
        message = f"{site_key}\0{subject}".encode()
        return "sso-" + hmac.new(self._signed_in_key, message, hashlib.sha256).hexdigest()

    def sign(self, purpose: str, data: dict[str, Any]) -> str:
        """A URL-safe token that carries ``data`` for one purpose."""
        return self._serializer(purpose).dumps(data)

    def unsign(self, purpose: str, token: str, max_age_seconds: int | None = None) -> dict[str, Any]:
        """The data of a token signed for ``purpose``, or InvalidToken."""
        try:
            data = self._serializer(purpose).loads(token, max_age=max_age_seconds)
        except SignatureExpired:
            raise InvalidToken("this link has expired") from None
        except BadSignature:
            raise InvalidToken("this link is not valid") from None
        if not isinstance(data, dict):
            raise InvalidToken("this link is not valid")
        return data

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        serializer = self._serializers.get(purpose)
        if serializer is None:
            raise ValueError(f"unknown token purpose {purpose!r}")
        return serializer


def new_edit_token() -> str:
    """A random token shown once to a comment's author."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Edit tokens are random and long, so a plain digest is a safe way to keep them."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_hash: str | None) -> bool:
    return stored_hash is not None and hmac.compare_digest(hash_token(token), stored_hash)
