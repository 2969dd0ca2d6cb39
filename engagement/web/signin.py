"""Readers signed in by the publisher's site: the ``X-Engagement-SSO`` header, and ``GET /api/v1/me``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from engagement.services.audience.signin import Visitor, who_is
from engagement.web.cors import bind_site
from engagement.web.deps import ReaderId, RequiredReaderId, SiteQuery, Uow
from engagement.web.errors import responses
from engagement.web.responses import dumps

SSO_HEADER = "X-Engagement-SSO"

# No pattern or length here: a malformed token is the core's 401 with a reason, not a 422.
SsoToken = Annotated[
    str | None,
    Header(
        alias=SSO_HEADER,
        description="A sign-in token (HS256 JWT) the publisher's site signed for this reader.",
    ),
]

router = APIRouter(prefix="/api/v1", tags=["sign-in"], responses=responses(503))


async def _visitor(reader: ReaderId = None, token: SsoToken = None) -> Visitor:
    return Visitor(reader_id=reader, token=token)


async def _writer(reader: RequiredReaderId, token: SsoToken = None) -> Visitor:
    return Visitor(reader_id=reader, token=token)


# What a request says of its reader: the widget's random id and the sign-in token, unchecked
# until a route names the site (`services.audience.signin.identify`). The writer's id is required.
VisitorDep = Annotated[Visitor, Depends(_visitor)]
WriterDep = Annotated[Visitor, Depends(_writer)]


class MeOut(BaseModel):
    signed_in: bool
    name: str | None = Field(description="The name the token gives; their comments carry it")
    verified: bool = Field(description="Their comments will carry `author.verified: true`")
    supporter: bool = Field(description="The token calls them a supporter of the site")
    editable: list[int] = Field(
        description="With `page`: their comments there still open to editing and deleting, from any device"
    )


@router.get("/me", response_model=MeOut, responses=responses(400, 401, 403, 404, 422))
async def get_me(
    request: Request,
    uow: Uow,
    site: SiteQuery,
    visitor: VisitorDep,
    page: Annotated[
        str | None, Query(max_length=2000, description="The page's URL, path or explicit id")
    ] = None,
) -> Response:
    """Whom the `X-Engagement-SSO` token signs in on the site (never their address)."""
    bind_site(request, site)
    me = who_is(uow, site, visitor, page)
    content = {
        "signed_in": me.signed_in,
        "name": me.name,
        "verified": me.verified,
        "supporter": me.supporter,
        "editable": list(me.editable),
    }
    headers = {"Cache-Control": "no-store", "Vary": SSO_HEADER}
    return Response(dumps(content), media_type="application/json", headers=headers)
