"""POST /hooks/patreon/{site}: Patreon's signed member webhooks set a site's supporters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from engagement.services.audience.supporters import receive_patreon_webhook
from engagement.web.deps import SITE_PATTERN, Uow
from engagement.web.errors import responses

router = APIRouter(tags=["hooks"], responses=responses(503))


class HookOut(BaseModel):
    result: str  # "applied", or "older" when a newer state was kept


@router.post("/hooks/patreon/{site}", response_model=HookOut, responses=responses(400, 401, 404, 413))
async def patreon_hook(
    request: Request,
    site: Annotated[str, Path(pattern=SITE_PATTERN, max_length=64)],
    uow: Uow,
    signature: Annotated[str | None, Header(alias="X-Patreon-Signature", max_length=200)] = None,
    event: Annotated[str | None, Header(alias="X-Patreon-Event", max_length=100)] = None,
) -> HookOut:
    """Apply one member event; the signature (HMAC-MD5 of the raw body) is checked first."""
    body = await request.body()  # at most 64 KB: the size limit answered 413 before this
    # The write runs on the pool, as every write route does: SQLite's lock never blocks the loop.
    result = await run_in_threadpool(receive_patreon_webhook, uow, site, body, signature, event)
    return HookOut(result=result)
