"""The subscribers screen: look an address up; suppress, unsuppress, export or erase it."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from engagement.errors import InvalidInput
from engagement.services.admin_subscribers import look_up_address, suppress_address, unsuppress_address
from engagement.services.admins import require_owner
from engagement.services.privacy import erase_address
from engagement.web.admin.auth import PREFIX, CheckedForm, SignedIn, back_to, page
from engagement.web.deps import Uow

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Address = Annotated[str, Query(max_length=320)]


@router.get("/subscribers", response_class=HTMLResponse)
def subscribers(
    request: Request, signed: SignedIn, uow: Uow, email: Address = "", done: Address = ""
) -> HTMLResponse:
    require_owner(signed.admin)
    found = look_up_address(uow, email) if email.strip() else None
    return page(request, "admin/subscribers.html", signed, email=email, found=found, done=done)


@router.get("/subscribers/export")
def export(signed: SignedIn, uow: Uow, email: Address) -> Response:
    """Everything held about the address, as the JSON file ``engagement privacy export`` writes."""
    require_owner(signed.admin)
    document = json.dumps(look_up_address(uow, email), indent=2, ensure_ascii=False)
    headers = {
        "Content-Disposition": 'attachment; filename="engagement-export.json"',
        "Cache-Control": "no-store",
    }
    return Response(document + "\n", media_type="application/json", headers=headers)


@router.post("/subscribers")
def act(request: Request, form: CheckedForm, signed: SignedIn, uow: Uow) -> RedirectResponse:
    require_owner(signed.admin)
    email, action = form.one("email"), form.one("action")
    if action == "suppress":
        suppress_address(uow, email)
        done = "suppressed"
    elif action == "unsuppress":
        unsuppress_address(uow, email)
        done = "unsuppressed"
    elif action == "erase":
        if form.one("confirm") != "yes":
            raise InvalidInput("confirm", "tick the box to confirm the erasure")
        erase_address(uow, email)
        done = "erased"
    else:
        raise InvalidInput("action", "must be suppress, unsuppress or erase")
    return back_to(request, "subscribers", {"email": email, "done": done})
