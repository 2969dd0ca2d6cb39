"""The queue screen: held, reported and spam comments, filters, one comment in context, actions."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from engagement.services.admin.admin_actions import act_on_comments
from engagement.services.admin.admin_queue import QUEUE_STATUSES, QueueFilter, comment_context, queue_page
from engagement.services.sites import list_sites
from engagement.web.admin.auth import PREFIX, CheckedForm, Form, SignedIn, local_path, page
from engagement.web.deps import Uow

router = APIRouter(prefix=PREFIX, include_in_schema=False)
DONE = {"approve": "approved", "reject": "rejected", "spam": "marked as spam", "ban": "banned and rejected"}
Text = Annotated[str, Query(max_length=200)]


@router.get("/queue", response_class=HTMLResponse)
def queue(
    request: Request,
    signed: SignedIn,
    uow: Uow,
    status: Annotated[str, Query(pattern="^(pending|reported|spam)$")] = "pending",
    site: Annotated[str, Query(max_length=64)] = "",
    page_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    q: Text = "",
    before: Annotated[str, Query(max_length=80)] = "",
    done: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    wanted = QueueFilter(
        status=status, site=site or None, page_id=page_id, text=q or None, before=before or None
    )
    listing = queue_page(uow, signed.admin, wanted)
    sites = [s for s in list_sites(uow) if signed.admin.may_act_on(s.id)]
    return page(
        request,
        "admin/queue.html",
        signed,
        listing=listing,
        wanted=wanted,
        statuses=QUEUE_STATUSES,
        sites=sites,
        done=done,
        here=here(request),
    )


@router.get("/queue/{comment_id}", response_class=HTMLResponse)
def queue_item(
    request: Request, signed: SignedIn, uow: Uow, comment_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> HTMLResponse:
    context = comment_context(uow, signed.admin, comment_id)
    return page(request, "admin/comment.html", signed, context=context, here=str(request.url.path))


@router.post("/queue")
def act(request: Request, form: CheckedForm, signed: SignedIn, uow: Uow) -> RedirectResponse:
    """One button per comment (``act`` = "approve:12") or a bulk button over the checked ``ids``."""
    single = form.one("act")
    if single:
        action, _, ident = single.partition(":")
        ids = Form({"id": [ident]}).ids("id")
    else:
        action, ids = form.one("action"), form.ids("ids")
    count = act_on_comments(uow, signed.admin, ids, action)
    target = local_path(form.one("back") or f"{PREFIX}/queue")
    separator = "&" if "?" in target else "?"
    noun = "comment" if count == 1 else "comments"
    return RedirectResponse(
        f"{target}{separator}done={count}+{noun}+{DONE[action].replace(' ', '+')}", status_code=303
    )


def here(request: Request) -> str:
    """This screen's address with its filters, without the last action's message."""
    kept = "&".join(f"{k}={quote(v, safe='')}" for k, v in request.query_params.items() if k != "done" and v)
    return request.url.path + (f"?{kept}" if kept else "")
