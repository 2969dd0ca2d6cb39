"""A site's rules (moderation, banned words, link limit, reactions, bans), read once per process.

Posting a comment and reacting need them on every request, and they change rarely: each web
process keeps them in its site cache (a :class:`~engagement.thread_cache.TimedCache` living
``ENGAGEMENT_THREAD_CACHE_SECONDS``). A commit of this process that changes a site or its bans
empties it (:meth:`UnitOfWork.sites_changed`), so its own changes apply at once; another
process's (the CLI's ban, a second web process) apply within the cache's life.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlalchemy as sa

from engagement.errors import Banned, SiteNotFound
from engagement.models import Ban, Site
from engagement.services.sites import is_site_key

if TYPE_CHECKING:
    from engagement.uow import UnitOfWork

_sites = Site.__table__.c
_bans = Ban.__table__.c

# The site and its bans in one statement: one row per ban, or one with NULLs without any.
_RULES = (
    sa.select(
        _sites.id,
        _sites.moderation,
        _sites.banned_words,
        _sites.link_limit,
        _sites.supporter_badges,
        _sites.reactions,
        _sites.language,
        _sites.sso_secret,
        _sites.sso_required,
        _bans.email,
        _bans.reader_hash,
    )
    .select_from(Site.__table__)
    .outerjoin(Ban.__table__, _bans.site_id == _sites.id)
    .where(_sites.key == sa.bindparam("key"))
)


@dataclass(frozen=True)
class SiteRules:
    """What a comment or a reaction is checked against; never changed once read."""

    id: int
    key: str
    moderation: str
    banned_words: tuple[str, ...]
    link_limit: int
    supporter_badges: bool
    reaction_keys: tuple[str, ...]
    banned_emails: frozenset[str]
    banned_readers: frozenset[str]
    language: str = "en"  # the site's default, for the pages the server renders
    # Sign-in from the publisher's site: the secret its tokens are signed with (never shown),
    # and whether guests may still write.
    sso_secret: str | None = field(default=None, repr=False)
    sso_required: bool = False

    @property
    def rows(self) -> int:
        return 1  # one entry, whatever its number of bans: the cache's row limit is for threads

    def refuse_banned(self, email: str | None, reader: str | None) -> None:
        """Raise Banned when the address or the reader is banned on the site."""
        if (email and email in self.banned_emails) or (reader and reader in self.banned_readers):
            raise Banned("you may not comment on this site")


def site_rules(uow: UnitOfWork, key: str) -> SiteRules:
    """The rules of the site with ``key`` (inside ``with uow``), from the cache or one statement.

    A key no site could have is refused before any query, as :func:`~engagement.services.sites.get_site` does.
    """
    if not is_site_key(key):
        raise SiteNotFound(f"no site with key {key!r}")
    cache = uow.site_cache
    rules = cache.get(key)
    if rules is not None:
        return rules
    generation = cache.generation()
    rows = uow.session.execute(_RULES, {"key": key}).all()
    if not rows:
        raise SiteNotFound(f"no site with key {key!r}")
    site = rows[0]
    rules = SiteRules(
        id=site.id,
        key=key,
        moderation=site.moderation,
        banned_words=tuple(site.banned_words or ()),
        link_limit=site.link_limit,
        supporter_badges=bool(site.supporter_badges),
        reaction_keys=tuple(str(r["key"]) for r in site.reactions),
        banned_emails=frozenset(row.email for row in rows if row.email),
        banned_readers=frozenset(row.reader_hash for row in rows if row.reader_hash),
        language=site.language or "en",
        sso_secret=site.sso_secret,
        sso_required=bool(site.sso_required),
    )
    cache.put(key, rules, generation)
    return rules
