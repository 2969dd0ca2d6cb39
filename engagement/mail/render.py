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
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import escape


def shipped_templates() -> Path:
    """The shipped ``templates/`` folder: inside the installed package, or atop a checkout."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "templates"
    return installed if installed.is_dir() else package.parent / "templates"


TEMPLATE_DIR = shipped_templates() / "emails"
TEMPLATES = (
    "confirm_subscription",
    "thread_notification",
    "reply_notification",
    "moderation_request",
    "comment_approved",
    "digest",
)

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

    def __init__(self, template_dir: Path = TEMPLATE_DIR) -> None:
        loader = FileSystemLoader(str(template_dir))
        options: dict[str, Any] = {
            "loader": loader,
            "undefined": StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
        }
        self._text = Environment(autoescape=False, keep_trailing_newline=True, **options)  # noqa: S701 -- plain text, never HTML
        self._html = Environment(autoescape=True, **options)
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
        subject = self._text.get_template(f"{name}/subject.txt").render(context)
        text = self._text.get_template(f"{name}/body.txt").render(context)
        html = self._html.get_template(f"{name}/body.html").render(context)
        return RenderedMail(
            subject=" ".join(subject.split()),
            text=text.strip() + "\n",
            html=self._inliner.inline(html),
        )


def _stand_in(name: str) -> str:
    return f"engagementpersonal{name.replace('_', '')}x"


def _fill(text: str, personal: Mapping[str, str], *, html: bool) -> str:
    for name, value in personal.items():
        text = text.replace(_stand_in(name), str(escape(value)) if html else value)
    return text
