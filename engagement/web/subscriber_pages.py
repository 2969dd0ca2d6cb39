"""The pages readers reach from their mails: confirm, one-click unsubscribe, preferences.

Each GET only shows a page with a button, so a link scanner opening the mail changes nothing;
each POST acts. ``POST /s/unsubscribe/<token>`` is the RFC 8058 one-click target: it acts on
any body (``List-Unsubscribe=One-Click``, url-encoded or multipart) and needs no CSRF token,
since the signed token in the URL is the whole permission.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from engagement.errors import EngagementError
from engagement.services.audience.optouts import read_unsubscribe_link, unsubscribe_by_link
from engagement.services.audience.preferences import preferences, set_digest_cadence
from engagement.services.audience.subscriptions import confirm_subscriber, confirming_locale
from engagement.web.deps import CoreDep, Uow
from engagement.web.errors import responses
from engagement.web.templating import HTML_PAGE, form_fields, html_errors, path_for, render, render_error

router = APIRouter(prefix="/s", tags=["subscriber pages"], responses=responses(503))
PAGE_RESPONSES = {**HTML_PAGE, **html_errors(403, 404)}
ACTION_RESPONSES = {**HTML_PAGE, **html_errors(403, 404, 422), **responses(413)}
REDIRECT: dict[int | str, dict[str, Any]] = {303: {"description": "Back to the preferences page"}}


@router.get("/confirm/{token}", response_class=HTMLResponse, responses=PAGE_RESPONSES)
def confirm_page(token: str, request: Request, uow: Uow) -> HTMLResponse:
    """A button that confirms the address (a scanner fetching the link confirms nothing)."""
    try:
        locale = confirming_locale(uow, token)
    except EngagementError as exc:
        return render_error(request, exc)
    return render(request, "confirm.html", locale=locale, token=token)


@router.post("/confirm/{token}", response_class=HTMLResponse, responses=ACTION_RESPONSES)
def confirm_action(token: str, request: Request, uow: Uow) -> HTMLResponse:
    return _page(request, "confirmed.html", partial(confirm_subscriber, uow, token))


@router.get("/unsubscribe/{token}", response_class=HTMLResponse, responses=PAGE_RESPONSES)
def unsubscribe_page(token: str, request: Request, core: CoreDep) -> HTMLResponse:
    """A button that unsubscribes; mail clients use the one-click POST instead."""
    read = partial(read_unsubscribe_link, core.keys, token)
    return _page(request, "unsubscribe.html", read, token=token)


@router.post("/unsubscribe/{token}", response_class=HTMLResponse, responses={**ACTION_RESPONSES, **REDIRECT})
async def unsubscribe_action(token: str, request: Request, uow: Uow) -> Response:
    """Unsubscribe at once (RFC 8058 one-click); from the preferences page, go back to it.

    The same link ends moderation mails (a moderator's token) or approval notices (an author's).
    """
    try:
        fields = await form_fields(request)
        result = await run_in_threadpool(unsubscribe_by_link, uow, token)
    except EngagementError as exc:
        return render_error(request, exc)
    back = fields.get("preferences")
    if back:
        return _back_to_preferences(request, back, "removed")
    return render(request, "unsubscribed.html", locale=result.locale, result=result)


@router.get("/preferences/{token}", response_class=HTMLResponse, responses=PAGE_RESPONSES)
def preferences_page(token: str, request: Request, uow: Uow) -> HTMLResponse:
    """What the subscriber receives: digest cadence, each subscription, everything off."""
    done = request.query_params.get("done")
    return _page(request, "preferences.html", partial(preferences, uow, token), token=token, done=done)


@router.post("/preferences/{token}", response_class=HTMLResponse, responses={**ACTION_RESPONSES, **REDIRECT})
async def preferences_action(token: str, request: Request, uow: Uow) -> Response:
    """Set the digest cadence (``daily``, ``weekly`` or ``off``)."""
    try:
        fields = await form_fields(request)
        cadence = fields.get("cadence", "")
        await run_in_threadpool(set_digest_cadence, uow, token, None if cadence == "off" else cadence)
    except EngagementError as exc:
        return render_error(request, exc)
    return _back_to_preferences(request, token, "saved")


def _page(request: Request, template: str, read: Callable[[], object], **context: Any) -> HTMLResponse:
    """``template`` showing what ``read()`` returns as ``result``, or the page for its error."""
    try:
        result = read()
    except EngagementError as exc:
        return render_error(request, exc)
    locale = getattr(result, "locale", None)  # the subscriber's language, once the token named them
    return render(request, template, locale=locale, result=result, **context)


def _back_to_preferences(request: Request, token: str, done: str) -> RedirectResponse:
    url = path_for(request, "preferences_page", token=token) + f"?done={done}"
    return RedirectResponse(url, status_code=303)
