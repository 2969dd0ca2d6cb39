"""POST /api/v1/subscriptions: follow a page or take the digest with an e-mail address alone."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from engagement.services.audience.subscriptions import SubscribeRequest, subscribe
from engagement.web.cors import bind_site
from engagement.web.deps import ClientIp, SiteKey, Uow
from engagement.web.errors import responses
from engagement.web.schemas import Strict

router = APIRouter(prefix="/api/v1", tags=["subscriptions"], responses=responses(503))


class SubscriptionIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"site": "demo", "email": "jane@example.org", "kind": "thread", "page": "/2026/11/article"}
            ]
        },
    )

    site: SiteKey
    email: str = Field(max_length=320)
    kind: Literal["thread", "digest"]
    page: str | None = Field(default=None, max_length=2000, description="Required for kind=thread")
    page_title: str | None = Field(default=None, max_length=300)
    cadence: Literal["daily", "weekly"] | None = None
    locale: str | None = Field(
        default=None,
        max_length=35,
        description="BCP 47 tag of the reader's language; one not shipped leaves the site's language",
    )


class Accepted(BaseModel):
    status: Literal["accepted"]
    message: str


ACCEPTED = {
    "status": "accepted",
    "message": "If this address may receive mail from us, a message is on its way to confirm it.",
}


@router.post(
    "/subscriptions",
    status_code=202,
    response_model=Accepted,
    responses=responses(400, 403, 404, 413, 422, 429),
)
def post_subscription(payload: SubscriptionIn, request: Request, uow: Uow, ip: ClientIp) -> JSONResponse:
    """Always 202 once the input is valid: the answer never tells whether an address is known."""
    bind_site(request, payload.site)
    subscribe(uow, SubscribeRequest(**payload.model_dump(), client_ip=ip))
    return JSONResponse(ACCEPTED, status_code=202)
