"""The language a server-rendered thread speaks: the page's choice, else the browser's, else the site's."""

from __future__ import annotations

from engagement.i18n.locales import choose, normalise
from engagement.services.site_cache import site_rules
from engagement.uow import UnitOfWork


def thread_locale(uow: UnitOfWork, site_key: str, asked: str | None, browser: str | None = None) -> str:
    """A shipped locale for ``site_key``'s thread page, chosen as the widget chooses; a language we
    do not ship is never an error.

    ``asked`` is the page's own (``lang=``, as ``data-lang`` for the widget), ``browser`` the
    reader's (a shipped locale or None); without either, the site's default (from the site cache).
    """
    chosen = normalise(asked) or normalise(browser)
    if chosen is not None:
        return chosen
    with uow:
        return choose(site_rules(uow, site_key).language)
