"""Bearer tokens from the ``Authorization`` header: missing or malformed is 401 with a challenge."""

from __future__ import annotations

import re

from starlette.exceptions import HTTPException

# RFC 6750's token68 alphabet would allow more; ours are URL-safe base64 of a fixed size range.
TOKEN = re.compile(r"Bearer ([A-Za-z0-9_-]{16,128})")
CHALLENGE = {"WWW-Authenticate": "Bearer"}


def bearer_token(authorization: str | None, what: str) -> str:
    """The token of ``Authorization: Bearer <token>``, or a 401 naming ``what`` is expected.

    A 401 must say how to authenticate (RFC 9110): ``WWW-Authenticate: Bearer``. A well-formed
    token that turns out wrong is the caller's to refuse (403 for an edit token).
    """
    match = TOKEN.fullmatch(authorization or "")
    if match is None:
        detail = f"Authorization must be 'Bearer <{what}>'"
        raise HTTPException(401, detail=detail, headers=CHALLENGE)
    return match.group(1)
