"""Render an e-mail's three parts (subject, text, HTML) from ``templates/emails/<name>/``."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import css_inline
import structlog
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import escape

from engagement.i18n.catalogs import template_callables, with_i18n
from engagement.i18n.locales import DEFAULT, direction, html_lang
from engagement.mail.templates import SHIPPED, TEMPLATES, describe_error, search_path

log = structlog.get_logger(__name__)
TEMPLATE_DIR = SHIPPED

# What differs between the recipients of one mail: rendered once with stand-ins, swapped after.
PERSONAL = (
    "recipient",
    "unsubscribe_url",
    "preferences_url",
    "confirm_url",
    "approve_url",
    "reject_url",
    "spam_url",
)
CACHE_SIZE = 256


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


class MailRenderer:
    """One renderer builds all three parts; services supply only the context.

    The plain-text part is written by hand in ``body.txt`` (not derived from the HTML), and
    the HTML part's ``<style>`` is inlined, since many mail clients drop style sheets.
    """

    def __init__(self, overrides: Path | None = None) -> None:
        self._overrides = overrides
        self._shipped = _Templates([SHIPPED])
        self._by_site: dict[str | None, _Templates] = {}
        self._inliner = css_inline.CSSInliner(keep_style_tags=False)
        self._cache: OrderedDict[str, RenderedMail] = OrderedDict()
        self._lock = threading.Lock()

    def render(self, name: str, context: Mapping[str, Any]) -> RenderedMail:
        """The three parts; a mail sent to thousands is rendered and inlined once, not each time.

        The recipient's own values (address, signed links) are rendered as stand-ins and put
        in place afterwards, so the shared rendering can be reused for the next recipient.
        """
        if name not in TEMPLATES:
            raise ValueError(f"unknown e-mail template {name!r}")
        personal = {k: str(context[k]) for k in PERSONAL if context.get(k)}
        shared = {**context, **{k: _stand_in(k) for k in personal}}
        key = name + json.dumps(shared, sort_keys=True, default=str)
        with self._lock:
            parts = self._cache.get(key)
            if parts is not None:
                self._cache.move_to_end(key)
        if parts is None:
            parts = self._render(name, shared)
            with self._lock:
                self._cache[key] = parts
                if len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        return RenderedMail(
            subject=_fill(parts.subject, personal, html=False),
            text=_fill(parts.text, personal, html=False),
            html=_fill(parts.html, personal, html=True),
        )

    def _render(self, name: str, context: Mapping[str, Any]) -> RenderedMail:
        """Render with the publisher's templates; one that fails falls back to the shipped ones.

        An override with a typo must not lose the mail: the shipped templates render it, and
        the log says which file failed and why.
        """
        site = _site_key(context)
        templates = self.templates_for(site)
        if templates is self._shipped:
            return self.render_with(templates, name, context)
        try:
            return self.render_with(templates, name, context)
        except Exception as exc:  # any error in a publisher's template falls back
            log.warning(
                "mail.template_fallback",
                template=name,
                site=site,
                error=describe_error(exc),
                fallback="shipped",
            )
            return self.render_with(self._shipped, name, context)

    def templates_for(self, site: str | None) -> _Templates:
        """The templates one site's mail is rendered with (the shipped ones when none is overridden)."""
        if self._overrides is None:
            return self._shipped
        with self._lock:
            templates = self._by_site.get(site)
            if templates is None:
                templates = self._by_site[site] = _Templates(search_path(self._overrides, site))
        return templates

    def render_with(self, templates: _Templates, name: str, context: Mapping[str, Any]) -> RenderedMail:
        """The three parts from one set of templates, errors and all (``engagement templates check``).

        ``context["locale"]`` (a shipped locale; English when absent) picks the catalog that
        ``{% trans %}`` reads, and gives the HTML its ``lang`` and ``dir``.
        """
        locale = str(context.get("locale") or DEFAULT)
        common = {**context, "locale": locale, "lang": html_lang(locale), "dir": direction(locale)}
        text_context = {**common, **template_callables(locale, html=False)}
        html_context = {**common, **template_callables(locale, html=True)}
        subject = templates.text.get_template(f"{name}/subject.txt").render(text_context)
        text = templates.text.get_template(f"{name}/body.txt").render(text_context)
        html = templates.html.get_template(f"{name}/body.html").render(html_context)
        return RenderedMail(
            subject=" ".join(subject.split()),
            text=text.strip() + "\n",
            html=self._inliner.inline(html),
        )


class _Templates:
    """The text and HTML environments over one search path of template folders."""

    def __init__(self, folders: list[Path]) -> None:
        options: dict[str, Any] = {
            "loader": FileSystemLoader([str(folder) for folder in folders]),
            "undefined": StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
        }
        self.folders = folders
        self.text = Environment(autoescape=False, keep_trailing_newline=True, **options)  # noqa: S701 -- plain text, never HTML
        self.html = Environment(autoescape=True, **options)
        for env in (self.text, self.html):
            with_i18n(env)


def _site_key(context: Mapping[str, Any]) -> str | None:
    site = context.get("site")
    key = site.get("key") if isinstance(site, Mapping) else None
    return key if isinstance(key, str) else None


def _stand_in(name: str) -> str:
    return f"engagementpersonal{name.replace('_', '')}x"


def _fill(text: str, personal: Mapping[str, str], *, html: bool) -> str:
    for name, value in personal.items():
        text = text.replace(_stand_in(name), str(escape(value)) if html else value)
    return text
