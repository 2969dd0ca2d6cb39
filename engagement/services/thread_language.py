"""The language a server-rendered thread speaks: the page's choice, else the browser's, else the site's."""

from __future__ import annotations

import sqlalchemy as sa

from engagement.i18n.locales import choose, normalise
from engagement.models import Site
from engagement.services.sites import is_site_key
from engagement.uow import UnitOfWork

_LANGUAGE = sa.select(Site.language).where(Site.key == sa.bindparam("key"))


def thread_locale(uow: UnitOfWork, site_key: str, asked: str | None, browser: str | None = None) -> str:
    """A shipped locale for ``site_key``'s thread page, chosen as the widget chooses; a language we
    do not ship is never an error.

    ``asked`` is the page's own (``lang=``, as ``data-lang`` for the widget), ``browser`` the
    reader's (a shipped locale or None); without either, the site's default language (one statement).
    """
    chosen = normalise(asked) or normalise(browser)
    if chosen is not None:
        return chosen
    site_language = None
    if is_site_key(site_key):
        with uow.reading() as connection:
            site_language = connection.execute(_LANGUAGE, {"key": site_key}).scalar_one_or_none()
    return choose(site_language)
