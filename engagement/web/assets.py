"""The widget's scripts and the pages' stylesheet from ``static/``: long cache, ETag, gzip."""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from engagement.web.errors import responses

STATIC_DIR = Path(__file__).parent / "static"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$")
# A day fresh, then revalidated with the ETag (a 304 costs a few bytes); a week stale at most.
CACHE_CONTROL = "public, max-age=86400, stale-while-revalidate=604800"
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

router = APIRouter(tags=["assets"])


@dataclass(frozen=True)
class Asset:
    mtime_ns: int
    body: bytes
    gzipped: bytes
    etag: str
    media_type: str


class Assets:
    """Files read once and again only when they change on disk (so a rebuilt widget is served)."""

    def __init__(self, folder: Path = STATIC_DIR) -> None:
        self.folder = folder
        self._cache: dict[str, Asset] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Asset | None:
        if not NAME.match(name):
            return None
        path = self.folder / name
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            return None
        cached = self._cache.get(name)
        if cached is not None and cached.mtime_ns == mtime:
            return cached
        with self._lock:
            body = path.read_bytes()
            media_type = TYPES.get(path.suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
            etag = '"' + hashlib.sha256(body).hexdigest()[:24] + '"'
            asset = Asset(mtime, body, gzip.compress(body, 9, mtime=0), etag, media_type)
            self._cache[name] = asset
            return asset


def serve(request: Request, name: str) -> Response:
    asset: Asset | None = request.app.state.assets.get(name)
    if asset is None:
        return Response(
            b'{"code":"not_found","reason":"no such file"}', status_code=404, media_type="application/json"
        )
    headers = {"ETag": asset.etag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept-Encoding"}
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    body = asset.body
    if "gzip" in request.headers.get("accept-encoding", ""):
        body = asset.gzipped
        headers["Content-Encoding"] = "gzip"
    # Any page may load the widget: it is public and reads nothing of theirs.
    headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return Response(body, media_type=asset.media_type, headers=headers)


_SCRIPT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/javascript": {"schema": {"type": "string"}}}},
    304: {"description": "Unchanged"},
}


@router.get("/widget.js", response_class=Response, responses={**_SCRIPT, **responses(404)})
def widget_js(request: Request) -> Response:
    """The embeddable widget: `<script src="…/widget.js" data-site="KEY" async>`."""
    return serve(request, "widget.js")


@router.get("/count.js", response_class=Response, responses={**_SCRIPT, **responses(404)})
def count_js(request: Request) -> Response:
    """Fills every `[data-engagement-count]` element of a listing page with one request."""
    return serve(request, "count.js")


@router.get("/static/{name}", response_class=Response, include_in_schema=False)
def static_file(request: Request, name: str) -> Response:
    return serve(request, name)
