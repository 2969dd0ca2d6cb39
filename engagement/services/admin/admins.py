"""Admin accounts: owners and moderators, argon2id passwords, one-time set-password links."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from engagement import validation as check
from engagement.errors import Conflict, Forbidden, InvalidInput, InvalidToken, NotFound
from engagement.keys import hash_token
from engagement.models import Admin, AdminSession, AdminSite, Site
from engagement.models.admins import ROLES
from engagement.uow import UnitOfWork

MIN_PASSWORD = 12
MAX_PASSWORD = 1000
SETUP_LIFETIME = timedelta(hours=24)
# The most used passwords of twelve characters or more, from the public breach lists: a person
# who picks one of these has picked no password at all.
COMMON_PASSWORDS = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678901234",
        "123456789123",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "abcdefghijkl",
        "administrator",
        "iloveyou1234",
        "password1234",
        "password12345",
        "password123456",
        "passwordpassword",
        "qwertyuiop12",
        "qwertyuiopasdfgh",
        "qwerty123456",
        "welcome12345",
        "letmein12345",
        "changeme1234",
        "aaaaaaaaaaaa",
        "111111111111",
        "000000000000",
        "qazwsxedcrfv",
        "zaq12wsxcde3",
        "football1234",
        "baseball1234",
        "sunshine1234",
        "princess1234",
        "monkey123456",
        "dragon123456",
        "superman1234",
        "trustno1trustno1",
        "correcthorsebatterystaple",
    }
)
_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters


@dataclass(frozen=True)
class AdminView:
    """Who an admin is and where they may act (``site_ids`` is None for an owner: every site)."""

    id: int
    email: str
    role: str
    site_ids: frozenset[int] | None
    site_keys: tuple[str, ...]
    has_password: bool

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"

    def may_act_on(self, site_id: int) -> bool:
        return self.site_ids is None or site_id in self.site_ids


@dataclass(frozen=True)
class SetupLink:
    """A one-time set-password token (shown once) and the admin it is for."""

    admin: AdminView
    token: str | None


def add_admin(
    uow: UnitOfWork, email: str, role: str, site_keys: Sequence[str] = (), password: str | None = None
) -> SetupLink:
    """Create an account; without ``password``, a one-time link sets it within 24 hours."""
    address = check.email("email", email).lower()
    check.one_of("role", role, ROLES)
    if role == "moderator" and not site_keys:
        raise InvalidInput("site", "a moderator moderates at least one site (--site KEY)")
    if password is not None:
        check_password(password)
    with uow:
        if uow.session.scalars(sa.select(Admin.id).where(Admin.email == address)).first() is not None:
            raise Conflict(f"an admin with the address {address} exists already")
        sites = _sites(uow.session, site_keys)
        admin = Admin(email=address, role=role, created_at=uow.now())
        uow.session.add(admin)
        uow.session.flush()
        uow.session.add_all(AdminSite(admin_id=admin.id, site_id=site.id) for site in sites)
        token = _set_secret(uow, admin, password)
        uow.commit()
        return SetupLink(_view(uow.session, admin), token)


def reset_admin(uow: UnitOfWork, email: str, password: str | None = None) -> SetupLink:
    """A new one-time link (or the given password); the old password and every session end."""
    if password is not None:
        check_password(password)
    with uow:
        admin = _by_email(uow.session, email)
        uow.session.execute(sa.delete(AdminSession).where(AdminSession.admin_id == admin.id))
        admin.password_hash = None
        token = _set_secret(uow, admin, password)
        uow.commit()
        return SetupLink(_view(uow.session, admin), token)


def remove_admin(uow: UnitOfWork, email: str) -> None:
    """Remove an account and its sessions; the last owner stays, or nobody could manage the rest."""
    with uow:
        admin = _by_email(uow.session, email)
        if admin.role == "owner" and _owners(uow.session) <= 1:
            raise Conflict("the last owner cannot be removed; add another owner first")
        uow.session.delete(admin)
        uow.commit()


def list_admins(uow: UnitOfWork) -> list[AdminView]:
    with uow:
        admins = uow.session.scalars(sa.select(Admin).order_by(Admin.email))
        return [_view(uow.session, admin) for admin in admins]


def read_setup_link(uow: UnitOfWork, token: str) -> AdminView:
    """The admin a set-password link is for; InvalidToken when unknown, used or expired."""
    with uow:
        return _view(uow.session, _by_setup_token(uow, token))


def set_password_by_link(uow: UnitOfWork, token: str, password: str) -> AdminView:
    """Set the password through a one-time link, which then stops working."""
    check_password(password)
    with uow:
        admin = _by_setup_token(uow, token)
        admin.password_hash = _HASHER.hash(password)
        admin.setup_token_hash = None
        admin.setup_expires_at = None
        uow.commit()
        return _view(uow.session, admin)


def check_password(password: str) -> None:
    """Refuse a password that is short or among the most common ones."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InvalidInput("password", f"use at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidInput("password", f"use at most {MAX_PASSWORD} characters")
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 4:
        raise InvalidInput("password", "this password is among the most common ones; choose another")


def password_matches(admin: Admin | None, password: str) -> bool:
    """Verify a password in constant shape: an unknown address costs one hash too."""
    stored = admin.password_hash if admin is not None else None
    try:
        return _HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def admin_view(session: Session, admin_id: int) -> AdminView:
    admin = session.get(Admin, admin_id)
    if admin is None:
        raise NotFound("no such admin")
    return _view(session, admin)


def require_owner(admin: AdminView) -> None:
    if not admin.is_owner:
        raise Forbidden("only an owner may do this")


def require_site(admin: AdminView, site_id: int) -> None:
    if not admin.may_act_on(site_id):
        raise Forbidden("you do not moderate this site")


def _set_secret(uow: UnitOfWork, admin: Admin, password: str | None) -> str | None:
    if password is not None:
        admin.password_hash = _HASHER.hash(password)
        admin.setup_token_hash = None
        admin.setup_expires_at = None
        return None
    token = secrets.token_urlsafe(32)
    admin.setup_token_hash = hash_token(token)
    admin.setup_expires_at = uow.now() + SETUP_LIFETIME
    return token


def _by_setup_token(uow: UnitOfWork, token: str) -> Admin:
    if not isinstance(token, str) or not 16 <= len(token) <= 128:
        raise InvalidToken("this link is not valid")
    admin = uow.session.scalars(sa.select(Admin).where(Admin.setup_token_hash == hash_token(token))).first()
    if admin is None or admin.setup_expires_at is None:
        raise InvalidToken("this link is not valid or was used already")
    if admin.setup_expires_at < uow.now():
        raise InvalidToken("this link has expired; ask an owner for a new one")
    return admin


def _by_email(session: Session, email: str) -> Admin:
    address = check.email("email", email).lower()
    admin = session.scalars(sa.select(Admin).where(Admin.email == address)).first()
    if admin is None:
        raise NotFound(f"no admin with the address {address}")
    return admin


def _owners(session: Session) -> int:
    return int(session.scalar(sa.select(sa.func.count()).where(Admin.role == "owner")) or 0)


def _sites(session: Session, keys: Sequence[str]) -> list[Site]:
    found = list(session.scalars(sa.select(Site).where(Site.key.in_(list(keys)))))
    missing = sorted(set(keys) - {site.key for site in found})
    if missing:
        raise NotFound(f"no site {missing[0]!r}")
    return found


def _view(session: Session, admin: Admin) -> AdminView:
    rows = session.execute(
        sa.select(Site.id, Site.key)
        .join(AdminSite, AdminSite.site_id == Site.id)
        .where(AdminSite.admin_id == admin.id)
        .order_by(Site.key)
    ).all()
    owner = admin.role == "owner"
    return AdminView(
        id=admin.id,
        email=admin.email,
        role=admin.role,
        site_ids=None if owner else frozenset(row.id for row in rows),
        site_keys=tuple(row.key for row in rows),
        has_password=admin.password_hash is not None,
    )


_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))
