"""Signed single-purpose tokens for subscriber and moderator links, and the URLs that carry them."""

from __future__ import annotations

from typing import Any

from engagement.errors import InvalidToken
from engagement.keys import Keys

# A confirmation link is only mailed to confirm a fresh request; a week is plenty.
CONFIRM_MAX_AGE_SECONDS = 7 * 86_400
MAX_TOKEN = 1000  # ours are under 200 characters; anything far longer is not one of them


def confirm_token(keys: Keys, subscriber_id: int) -> str:
    """The token in a confirmation mail: proves the reader controls the address."""
    return keys.sign("confirm", {"s": subscriber_id})


def unsubscribe_token(keys: Keys, subscriber_id: int, subscription_id: int | None = None) -> str:
    """One subscription's token, or (without ``subscription_id``) everything of the subscriber.

    It never expires: every mail carries one, and an old mail must still unsubscribe.
    """
    data: dict[str, Any] = {"s": subscriber_id}
    if subscription_id is not None:
        data["u"] = subscription_id
    return keys.sign("unsubscribe", data)


def preferences_token(keys: Keys, subscriber_id: int) -> str:
    """The token of a subscriber's preferences page; it never expires, like unsubscribe."""
    return keys.sign("preferences", {"s": subscriber_id})


def moderator_optout_token(keys: Keys, site_id: int, email: str) -> str:
    """The token in a moderation request: stops moderation mails to ``email`` for one site.

    It never expires, like every unsubscribe link.
    """
    return keys.sign("moderator_optout", {"site": site_id, "e": email})


def approval_optout_token(keys: Keys, site_id: int, email: str) -> str:
    """The token in an approval notice: no more such notices to ``email`` from one site."""
    return keys.sign("approval_optout", {"site": site_id, "e": email})


def read_optout_token(keys: Keys, purpose: str, token: str) -> tuple[int, str]:
    """(site id, address) of a ``moderator_optout`` or ``approval_optout`` token, or InvalidToken."""
    data = _unsign(keys, purpose, token)
    site_id, email = data.get("site"), data.get("e")
    if not _is_id(site_id) or not isinstance(email, str) or not email:
        raise InvalidToken("this link is not valid")
    assert isinstance(site_id, int)
    return site_id, email


def read_confirm_token(keys: Keys, token: str) -> int:
    """The subscriber id a confirmation token names, or InvalidToken (forged, expired, misused)."""
    return _subscriber_id(_unsign(keys, "confirm", token, CONFIRM_MAX_AGE_SECONDS))


def read_unsubscribe_token(keys: Keys, token: str) -> tuple[int, int | None]:
    """(subscriber id, subscription id or None for everything), or InvalidToken."""
    data = _unsign(keys, "unsubscribe", token)
    subscription_id = data.get("u")
    if subscription_id is not None and not _is_id(subscription_id):
        raise InvalidToken("this link is not valid")
    return _subscriber_id(data), subscription_id


def read_preferences_token(keys: Keys, token: str) -> int:
    return _subscriber_id(_unsign(keys, "preferences", token))


def confirm_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/s/confirm/{token}"


def unsubscribe_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/s/unsubscribe/{token}"


def preferences_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/s/preferences/{token}"


def moderation_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/m/{token}"


def _unsign(keys: Keys, purpose: str, token: object, max_age: int | None = None) -> dict[str, Any]:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        raise InvalidToken("this link is not valid")
    return keys.unsign(purpose, token, max_age_seconds=max_age)


def _subscriber_id(data: dict[str, Any]) -> int:
    value = data.get("s")
    if not _is_id(value):
        raise InvalidToken("this link is not valid")
    assert isinstance(value, int)
    return value


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
