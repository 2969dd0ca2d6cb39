"""What every admin screen shares: the session cookie, the Origin and form-token checks, rendering."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from engagement.core import Core
from engagement.errors import EngagementError, Forbidden, InvalidInput, SessionExpired
from engagement.services.admin.admin_sessions import check_form_token, form_token, session_admin
from engagement.services.admin.admins import AdminView
from engagement.web.cors import origin_of
from engagement.web.deps import Uow
from engagement.web.errors import status_for
from engagement.web.templating import render

COOKIE = "engagement_admin"
PREFIX = "/admin"
# Admin pages post back to themselves: the browser must send their origin (not "null").
ADMIN_HEADERS = {"Referrer-Policy": "same-origin"}
MAX_FIELDS = 400


@dataclass(frozen=True)
class Signed:
    """The signed-in admin of this request, their session token and their forms' token."""

    admin: AdminView
    token: str
    csrf: str


class Form:
    """A url-encoded admin form whose Origin and token were checked; fields may repeat."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        self.fields = fields

    def one(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default

    def many(self, name: str) -> list[str]:
        return list(self.fields.get(name, []))

    def ids(self, name: str) -> list[int]:
        values = self.many(name)
        if not all(v.isdigit() and 0 < len(v) < 11 for v in values):
            raise InvalidInput(name, "must be ids")
        return [int(v) for v in values]


def session_token(request: Request) -> str | None:
    return request.cookies.get(COOKIE)


def signed_in(request: Request, uow: Uow) -> Signed:
    """The admin whose session cookie this request carries, or SessionExpired (to the sign-in page)."""
    token = session_token(request)
    admin = session_admin(uow, token)
    assert token is not None
    core: Core = request.app.state.core
    return Signed(admin, token, form_token(core.keys, token))


async def checked_form(request: Request) -> Form:
    """The form of an unsafe request, refused (403) from another origin or without this session's token."""
    return await _checked(request, session_token(request))


async def checked_public_form(request: Request) -> Form:
    """The same checks for the forms shown before a session exists (sign in, set a password)."""
    return await _checked(request, None)


async def _checked(request: Request, bound_to: str | None) -> Form:
    check_origin(request)
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise Forbidden("this form was not sent by an admin page")
    raw = (await request.body()).decode("utf-8", "replace")
    try:
        fields = parse_qs(raw, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:
        raise InvalidInput("form", "has too many fields") from None
    core: Core = request.app.state.core
    check_form_token(core.keys, bound_to, (fields.get("csrf") or [""])[0])
    return Form(fields)


def check_origin(request: Request) -> None:
    """Refuse an unsafe request whose Origin (or, lacking one, Referer) is not this server's own."""
    sent = request.headers.get("origin") or request.headers.get("referer")
    if not sent or sent == "null":
        raise Forbidden("this request does not say where it comes from; it was refused")
    core: Core = request.app.state.core
    own = {origin_of(core.settings.base_url), f"{request.url.scheme}://{request.headers.get('host', '')}"}
    if origin_of(sent) not in {o.lower() for o in own}:
        raise Forbidden("this request comes from another site; it was refused")


SignedIn = Annotated[Signed, Depends(signed_in)]
CheckedForm = Annotated[Form, Depends(checked_form)]
PublicForm = Annotated[Form, Depends(checked_public_form)]


def page(
    request: Request, name: str, signed: Signed | None, status: int = 200, **context: Any
) -> HTMLResponse:
    """An admin page: the layout knows who is signed in and carries the forms' token."""
    core: Core = request.app.state.core
    context.setdefault("csrf", signed.csrf if signed else form_token(core.keys, None))
    response = render(request, name, status=status, admin=signed.admin if signed else None, **context)
    response.headers.update(ADMIN_HEADERS)
    return response


def back_to(
    request: Request, route: str, query: dict[str, str] | None = None, **params: str
) -> RedirectResponse:
    """303 to an admin screen after a form did its work (the browser then GETs it)."""
    target = str(request.app.url_path_for(route, **params))
    if query:
        target += "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items() if v)
    return RedirectResponse(target, status_code=303, headers=ADMIN_HEADERS)


def local_path(value: str | None) -> str:
    """A path inside /admin to go back to, never another site (an open redirect)."""
    parts = urlsplit(value or "")
    if parts.scheme or parts.netloc or not parts.path.startswith(PREFIX + "/") or "\\" in parts.path:
        return PREFIX + "/"
    return parts.path + (f"?{parts.query}" if parts.query else "")


def install(app: Any) -> None:
    """Admin requests answer errors with pages, and an ended session with the sign-in page."""
    api_domain = app.exception_handlers[EngagementError]
    api_validation = app.exception_handlers[RequestValidationError]

    async def domain_error(request: Request, exc: Exception) -> Response:
        if not request.url.path.startswith(PREFIX):
            return await api_domain(request, exc)  # type: ignore[no-any-return]
        assert isinstance(exc, EngagementError)
        if isinstance(exc, SessionExpired):
            wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            target = f"{PREFIX}/sign-in"
            if request.method == "GET":
                target += "?next=" + quote(wanted, safe="")
            return RedirectResponse(target, status_code=303, headers=ADMIN_HEADERS)
        headers = {"Retry-After": str(getattr(exc, "retry_after", ""))} if status_for(exc) == 429 else {}
        response = page(request, "admin/error.html", None, status=status_for(exc), reason=exc.reason)
        response.headers.update(headers)
        return response

    async def validation_error(request: Request, exc: Exception) -> Response:
        if not request.url.path.startswith(PREFIX):
            return await api_validation(request, exc)  # type: ignore[no-any-return]
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        field = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        reason = f"{field}: {first.get('msg', 'is invalid')}"
        return page(request, "admin/error.html", None, status=422, reason=reason)

    api_http = app.exception_handlers[StarletteHTTPException]

    async def http_error(request: Request, exc: Exception) -> Response:
        if not request.url.path.startswith(PREFIX + "/"):
            return await api_http(request, exc)  # type: ignore[no-any-return]
        assert isinstance(exc, StarletteHTTPException)
        reason = "there is no such admin page" if exc.status_code == 404 else str(exc.detail).lower()
        return page(request, "admin/error.html", None, status=exc.status_code, reason=reason)

    app.add_exception_handler(EngagementError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
