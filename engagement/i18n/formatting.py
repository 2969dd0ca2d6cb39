"""Dates, periods and numbers as each locale writes them (Babel's CLDR data)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_interval, format_time, get_datetime_format, get_timezone_name
from babel.numbers import format_decimal

from engagement.i18n.locales import SHIPPED


def data_locale(locale: str) -> str:
    """The CLDR data a catalog's locale formats with: our English is British (``6 Dec 2026, 14:05``)."""
    return "en_GB" if locale == "en" else locale


def when(moment: datetime, zone: str | None, locale: str) -> str:
    """A moment in the site's time zone, to the minute: ``6 Dec 2026, 14:05 CET``, in each locale's order."""
    tz = ZoneInfo(zone or "UTC")
    local = moment.astimezone(tz)
    cldr = data_locale(locale)
    date = format_date(local, "medium", locale=cldr)
    time = format_time(local, "short", tzinfo=tz, locale=cldr)
    text = str(get_datetime_format("medium", locale=cldr)).replace("{1}", date).replace("{0}", time)
    abbreviation = local.tzname() or get_timezone_name(tz, "short", locale=cldr)
    return f"{text} {abbreviation}"


def day(moment: datetime, zone: str | None, locale: str) -> str:
    """A calendar day in the site's time zone, written long: ``6 December 2026``."""
    return format_date(moment.astimezone(ZoneInfo(zone or "UTC")), "long", locale=data_locale(locale))


def days(start: datetime, end: datetime, zone: str | None, locale: str) -> str:
    """A span of calendar days, ``30 Nov – 6 Dec 2026`` as the locale shortens it."""
    tz = ZoneInfo(zone or "UTC")
    return format_interval(
        start.astimezone(tz).date(), end.astimezone(tz).date(), "yMMMd", locale=data_locale(locale)
    )


def number(value: int | float, locale: str) -> str:
    """``12,345`` / ``12.345`` / ``١٢٬٣٤٥``: grouped as the locale groups."""
    return format_decimal(value, locale=data_locale(locale))


def language_names() -> list[tuple[str, str]]:
    """(locale, its own name for itself) of every shipped language: ``("de", "Deutsch")``."""
    names = []
    for locale in SHIPPED:
        name = Locale.parse(locale).get_display_name(locale) or locale
        names.append((locale, name[:1].upper() + name[1:]))
    return names
