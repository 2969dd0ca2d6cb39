"""The comments screen: search a site's comments by text, author or page; remove or restore one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Query as Q
from fastapi.responses import HTMLResponse

from engagement.services.admin.admin_queue import search_comments
from engagement.services.sites import list_sites
from engagement.web.admin.auth import PREFIX, SignedIn, page
from engagement.web.admin.queue import here
from engagement.web.deps import Uow

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Field = Annotated[str, Q(max_length=200)]


@router.get("/comments", response_class=HTMLResponse)
def comments(
    request: Request,
    signed: SignedIn,
    uow: Uow,
    site: Annotated[str, Q(max_length=64)] = "",
    q: Field = "",
    author: Field = "",
    page_text: Annotated[str, Q(alias="page", max_length=2000)] = "",
    before: Annotated[str, Q(max_length=80)] = "",
    done: Field = "",
) -> HTMLResponse:
    sites = [s for s in list_sites(uow) if signed.admin.may_act_on(s.id)]
    chosen = site or (sites[0].key if sites else "")
    found = None
    if chosen:
        found = search_comments(
            uow, signed.admin, chosen, text=q, author=author, page=page_text, before=before or None
        )
    return page(
        request,
        "admin/comments.html",
        signed,
        sites=sites,
        chosen=chosen,
        found=found,
        q=q,
        author=author,
        page_text=page_text,
        done=done,
        here=here(request),
    )
