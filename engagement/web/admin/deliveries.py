"""The deliveries screen: the mail log with its filters, the last error, retrying failed mail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from engagement.errors import Conflict
from engagement.models.delivery import DELIVERY_STATUSES
from engagement.services.admin.admins import require_owner
from engagement.services.delivery.deliveries import list_deliveries, retry_failed
from engagement.uow import UnitOfWork
from engagement.web.admin.auth import PREFIX, CheckedForm, Signed, SignedIn, back_to, page
from engagement.web.deps import Uow

router = APIRouter(prefix=PREFIX, include_in_schema=False)
TEMPLATES = (
    "thread_notification",
    "reply_notification",
    "digest",
    "confirm_subscription",
    "moderation_request",
    "comment_approved",
)


@router.get("/deliveries", response_class=HTMLResponse)
def deliveries(
    request: Request,
    signed: SignedIn,
    uow: Uow,
    status: Annotated[str, Query(max_length=16)] = "",
    template: Annotated[str, Query(max_length=64)] = "",
    done: Annotated[str, Query(max_length=100)] = "",
) -> HTMLResponse:
    require_owner(signed.admin)
    return _log(request, signed, uow, status, template, "", done)


@router.post("/deliveries", response_class=HTMLResponse)
def filter_deliveries(request: Request, form: CheckedForm, signed: SignedIn, uow: Uow) -> HTMLResponse:
    """The filter form posts, so that a recipient's address never appears in a URL (or a log)."""
    require_owner(signed.admin)
    return _log(request, signed, uow, form.one("status"), form.one("template"), form.one("recipient"), "")


def _log(
    request: Request, signed: Signed, uow: UnitOfWork, status: str, template: str, recipient: str, done: str
) -> HTMLResponse:
    rows = list_deliveries(
        uow, status=status or None, template=template or None, recipient=recipient.strip() or None, limit=100
    )
    return page(
        request,
        "admin/deliveries.html",
        signed,
        rows=rows,
        statuses=DELIVERY_STATUSES,
        templates=TEMPLATES,
        wanted_status=status,
        template=template,
        recipient=recipient,
        done=done,
    )


@router.post("/deliveries/retry")
def retry(request: Request, form: CheckedForm, signed: SignedIn, uow: Uow) -> RedirectResponse:
    """Send failed deliveries again (the workers' sweep picks them up); a sent one never goes twice."""
    require_owner(signed.admin)
    reset = retry_failed(uow, form.ids("ids"))
    if not reset:
        raise Conflict("only failed deliveries can be sent again")
    return back_to(request, "deliveries", {"done": f"{len(reset)} queued again"})
