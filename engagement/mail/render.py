"""Render an e-mail's three parts (subject, text, HTML) from ``templates/emails/<name>/``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "emails"
TEMPLATES = (
    "confirm_subscription",
    "thread_notification",
    "reply_notification",
    "moderation_request",
    "comment_approved",
    "digest",
)


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

    def render(self, name: str, context: Mapping[str, Any]) -> RenderedMail:
        if name not in TEMPLATES:
            raise ValueError(f"unknown e-mail template {name!r}")
        subject = self._text.get_template(f"{name}/subject.txt").render(context)
        text = self._text.get_template(f"{name}/body.txt").render(context)
        html = self._html.get_template(f"{name}/body.html").render(context)
        return RenderedMail(
            subject=" ".join(subject.split()),
            text=text.strip() + "\n",
            html=self._inliner.inline(html),
        )
