"""Sign-in tokens checked without HTTP: the edges of the leeway and lifetime, the audience, the reader id."""

from __future__ import annotations

from datetime import UTC, datetime

import jwt
import pytest

from engagement.errors import Unauthenticated
from engagement.keys import Keys
from engagement.sso_tokens import read_token

SECRET = "core-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz-0123456789"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
T = int(NOW.timestamp())


def make(**claims: object) -> str:
    base = {"sub": "42", "name": "Ann", "iat": T, "exp": T + 600}
    return jwt.encode({k: v for k, v in (base | claims).items() if v is not None}, SECRET, "HS256")


@pytest.mark.parametrize(
    ("claims", "accepted"),
    [
        ({"exp": T - 60}, True),  # expired a minute ago: within the leeway
        ({"exp": T - 61, "iat": T - 600}, False),
        ({"iat": T + 60}, True),
        ({"iat": T + 61}, False),
        ({"nbf": T + 60}, True),
        ({"nbf": T + 61}, False),
        ({"iat": T, "exp": T + 86_400}, True),  # exactly 24 hours
        ({"iat": T, "exp": T + 86_401}, False),
        ({"aud": "daily"}, True),
        ({"aud": ["weekly", "daily"]}, True),
        ({"aud": ["weekly"]}, False),
        ({"exp": True}, False),  # a boolean is not a time
        ({"sub": "   "}, False),
        ({"email_verified": True}, True),  # without an address it vouches for nothing
    ],
)
def test_edges(claims, accepted):
    if accepted:
        assert read_token(make(**claims), SECRET, "daily", NOW).subject == "42"
    else:
        with pytest.raises(Unauthenticated):
            read_token(make(**claims), SECRET, "daily", NOW)


def test_what_a_good_token_gives():
    signed = read_token(
        make(
            email="Ann@Example.org",
            email_verified=True,
            supporter=True,
            avatar="https://cdn.example.org/a.png",
        ),
        SECRET,
        "daily",
        NOW,
    )
    assert (signed.name, signed.email_verified, signed.supporter) == ("Ann", True, True)
    assert signed.avatar == "https://cdn.example.org/a.png"
    assert read_token(make(email_verified=True), SECRET, "daily", NOW).email_verified is False


def test_the_reader_id_is_per_site_and_subject_and_keyed():
    keys, other = Keys("one-secret-key"), Keys("another-secret-key")
    ids = {
        keys.signed_in_reader_id("daily", "42"),
        keys.signed_in_reader_id("weekly", "42"),
        keys.signed_in_reader_id("daily", "43"),
        other.signed_in_reader_id("daily", "42"),
    }
    assert len(ids) == 4
    assert keys.signed_in_reader_id("daily", "42") == keys.signed_in_reader_id("daily", "42")
    # Shaped like a widget's id, which the API's reader-id pattern accepts.
    assert all(len(i) == 68 and i.startswith("sso-") for i in ids)
