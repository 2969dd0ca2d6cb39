"""Extraction and catalog upkeep: ``engagement i18n extract|compile|check`` (``make messages``).

Messages come from our Python (``translate``, ``translate_plural``), the Jinja2 templates of
mails and pages (``{% trans %}``, ``_()``) and the widget's ``STRINGS`` (its English
defaults, one ``key: "text"`` a line; ``"one|many"`` with ``{n}`` is a plural). Extraction
writes ``messages.pot``, merges it into every ``.po`` (new entries empty, nothing fuzzy), and
writes ``widget.json``, the widget's keys and msgids that ``/api/v1/strings`` translates.

A language's ``compendium.po`` (gettext's translation memory, beside its ``messages.po``)
holds translations made ahead of the code that will say them: a new message found there is
filled in when it first appears, so merging a feature needs only ``make messages``.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from engagement.i18n.catalogs import DOMAIN, KEYWORDS, LOCALE_DIR, mo_path, po_path
from engagement.i18n.locales import DEFAULT, SHIPPED

POT = LOCALE_DIR / f"{DOMAIN}.pot"
WIDGET_KEYS = LOCALE_DIR / "widget.json"
# Fixed, so that extracting twice writes the same files (the catalogs live in git).
STAMP = datetime(2026, 12, 6, tzinfo=UTC)
PROJECT = "engagement"
JINJA = "jinja2.ext:babel_extract"
JINJA_OPTIONS = {"trimmed": "true", "extensions": ""}
METHODS = [
    ("engagement/migrations/**.py", "ignore"),
    ("engagement/**.py", "python"),
    ("workers/**.py", "python"),
    ("templates/emails/**.txt", JINJA),
    ("templates/emails/**.html", JINJA),
    ("engagement/web/templates/**.html", JINJA),
]
# The widget's English strings: the `STRINGS = {…};` table of widget/src/strings.js, and any
# `defineStrings({…});` literal a feature module adds its own keys with.
WIDGET_SOURCES = "widget/src"
# count.js (listing pages' counts) is a script of its own; its phrases are widget strings too.
OTHER_SCRIPTS = ("engagement/web/static/count.js",)
_WIDGET_BLOCK = re.compile(r"(?:\bSTRINGS\s*=\s*|\bdefineStrings\(\s*)\{")
_WIDGET_ENTRY = re.compile(r'(?P<key>\w+)\s*:\s*(?P<text>"(?:[^"\\\n]|\\.)*")')
SKIPPED_DIRECTORIES = frozenset({"__pycache__", "node_modules", "build", "dist"})
NOT_TRANSLATED = frozenset({"locale"})  # the widget's own locale tag, not a text


@dataclass(frozen=True)
class WidgetString:
    key: str
    singular: str
    plural: str | None
    path: str
    line: int


def widget_strings(root: Path) -> list[WidgetString]:
    """Every English string of the widget's modules under ``root``, in file and line order."""
    folder = root / WIDGET_SOURCES
    found: list[WidgetString] = []
    modules = sorted(folder.rglob("*.js")) + [root / p for p in OTHER_SCRIPTS if (root / p).is_file()]
    for module in modules:
        text = module.read_text(encoding="utf-8")
        where = module.relative_to(root).as_posix()
        for block in _WIDGET_BLOCK.finditer(text):
            start = block.end()
            body = text[start : _closing_brace(text, start)]
            for entry in _WIDGET_ENTRY.finditer(body):
                if entry["key"] in NOT_TRANSLATED:
                    continue
                value: str = json.loads(entry["text"])
                one, bar, many = value.partition("|")
                plural = bar and "{n}" in value
                singular, other = (one, many) if plural else (value, None)
                line = text.count("\n", 0, start + entry.start()) + 1
                found.append(WidgetString(entry["key"], singular, other, where, line))
    if not found:
        raise ValueError(f"no widget strings under {folder}: looked for `STRINGS = {{ … }};`")
    return found


def _closing_brace(text: str, start: int) -> int:
    """Where the object literal opened just before ``start`` closes (braces in strings skipped)."""
    depth, quote, i = 1, "", start
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char in "\"'`":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError("an unclosed `{` in the widget's strings")


def extract(root: Path) -> tuple[Catalog, list[WidgetString]]:
    """A fresh template catalog of every message in the checkout at ``root``."""
    catalog = Catalog(project=PROJECT, creation_date=STAMP, revision_date=STAMP, fuzzy=False)
    keywords: dict[str, Any] = {**DEFAULT_KEYWORDS, **KEYWORDS}
    options = {pattern: JINJA_OPTIONS for pattern, method in METHODS if method == JINJA}
    for filename, lineno, message, comments, context in extract_from_dir(
        str(root),
        METHODS,
        options,
        keywords,
        comment_tags=("Translators:",),
        strip_comment_tags=True,
        directory_filter=_wanted_directory,
    ):
        catalog.add(message, locations=[(filename, lineno)], auto_comments=comments, context=context)
    strings = widget_strings(root)
    for item in strings:
        note = f"widget: {item.key}" + ("; keep each `key=` as it is" if item.key == "reasons" else "")
        msgid: Any = (item.singular, item.plural) if item.plural else item.singular
        existing = catalog.get(item.singular)
        if existing is None:
            catalog.add(msgid, locations=[(item.path, item.line)], auto_comments=[note])
        else:
            existing.locations.append((item.path, item.line))
            existing.auto_comments.append(note)
    return catalog, strings


def _wanted_directory(path: str) -> bool:
    """Babel skips folders starting with ``_`` by default: the mails' ``_base`` must be read."""
    name = Path(path).name
    return not name.startswith(".") and name not in SKIPPED_DIRECTORIES


def widget_keys(strings: list[WidgetString]) -> dict[str, Any]:
    """key → msgid, or [singular, plural]: what ``/api/v1/strings`` translates."""
    return {s.key: [s.singular, s.plural] if s.plural else s.singular for s in strings}


def update(root: Path) -> list[Path]:
    """Extract, then merge into every catalog; the files written."""
    template, strings = extract(root)
    LOCALE_DIR.mkdir(parents=True, exist_ok=True)
    with POT.open("wb") as fp:
        write_po(fp, template, width=100, sort_by_file=True)
    written = [POT]
    WIDGET_KEYS.write_text(json.dumps(widget_keys(strings), ensure_ascii=False, indent=1) + "\n", "utf-8")
    written.append(WIDGET_KEYS)
    for locale in SHIPPED:
        if locale == DEFAULT:
            continue
        path = po_path(locale)
        catalog = _read(path, locale) if path.is_file() else _new(locale)
        # A copy each time: new messages join the catalog as the template's own objects.
        catalog.update(copy.deepcopy(template), no_fuzzy_matching=True, update_creation_date=False)
        catalog.obsolete.clear()  # what the code no longer says leaves the catalog too
        memory = compendium_path(locale)
        if memory.is_file():
            _fill_from(catalog, _read(memory, locale))
        catalog.revision_date = STAMP
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fp:
            write_po(fp, catalog, width=100, no_location=True, sort_output=True)
        written.append(path)
    return written


def compendium_path(locale: str) -> Path:
    return po_path(locale).with_name("compendium.po")


def _fill_from(catalog: Catalog, memory: Catalog) -> None:
    """Give each untranslated message the compendium's translation of the same msgid, if complete."""
    for message in catalog:
        if not message.id or _translated(message.string):
            continue
        known = memory.get(message.id, context=message.context)
        if (
            known is not None
            and known.id == message.id
            and not known.fuzzy
            and _translated(known.string)
            and (not message.pluralizable or len(tuple(known.string or ())) == catalog.num_plurals)
        ):
            message.string = known.string


def _translated(value: Any) -> bool:
    strings = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    return bool(strings) and all(strings)


def compile_all() -> list[Path]:
    """Every ``.po`` to its ``.mo`` (the build step; the server compiles a missing one itself)."""
    written = []
    for locale in SHIPPED:
        if locale == DEFAULT:
            continue
        catalog = _read(po_path(locale), locale)
        with mo_path(locale).open("wb") as fp:
            write_mo(fp, catalog)
        written.append(mo_path(locale))
    return written


def problems(root: Path | None = None) -> Iterator[str]:
    """Everything wrong with the catalogs: out-of-date extraction, missing, fuzzy or broken entries.

    ``root`` (a checkout) adds the extraction check; an installed package checks its catalogs only.
    """
    with POT.open("rb") as fp:
        template = read_po(fp)
    expected = _ids(template)
    if root is not None:
        fresh, strings = extract(root)
        if _ids(fresh) != expected:
            added = sorted(map(str, _ids(fresh) - expected))
            gone = sorted(map(str, expected - _ids(fresh)))
            yield f"{POT.name} is out of date (run `make messages`): new {added[:5]}, gone {gone[:5]}"
        if json.loads(WIDGET_KEYS.read_text("utf-8")) != widget_keys(strings):
            yield f"{WIDGET_KEYS.name} is out of date (run `make messages`)"
    for locale in SHIPPED:
        if locale != DEFAULT:
            yield from _locale_problems(locale, expected)


def _locale_problems(locale: str, expected: set[Any]) -> Iterator[str]:
    path = po_path(locale)
    if not path.is_file():
        yield f"{locale}: no catalog at {path}"
        return
    catalog = _read(path, locale)
    if _ids(catalog) != expected:
        yield f"{locale}: catalog does not match {POT.name} (run `make messages`)"
    for message in catalog:
        if not message.id:
            continue
        name = f"{locale}: {message.id!r}"
        if message.fuzzy:
            yield f"{name} is fuzzy"
        strings: tuple[str, ...] = (
            tuple(message.string)
            if isinstance(message.string, (tuple, list))
            else (str(message.string or ""),)
        )
        if not all(strings):
            yield f"{name} is not translated"
        elif message.pluralizable and len(strings) != catalog.num_plurals:
            yield f"{name} has {len(strings)} plural forms, {locale} needs {catalog.num_plurals}"
        for error in message.check(catalog):
            yield f"{name}: {error}"
        yield from _placeholders(name, message.id, strings)


def _placeholders(name: str, msgid: Any, strings: tuple[str, ...]) -> Iterator[str]:
    """The widget's ``{name}`` placeholders survive translation (Babel checks ``%(name)s``)."""
    ids = msgid if isinstance(msgid, tuple) else (msgid,)
    wanted = set(re.findall(r"\{\w+\}", ids[-1]))
    for text in strings:
        have = set(re.findall(r"\{\w+\}", text))
        # A singular form may say "one" in words instead of {n}; no other placeholder may go.
        if not have <= wanted or not (wanted - {"{n}"}) <= have:
            yield f"{name}: placeholders {sorted(have)} differ from {sorted(wanted)}"


def _ids(catalog: Catalog) -> set[Any]:
    return {(m.id, m.context) for m in catalog if m.id}


def _new(locale: str) -> Catalog:
    return Catalog(locale=locale, project=PROJECT, creation_date=STAMP, revision_date=STAMP, fuzzy=False)


def _read(path: Path, locale: str) -> Catalog:
    with path.open("rb") as fp:
        return read_po(fp, locale=locale)
