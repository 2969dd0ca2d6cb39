"""Demo-only pages (mounted by ``create_app(…, demo=True)`` alone): the article, a listing, the mailbox."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape

from engagement.config import Settings
from engagement.core import Core
from engagement.demo import SITE
from engagement.errors import EngagementError
from engagement.mail.mailer import build_mailer
from engagement.services.delivery.digests import DigestReport, send_digest
from engagement.services.delivery.sending import chunk_sender
from engagement.web.deps import Uow
from engagement.web.mailbox import list_mails, read_mail
from engagement.web.templating import form_fields, path_for, render

router = APIRouter(include_in_schema=False)

# The article embeds the widget as a publisher's page would: our script, our API, nothing else.
ARTICLE_CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
MAILBOX_CSP = (
    "default-src 'none'; style-src 'self'; img-src data:; frame-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# A mail's HTML part, framed by the mailbox in a sandbox: inline styles (mails inline their
# CSS), no script, no request anywhere; its links open in the whole window.
MAIL_HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
URL = re.compile(r"https?://[^\s<>\"']+")


def _mail_dir(request: Request) -> Path:
    settings: Settings = request.app.state.settings
    return settings.mail_dir


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    return render(request, "demo_index.html", site=SITE)


@router.get("/demo/article", response_class=HTMLResponse)
def article(request: Request) -> HTMLResponse:
    response = render(request, "demo_article.html", site=SITE)
    response.headers["Content-Security-Policy"] = ARTICLE_CSP
    return response


@router.get("/demo/listing", response_class=HTMLResponse)
def listing(request: Request) -> HTMLResponse:
    response = render(request, "demo_listing.html", site=SITE)
    response.headers["Content-Security-Policy"] = ARTICLE_CSP
    return response


@router.get("/demo/mail", response_class=HTMLResponse)
def mailbox(request: Request) -> HTMLResponse:
    mails = list_mails(_mail_dir(request))
    notice = request.query_params.get("notice")
    return render(request, "demo_mail.html", mails=mails, notice=notice, folder=_mail_dir(request))


@router.get("/demo/mail/{mail_id}", response_class=HTMLResponse)
def mail(request: Request, mail_id: str) -> HTMLResponse:
    found = read_mail(_mail_dir(request), mail_id)
    if found is None:
        return render(request, "error.html", status=404, reason="There is no such mail in the demo's folder")
    text = _linked(request, found.text) if found.text is not None else None
    own_unsubscribe = _own_path(request, found.unsubscribe_url)
    response = render(request, "demo_mail_message.html", mail=found, text=text, unsubscribe=own_unsubscribe)
    response.headers["Content-Security-Policy"] = MAILBOX_CSP
    return response


@router.get("/demo/mail/{mail_id}/html")
def mail_html(request: Request, mail_id: str) -> Response:
    found = read_mail(_mail_dir(request), mail_id)
    if found is None or found.html is None:
        return Response("No HTML part", status_code=404, media_type="text/plain")
    # Links open in the whole window (the frame's sandbox allows that on a click only).
    html = re.sub(r"(?i)<head([^>]*)>", r'<head\1><base target="_top">', found.html, count=1)
    headers = {
        "Content-Security-Policy": MAIL_HTML_CSP,
        "X-Frame-Options": "SAMEORIGIN",
        "Cache-Control": "no-store",
    }
    return HTMLResponse(html, headers=headers)


@router.post("/demo/digest")
async def digest_now(request: Request, uow: Uow) -> Response:
    """Send the latest period's digest now, as beat does after the site's digest hour."""
    fields = await form_fields(request)
    period = fields.get("period", "daily")
    core: Core = request.app.state.core
    send = chunk_sender(core.uow, build_mailer(core.settings, core.keys))
    try:
        report = await run_in_threadpool(send_digest, uow, SITE, period, send)
        notice = _digest_notice(period, report)
    except EngagementError as exc:
        notice = exc.reason
    url = f"{path_for(request, 'mailbox')}?{urlencode({'notice': notice})}"
    return RedirectResponse(url, status_code=303)


def _digest_notice(period: str, report: DigestReport) -> str:
    if report.busy:
        return f"The {period} digest is being sent right now; look again in a moment."
    if report.sent or report.skipped:
        return f"The {period} digest went out: {report.sent} sent, {report.skipped} not needed."
    return (
        f"No {period} digest to send: nobody confirmed a {period} digest before this period's run, "
        "or this period's digests went out already."
    )


def _own_path(request: Request, url: str | None) -> str | None:
    """The path of a link to this server (mails link to the base URL), or None."""
    settings: Settings = request.app.state.settings
    if url is None or not url.startswith(settings.base_url + "/"):
        return None
    return url.removeprefix(settings.base_url)


def _linked(request: Request, text: str) -> Markup:
    """The text part, escaped, with the links that lead back to this server made clickable."""
    parts: list[str] = []
    last = 0
    for match in URL.finditer(text):
        parts.append(str(escape(text[last : match.start()])))
        own = _own_path(request, match.group(0))
        link = escape(match.group(0))
        parts.append(f'<a href="{escape(own)}">{link}</a>' if own else str(link))
        last = match.end()
    parts.append(str(escape(text[last:])))
    return Markup("".join(parts))  # noqa: S704 -- every piece above is escaped
