"""The subscribers screen: look an address up; suppress, unsuppress, export or erase it.

Every request that names an address is a POST: an address never sits in a URL, where access
logs, proxies and the browser's history would keep it.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from engagement.errors import InvalidInput
from engagement.services.admin.admin_subscribers import look_up_address, suppress_address, unsuppress_address
from engagement.services.admin.admins import require_owner
from engagement.services.audience.privacy import erase_address
from engagement.web.admin.auth import PREFIX, CheckedForm, SignedIn, page
from engagement.web.deps import Uow

router = APIRouter(prefix=PREFIX, include_in_schema=False)
DONE = {"suppress": "suppressed", "unsuppress": "unsuppressed", "erase": "erased"}


@router.get("/subscribers", response_class=HTMLResponse)
def subscribers(request: Request, signed: SignedIn) -> HTMLResponse:
    require_owner(signed.admin)
    return page(request, "admin/subscribers.html", signed, email="", found=None, done="")


@router.post("/subscribers", response_class=HTMLResponse)
def act(request: Request, form: CheckedForm, signed: SignedIn, uow: Uow) -> Response:
    """Look up (the default), suppress, unsuppress, erase or export the address the form names."""
    require_owner(signed.admin)
    email, action = form.one("email"), form.one("action", "lookup")
    if action == "export":
        document = json.dumps(look_up_address(uow, email), indent=2, ensure_ascii=False)
        headers = {"Content-Disposition": 'attachment; filename="engagement-export.json"'}
        return Response(document + "\n", media_type="application/json", headers=headers)
    if action == "suppress":
        suppress_address(uow, email)
    elif action == "unsuppress":
        unsuppress_address(uow, email)
    elif action == "erase":
        if form.one("confirm") != "yes":
            raise InvalidInput("confirm", "tick the box to confirm the erasure")
        erase_address(uow, email)
    elif action != "lookup":
        raise InvalidInput("action", "must be lookup, suppress, unsuppress, erase or export")
    found = look_up_address(uow, email)
    return page(
        request, "admin/subscribers.html", signed, email=email, found=found, done=DONE.get(action, "")
    )
