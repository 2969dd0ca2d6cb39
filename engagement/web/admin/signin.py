"""Sign in, sign out, and set a password through the one-time link."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from engagement.core import Core
from engagement.errors import InvalidInput, SignInFailed
from engagement.services.admin.admin_sessions import check_repeated, sign_in, sign_out
from engagement.services.admin.admins import read_setup_link, set_password_by_link
from engagement.web.admin.auth import (
    ADMIN_HEADERS,
    COOKIE,
    PREFIX,
    CheckedForm,
    PublicForm,
    local_path,
    page,
    session_token,
)
from engagement.web.deps import ClientIp, Uow

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, next: str = "") -> HTMLResponse:
    return page(request, "admin/sign_in.html", None, next=local_path(next) if next else "")


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in_action(request: Request, form: PublicForm, uow: Uow, ip: ClientIp) -> Response:
    email, target = form.one("email"), local_path(form.one("next"))
    try:
        signed = sign_in(uow, email, form.one("password"), ip)
    except SignInFailed as exc:
        return page(
            request, "admin/sign_in.html", None, status=401, error=exc.reason, email=email, next=target
        )
    response = RedirectResponse(target, status_code=303, headers=ADMIN_HEADERS)
    core: Core = request.app.state.core
    response.set_cookie(
        COOKIE,
        signed.token,
        path=PREFIX,
        httponly=True,
        samesite="lax",
        secure=core.settings.base_url.startswith("https://"),
    )
    return response


@router.post("/sign-out")
def sign_out_action(request: Request, form: CheckedForm, uow: Uow) -> Response:
    sign_out(uow, session_token(request))
    response = RedirectResponse(f"{PREFIX}/sign-in?signed_out=1", status_code=303, headers=ADMIN_HEADERS)
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


@router.get("/password/{token}", response_class=HTMLResponse)
def password_page(request: Request, token: str, uow: Uow) -> HTMLResponse:
    admin = read_setup_link(uow, token)
    return page(request, "admin/password.html", None, email=admin.email)


@router.post("/password/{token}", response_class=HTMLResponse)
def password_action(request: Request, token: str, form: PublicForm, uow: Uow) -> Response:
    password = form.one("password")
    try:
        check_repeated(password, form.one("repeat"))
        set_password_by_link(uow, token, password)
    except InvalidInput as exc:
        admin = read_setup_link(uow, token)
        return page(request, "admin/password.html", None, status=422, email=admin.email, error=exc.detail)
    return RedirectResponse(f"{PREFIX}/sign-in?password_set=1", status_code=303, headers=ADMIN_HEADERS)
