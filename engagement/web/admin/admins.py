"""The admins screen (owners): who may sign in, adding one with a one-time link, reset, remove."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from engagement.core import Core
from engagement.errors import InvalidInput
from engagement.services.admin.admins import (
    SetupLink,
    add_admin,
    list_admins,
    remove_admin,
    require_owner,
    reset_admin,
)
from engagement.services.sites import list_sites
from engagement.web.admin.auth import PREFIX, CheckedForm, SignedIn, page
from engagement.web.deps import Uow

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("/admins", response_class=HTMLResponse)
def admins(request: Request, signed: SignedIn, uow: Uow) -> HTMLResponse:
    require_owner(signed.admin)
    return _screen(request, signed, uow)


@router.post("/admins", response_class=HTMLResponse)
def change_admins(request: Request, form: CheckedForm, signed: SignedIn, uow: Uow) -> HTMLResponse:
    """Add, reset or remove; a new link is shown once, on the page that answers."""
    require_owner(signed.admin)
    action, email = form.one("action"), form.one("email")
    link: SetupLink | None = None
    if action == "add":
        link = add_admin(uow, email, form.one("role"), form.many("sites"))
    elif action == "reset":
        link = reset_admin(uow, email)
    elif action == "remove":
        remove_admin(uow, email)
    else:
        raise InvalidInput("action", "must be add, reset or remove")
    core: Core = request.app.state.core
    url = f"{core.settings.base_url}{PREFIX}/password/{link.token}" if link and link.token else None
    done = f"{email} removed" if action == "remove" else None
    return _screen(request, signed, uow, link=url, link_for=link.admin.email if link else None, done=done)


def _screen(request: Request, signed: SignedIn, uow: Uow, **context: Any) -> HTMLResponse:
    return page(
        request, "admin/admins.html", signed, admins=list_admins(uow), sites=list_sites(uow), **context
    )
