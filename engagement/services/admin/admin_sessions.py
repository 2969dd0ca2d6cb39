"""Admin sign-in: server-side sessions behind an opaque token, 12 hours idle, and form tokens."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from engagement.errors import Forbidden, InvalidInput, InvalidToken, SessionExpired, SignInFailed
from engagement.keys import Keys, hash_token
from engagement.models import Admin, AdminSession
from engagement.services.admin.admins import AdminView, admin_view, password_matches
from engagement.uow import UnitOfWork

IDLE_LIMIT = timedelta(hours=12)
# Seen-at is written at most this often: a page view need not be a write.
TOUCH_EVERY = timedelta(minutes=1)
FORM_TOKEN_MAX_AGE = int(IDLE_LIMIT.total_seconds())
TOKEN_PATTERN_LENGTH = (20, 128)


@dataclass(frozen=True)
class SignedIn:
    """A new session's token (for the cookie, shown nowhere else) and who signed in."""

    token: str
    admin: AdminView


def sign_in(uow: UnitOfWork, email: str, password: str, client: str) -> SignedIn:
    """Check the address and password (rate limited per address and client) and open a session."""
    address = (email or "").strip().lower()
    if uow.limiter is not None:
        uow.limiter.check("signin", {"email": address or None, "ip": client})
    if not address or not isinstance(password, str) or not password:
        raise SignInFailed("wrong e-mail address or password")
    with uow:
        admin = uow.session.scalars(sa.select(Admin).where(Admin.email == address)).first()
        if not password_matches(admin, password) or admin is None:
            raise SignInFailed("wrong e-mail address or password")
        token = secrets.token_urlsafe(32)
        now = uow.now()
        uow.session.add(
            AdminSession(admin_id=admin.id, token_hash=hash_token(token), created_at=now, last_seen_at=now)
        )
        # Sessions idle past the limit open nothing any more: each sign-in drops them all, so
        # the table holds about one row per browser signed in today.
        uow.session.execute(sa.delete(AdminSession).where(AdminSession.last_seen_at < now - IDLE_LIMIT))
        view = admin_view(uow.session, admin.id)
        uow.commit()
        return SignedIn(token, view)


def session_admin(uow: UnitOfWork, token: str | None) -> AdminView:
    """The admin a session token belongs to; SessionExpired when unknown, ended or idle."""
    if not token or not TOKEN_PATTERN_LENGTH[0] <= len(token) <= TOKEN_PATTERN_LENGTH[1]:
        raise SessionExpired("please sign in")
    with uow:
        found = uow.session.scalars(
            sa.select(AdminSession).where(AdminSession.token_hash == hash_token(token))
        ).first()
        now = uow.now()
        if found is None or found.last_seen_at < now - IDLE_LIMIT:
            raise SessionExpired("your session has ended; please sign in again")
        if now - found.last_seen_at >= TOUCH_EVERY:
            found.last_seen_at = now
        view = admin_view(uow.session, found.admin_id)
        uow.commit()
        return view


def sign_out(uow: UnitOfWork, token: str | None) -> None:
    """End the session on the server: the cookie alone opens nothing any more."""
    if not token:
        return
    with uow:
        uow.session.execute(sa.delete(AdminSession).where(AdminSession.token_hash == hash_token(token)))
        uow.commit()


def form_token(keys: Keys, session_token: str | None) -> str:
    """The token every admin form carries, bound to the session (or to none, on the sign-in form)."""
    return keys.sign("admin_form", {"s": _binding(session_token), "n": secrets.token_hex(4)})


def check_form_token(keys: Keys, session_token: str | None, value: str | None) -> None:
    """Forbidden unless ``value`` is a form token of this session (a forged form has none)."""
    if not value:
        raise Forbidden("this form is missing its security token; reload the page and try again")
    try:
        data = keys.unsign("admin_form", value, max_age_seconds=FORM_TOKEN_MAX_AGE)
    except InvalidToken:
        raise Forbidden("this form's security token is not valid; reload the page") from None
    if not hmac.compare_digest(str(data.get("s", "")), _binding(session_token)):
        raise Forbidden("this form's security token is not valid; reload the page")


def check_repeated(password: str, repeated: str) -> None:
    """The set-password form asks twice: a typo must not lock the person out."""
    if password != repeated:
        raise InvalidInput("password", "the two passwords differ")


def _binding(session_token: str | None) -> str:
    return hash_token(session_token)[:32] if session_token else "-"
