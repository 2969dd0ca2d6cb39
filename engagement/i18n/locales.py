"""The shipped locales, and how a BCP 47 tag or an Accept-Language header finds one of them."""

from __future__ import annotations

import re

# Catalog names (gettext's underscore form); the first is the source language of every msgid.
SHIPPED = ("en", "de", "fr", "es", "it", "pt_BR", "nl", "pl", "ar")
DEFAULT = "en"
RTL = frozenset({"ar"})
# A language asked for without a region, or with one we do not ship, falls back to this one.
_BY_LANGUAGE = {locale.split("_")[0]: locale for locale in SHIPPED}
_TAG = re.compile(r"^[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8})*$")
_MAX_ACCEPT_ITEMS = 20


def normalise(tag: object) -> str | None:
    """The shipped locale a BCP 47 tag (``de-AT``, ``pt-br``, ``pt_BR``, ``AR``) stands for, or None.

    An exact language-and-region match wins (``pt-BR`` → ``pt_BR``); otherwise the language
    alone (``de-CH`` → ``de``, ``pt-PT`` → ``pt_BR``). Anything that is not a tag gives None.
    """
    if not isinstance(tag, str) or len(tag) > 35 or not _TAG.fullmatch(tag.strip()):
        return None
    parts = tag.strip().replace("_", "-").split("-")
    language = parts[0].lower()
    for part in parts[1:]:
        candidate = f"{language}_{part.upper()}"
        if len(part) == 2 and candidate in SHIPPED:
            return candidate
    return _BY_LANGUAGE.get(language)


def choose(*candidates: object, default: str = DEFAULT) -> str:
    """The first candidate that names a shipped locale; ``default`` when none does (never an error)."""
    for candidate in candidates:
        locale = normalise(candidate)
        if locale is not None:
            return locale
    return normalise(default) or DEFAULT


def from_accept_language(header: str | None) -> str | None:
    """The shipped locale a browser's Accept-Language header prefers most, or None."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:_MAX_ACCEPT_ITEMS]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        locale = normalise(tag)
        if locale is not None and quality > 0:
            ranked.append((-quality, position, locale))
    return min(ranked)[2] if ranked else None


def direction(locale: str) -> str:
    """``rtl`` for a right-to-left language, ``ltr`` otherwise (for ``dir=""``)."""
    return "rtl" if locale.split("_")[0] in RTL else "ltr"


def html_lang(locale: str) -> str:
    """The BCP 47 form for ``lang=""`` and ``Intl``: ``pt_BR`` → ``pt-BR``."""
    return locale.replace("_", "-")
