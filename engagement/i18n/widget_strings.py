"""The widget's strings in one locale, as the JSON ``GET /api/v1/strings/{locale}`` serves.

Built from the same catalogs as mails and pages (``widget.json`` names the keys and their
English msgids). A plural becomes one text per CLDR category the locale uses (``one``,
``few``, ``many``, ``other``…), which the widget picks with ``Intl.PluralRules``: the
catalog's own plural rule decides which form each category gets.
"""

from __future__ import annotations

import functools
import gettext as gettext_module
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from babel import Locale

from engagement.i18n.catalogs import LOCALE_DIR, translations
from engagement.i18n.locales import direction, html_lang

WIDGET_KEYS = LOCALE_DIR / "widget.json"
# Integers tried when looking for a number of each CLDR category (Arabic's "many" starts at 11).
_SAMPLES = range(0, 1001)


@dataclass(frozen=True)
class StringsDocument:
    body: bytes
    etag: str


@functools.cache
def widget_keys() -> dict[str, Any]:
    """key → msgid, or [singular, plural], as extraction wrote them."""
    keys: dict[str, Any] = json.loads(WIDGET_KEYS.read_text("utf-8"))
    return keys


@functools.cache
def strings_document(locale: str) -> StringsDocument:
    """The widget's strings in a shipped ``locale``: built once per process, with its ETag."""
    catalog = translations(locale)
    samples = plural_samples(locale)
    strings: dict[str, Any] = {}
    for key, msgid in widget_keys().items():
        if isinstance(msgid, list):
            singular, plural = msgid
            strings[key] = {cat: catalog.ngettext(singular, plural, n) for cat, n in samples.items()}
        else:
            strings[key] = catalog.gettext(msgid)
    document = {"locale": html_lang(locale), "dir": direction(locale), "strings": strings}
    body = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    return StringsDocument(body=body, etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"')


@functools.cache
def plural_samples(locale: str) -> dict[str, int]:
    """A whole number for each CLDR plural category of ``locale`` (``other`` always present)."""
    rule = Locale.parse(locale).plural_form
    found: dict[str, int] = {}
    for n in _SAMPLES:
        found.setdefault(rule(n), n)
    if "other" not in found:
        # Polish's "other" is for fractions alone: the widget counts whole things, so it
        # reads as "many" (5 komentarzy), the form most numbers take.
        found["other"] = found.get("many", max(found.values()))
    return found


def plural_index(expression: str, n: int) -> int:
    """Which of a catalog's forms gettext picks for ``n`` (tests compare it with CLDR)."""
    return int(gettext_module.c2py(expression)(n))
