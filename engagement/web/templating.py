"""Jinja2 for the pages people see, and the small form parser those pages need."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from engagement.errors import EngagementError, InvalidInput
from engagement.i18n.catalogs import template_callables, with_i18n
from engagement.i18n.locales import choose, direction, from_accept_language, html_lang
from engagement.web.errors import status_for

TEMPLATES_DIR = Path(__file__).parent / "templates"
# Pages reached from a mail: never cached by a shared cache, since the URL carries a token.
NO_STORE = {"Cache-Control": "no-store"}

HTML_PAGE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "A page"},
}


def html_errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error pages a route may render."""
    return {
        status: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "An error page"}
        for status in statuses
    }


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=TEMPLATES_DIR)
    with_i18n(templates.env)
    return templates


def page_locale(request: Request, chosen: str | None = None) -> str:
    """A page's language: the one chosen for it (a subscriber's, a site's), else the browser's, else
    English."""
    return choose(chosen, from_accept_language(request.headers.get("accept-language")))


def path_for(request: Request, route: str, /, **params: str) -> str:
    """A route's path on this server, relative, so it holds behind any proxy."""
    root: str = request.scope.get("root_path", "")
    return root + str(request.app.url_path_for(route, **params))


def render(
    request: Request, name: str, status: int = 200, *, locale: str | None = None, **context: Any
) -> HTMLResponse:
    """``name`` in ``locale`` (see :func:`page_locale`), with ``lang`` and ``dir`` for its ``<html>``."""
    templates: Jinja2Templates = request.app.state.templates

    def path(route: str, /, **params: str) -> str:
        return path_for(request, route, **params)

    chosen = page_locale(request, locale)
    context = {
        "path": path,
        "locale": chosen,
        "lang": html_lang(chosen),
        "dir": direction(chosen),
        **template_callables(chosen, html=True),
        **context,
    }
    return templates.TemplateResponse(request, name, context, status_code=status, headers=NO_STORE)


def render_error(request: Request, exc: EngagementError, locale: str | None = None) -> HTMLResponse:
    return render(request, "error.html", status=status_for(exc), locale=locale, reason=exc.reason)


async def form_fields(request: Request) -> dict[str, str]:
    """The first value of each field of a url-encoded form (other bodies give no fields).

    One-click unsubscribe (RFC 8058) may post multipart or url-encoded bodies; it needs no
    field at all, so nothing here requires a multipart parser.
    """
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    raw = (await request.body()).decode("utf-8", "replace")
    try:
        parsed = parse_qs(raw, max_num_fields=20)
    except ValueError:
        raise InvalidInput("form", "has too many fields") from None
    return {key: values[0] for key, values in parsed.items()}
