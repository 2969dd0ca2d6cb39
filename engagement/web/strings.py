"""GET /api/v1/strings/{locale}: the widget's strings in a language it does not carry itself."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from engagement.errors import NotFound
from engagement.i18n.locales import SHIPPED, normalise
from engagement.i18n.widget_strings import strings_document
from engagement.web.errors import responses

router = APIRouter(prefix="/api/v1", tags=["languages"])
# The catalogs change only with a new release: a day in caches, then a cheap revalidation.
STRINGS_CACHE = "public, max-age=86400"


@router.get(
    "/strings/{locale}",
    responses={
        200: {"content": {"application/json": {}}, "description": "Every widget string in the language"},
        304: {"description": "Not modified (If-None-Match)"},
        **responses(404),
    },
)
async def get_strings(locale: str, request: Request) -> Response:
    """The widget's strings in ``locale`` (a BCP 47 tag: ``de``, ``pt-BR``; ``de-AT`` gives ``de``)."""
    shipped = normalise(locale)
    if shipped is None:
        raise NotFound(f"no strings for {locale[:35]!r}: the shipped languages are {', '.join(SHIPPED)}")
    document = strings_document(shipped)
    headers = {"ETag": document.etag, "Cache-Control": STRINGS_CACHE, "Vary": "Accept-Encoding"}
    if document.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(document.body, media_type="application/json", headers=headers)
