"""The no-JavaScript comment form's token: signed, time-limited, bound to one site and page.

The widget's promise is no cookie, so the form cannot carry a session's token; this one proves
that a form was served by us for this site and page, lately. The web layer adds the Origin
check browsers make cheap.
"""

from __future__ import annotations

import hmac
import secrets

from engagement.errors import Forbidden, InvalidToken
from engagement.keys import Keys
from engagement.services.pages import page_key

# Long enough to write a considered comment; short enough that a harvested token soon dies.
FORM_MAX_AGE_SECONDS = 6 * 3600


def thread_form_token(keys: Keys, site: str, page: str) -> str:
    """The token a no-JavaScript thread page puts in its comment form."""
    return keys.sign("thread_form", {"site": site, "page": page_key(page), "n": secrets.token_hex(4)})


def check_thread_form_token(keys: Keys, site: str, page: str, value: str | None) -> None:
    """Forbidden unless ``value`` is a live form token for this site and page."""
    if not value:
        raise Forbidden("this form is missing its security token; reload the page and try again")
    try:
        data = keys.unsign("thread_form", value, max_age_seconds=FORM_MAX_AGE_SECONDS)
    except InvalidToken:
        raise Forbidden("this form's security token is not valid or has expired; reload the page") from None
    bound = f"{data.get('site')}\n{data.get('page')}"
    if not hmac.compare_digest(bound, f"{site}\n{page_key(page)}"):
        raise Forbidden("this form's security token belongs to another page; reload the page")
