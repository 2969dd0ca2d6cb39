"""The gettext catalogs shipped in ``engagement/locale``: loaded once per process per locale.

``make messages`` (``engagement i18n compile``) writes the ``.mo`` files at build time; a
checkout without them still works, since a missing or older ``.mo`` is compiled from its
``.po`` in memory on first use.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import Environment
from markupsafe import Markup

from engagement.i18n.locales import DEFAULT, SHIPPED

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"


@functools.cache
def translations(locale: str) -> NullTranslations:
    """The catalog of a shipped locale (English is the msgids themselves)."""
    if locale == DEFAULT or locale not in SHIPPED:
        return NullTranslations()
    po, mo = po_path(locale), mo_path(locale)
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fp:
            return Translations(fp, domain=DOMAIN)
    if not po.is_file():
        return NullTranslations()
    with po.open("rb") as fp:
        catalog = read_po(fp, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def translate(locale: str, message: str, **variables: Any) -> str:
    """``message`` in ``locale``, with ``%(name)s`` placeholders filled (extracted as a keyword)."""
    text = translations(locale).gettext(message)
    return text % variables if variables else text


def translate_plural(locale: str, singular: str, plural: str, n: int, **variables: Any) -> str:
    """The plural form of ``locale`` for ``n`` (``%(num)s`` is ``n``, formatted)."""
    text = translations(locale).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


# What extraction looks for in our Python code (besides gettext's usual names): the message
# is the second argument, after the locale.
KEYWORDS = {"translate": (2,), "translate_plural": (2, 3)}


def template_callables(locale: str, *, html: bool) -> dict[str, Callable[..., str]]:
    """``gettext``, ``ngettext`` and ``_`` for Jinja2's i18n extension (new style), in ``locale``.

    Passed in each render's context rather than installed on the environment, so one
    environment serves every language at once. In HTML the translation is trusted markup
    (translators write text, Jinja escapes the variables), and ``%`` always formats, as in
    Jinja's own new-style calls (a literal percent sign is ``%%`` in a msgid).
    """
    catalog = translations(locale)

    def _gettext(message: str, **variables: Any) -> str:
        text = catalog.gettext(message)
        return (Markup(text) if html else text) % variables  # noqa: S704 -- our catalogs, as Jinja trusts them

    def _ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
        text = catalog.ngettext(singular, plural, num)
        values = {"num": num, **variables}
        return Markup(text) % values if html else text % values  # noqa: S704 -- our catalogs, as Jinja trusts them

    return {"gettext": _gettext, "ngettext": _ngettext, "_": _gettext}


def with_i18n(env: Environment) -> Environment:
    """Jinja2's ``{% trans %}`` on ``env``: new-style gettext, whitespace trimmed as extracted.

    The catalog's callables come with each render's context (``template_callables``); the
    null ones installed here only serve a template rendered without them.
    """
    env.add_extension("jinja2.ext.i18n")
    env.policies["ext.i18n.trimmed"] = True
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    return env
