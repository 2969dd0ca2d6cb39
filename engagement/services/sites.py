"""Create, change and read sites: a publisher's settings."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement import validation as check
from engagement.errors import Conflict, InvalidInput, SiteNotFound
from engagement.i18n.locales import SHIPPED, normalise
from engagement.models import DEFAULT_REACTIONS, Site
from engagement.services.audience.supporter_flags import refresh_flags
from engagement.sso_tokens import check_secret
from engagement.thread_cache import CachedSettings
from engagement.uow import UnitOfWork

SITE_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MODERATION_POLICIES = ("off", "first", "all")
REACTION_KEY = re.compile(r"^[a-z0-9_-]{1,32}$")


@dataclass(frozen=True)
class SiteChanges:
    """Settings a publisher may set; ``None`` leaves a setting as it is."""

    name: str | None = None
    origins: Sequence[str] | None = None
    moderation: str | None = None
    moderator_emails: Sequence[str] | None = None
    edit_window_seconds: int | None = None
    support_url: str | None = None
    support_text: str | None = None
    banned_words: Sequence[str] | None = None
    link_limit: int | None = None
    reactions: Sequence[dict[str, str]] | None = None
    digest_hour: int | None = None
    digest_weekday: int | None = None
    timezone: str | None = None
    language: str | None = None
    supporter_thanks: str | None = None
    supporter_badges: bool | None = None
    patreon_webhook_secret: str | None = None
    report_threshold: int | None = None
    popular: bool | None = None
    popular_title: str | None = None  # '' goes back to the widget's own heading
    # Sign-in from the publisher's site ('' removes the secret or the link).
    sso_secret: str | None = None
    sso_required: bool | None = None
    sso_login_url: str | None = None


# Built once: nearly every request looks its site up, and building the statement costs
# more than running it.
_SITE_BY_KEY = sa.select(Site).where(Site.key == sa.bindparam("key"))


def get_site(session: Session, key: str) -> Site:
    """The site with ``key``, or SiteNotFound.

    A key no site could have (a NUL byte, a newline, too long) is refused before any query:
    PostgreSQL rejects NUL in text with an error rather than finding nothing.
    """
    if not is_site_key(key):
        raise SiteNotFound(f"no site with key {key!r}")
    site = session.scalars(_SITE_BY_KEY, {"key": key}).one_or_none()
    if site is None:
        raise SiteNotFound(f"no site with key {key!r}")
    return site


def is_site_key(key: object) -> bool:
    """Whether ``key`` has the shape of a site key (checked whole: ``$`` alone allows a newline)."""
    return isinstance(key, str) and SITE_KEY.fullmatch(key) is not None


def add_site(uow: UnitOfWork, key: str, changes: SiteChanges) -> Site:
    """Create a site; its name is required, everything else has a default."""
    if not is_site_key(key):
        raise InvalidInput("key", "use 1-64 lower-case letters, digits, '-' or '_'")
    if changes.name is None:
        raise InvalidInput("name", "is required")
    with uow:
        if uow.session.scalars(sa.select(Site.id).where(Site.key == key)).first() is not None:
            raise Conflict(f"a site with key {key!r} exists already")
        site = Site(key=key, created_at=uow.now(), reactions=list(DEFAULT_REACTIONS))
        _apply(site, changes)
        uow.session.add(site)
        uow.sites_changed()  # a new site's origins and rules apply from this process's next request
        uow.commit()
        return site


def update_site(uow: UnitOfWork, key: str, changes: SiteChanges) -> Site:
    with uow:
        site = get_site(uow.session, key)
        badges = site.supporter_badges
        _apply(site, changes)
        if site.supporter_badges != badges:  # every comment's badge follows the setting
            uow.session.flush()
            refresh_flags(uow.session, site)
        uow.sites_changed()
        uow.commit()
        return site


def list_sites(uow: UnitOfWork) -> list[Site]:
    with uow:
        return list(uow.session.scalars(sa.select(Site).order_by(Site.key)))


def read_site(uow: UnitOfWork, key: str) -> Site:
    with uow:
        return get_site(uow.session, key)


def cached_settings(uow: UnitOfWork, key: str) -> CachedSettings:
    """:func:`public_settings` of the site with ``key`` as the thread cache keeps it: every
    widget load asks for them; a commit of this process empties the cache, another process's
    change shows within its life."""
    cache_key = ("site", key)
    cached = uow.thread_cache.get(cache_key)
    if isinstance(cached, CachedSettings):
        return cached
    generation = uow.thread_cache.generation()
    entry = CachedSettings(public_settings(read_site(uow, key)))
    uow.thread_cache.put(cache_key, entry, generation)
    return entry


def public_settings(site: Site) -> dict[str, Any]:
    """What the widget may know of a site: never the moderators' addresses."""
    return {
        "key": site.key,
        "name": site.name,
        "reactions": [dict(r) for r in site.reactions],
        "support": {"url": site.support_url, "text": site.support_call, "custom": bool(site.support_text)},
        "moderation": site.moderation,
        "edit_window_seconds": site.edit_window_seconds,
        "language": site.language,
        "languages": list(SHIPPED),
        "popular": {"enabled": site.popular, "title": site.popular_title},
        "sign_in": sign_in_settings(site),
    }


def sign_in_settings(site: Site) -> dict[str, Any]:
    """Whether readers may (or must) be signed in by the publisher's site; never its secret."""
    enabled = site.sso_secret is not None
    return {"enabled": enabled, "required": enabled and site.sso_required, "login_url": site.sso_login_url}


def _apply(site: Site, changes: SiteChanges) -> None:
    """Validate every given setting first, then set them all: a bad one changes nothing."""
    values: dict[str, Any] = {}
    for f in fields(changes):
        value = getattr(changes, f.name)
        if value is not None:
            values[f.name] = _VALIDATORS[f.name](value)
    for name, value in values.items():
        setattr(site, name, value)
    if site.sso_secret is None and site.sso_required:
        if changes.sso_secret is not None:  # removing the secret lets guests write again
            site.sso_required = False
        else:
            raise InvalidInput("sso_required", "a site can require sign-in only once it has a signing secret")


def _origins(values: Sequence[str]) -> list[str]:
    result = []
    for value in values:
        url = check.http_url("origins", value)
        result.append(url.rstrip("/"))
    return result


def _reactions(values: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    if not 1 <= len(values) <= 12:
        raise InvalidInput("reactions", "a site has 1 to 12 reactions")
    seen: set[str] = set()
    result = []
    for item in values:
        key, label = item.get("key", ""), item.get("label", "")
        if not REACTION_KEY.match(key) or key in seen:
            raise InvalidInput("reactions", f"bad or repeated reaction key {key!r}")
        seen.add(key)
        result.append({"key": key, "label": check.required_text("reactions", label, max_length=40)})
    return result


def _secret(value: str) -> str | None:
    """'' removes the secret (the webhook then answers 404); a secret is long enough to resist guessing."""
    if value == "":
        return None
    secret = check.single_line("patreon_webhook_secret", value, max_length=200)
    if secret is None or len(secret) < 16:
        raise InvalidInput("patreon_webhook_secret", "use at least 16 characters (Patreon gives 64)")
    return secret


def _language(value: str) -> str:
    """A publisher names the default explicitly: a tag we do not ship is refused, with the list."""
    locale = normalise(value)
    if locale is None:
        raise InvalidInput("language", f"use one of the shipped languages: {', '.join(SHIPPED)}")
    return locale


def _words(values: Sequence[str]) -> list[str]:
    return [w.strip().lower() for w in values if w.strip()]


_VALIDATORS: dict[str, Any] = {
    "name": lambda v: check.single_line("name", v, max_length=200),
    "origins": _origins,
    "moderation": lambda v: check.one_of("moderation", v, MODERATION_POLICIES),
    "moderator_emails": lambda vs: [check.email("moderator_emails", v) for v in vs],
    "edit_window_seconds": lambda v: check.integer("edit_window_seconds", v, minimum=0, maximum=7 * 86_400),
    "support_url": lambda v: check.http_url("support_url", v) if v else None,
    "support_text": lambda v: check.single_line("support_text", v, max_length=300, required=False),
    "banned_words": _words,
    "link_limit": lambda v: check.integer("link_limit", v, minimum=0, maximum=100),
    "reactions": _reactions,
    "digest_hour": lambda v: check.integer("digest_hour", v, minimum=0, maximum=23),
    "digest_weekday": lambda v: check.integer("digest_weekday", v, minimum=0, maximum=6),
    "timezone": lambda v: check.timezone("timezone", v),
    "language": _language,
    "supporter_thanks": lambda v: check.single_line("supporter_thanks", v, max_length=300, required=False),
    "supporter_badges": lambda v: check.boolean("supporter_badges", v),
    "patreon_webhook_secret": lambda v: _secret(v),
    "report_threshold": lambda v: check.integer("report_threshold", v, minimum=1, maximum=1000),
    "popular": lambda v: check.boolean("popular", v),
    "popular_title": lambda v: check.single_line("popular_title", v, max_length=100, required=False),
    "sso_secret": lambda v: check_secret("sso_secret", v) if v else None,
    "sso_required": lambda v: check.boolean("sso_required", v),
    "sso_login_url": lambda v: check.http_url("sso_login_url", v) if v else None,
}
