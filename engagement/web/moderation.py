"""/m/<token>: the page a moderation mail links to. GET shows the comment and a button; POST acts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from engagement.errors import EngagementError
from engagement.i18n.reasons import moderation_reason
from engagement.services.discussion.moderation import moderate_by_token
from engagement.services.discussion.moderation_links import read_moderation_link
from engagement.web.deps import Uow
from engagement.web.errors import responses
from engagement.web.templating import HTML_PAGE, html_errors, render, render_error

router = APIRouter(tags=["moderation pages"], responses=responses(503))


@router.get("/m/{token}", response_class=HTMLResponse, responses={**HTML_PAGE, **html_errors(403, 404)})
def moderation_page(token: str, request: Request, uow: Uow) -> HTMLResponse:
    """The comment, why it waits, and one button for the link's action (a scanner changes nothing)."""
    try:
        link = read_moderation_link(uow, token)
    except EngagementError as exc:
        return render_error(request, exc)
    return render(request, "moderate.html", locale=link.locale, link=link, reason_text=moderation_reason)


@router.post("/m/{token}", response_class=HTMLResponse, responses={**HTML_PAGE, **html_errors(403, 404, 409)})
def moderation_action(token: str, request: Request, uow: Uow) -> HTMLResponse:
    try:
        action, comment = moderate_by_token(uow, token)
    except EngagementError as exc:
        return render_error(request, exc)
    return render(request, "moderated.html", action=action, comment=comment)
