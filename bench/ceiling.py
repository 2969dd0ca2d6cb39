"""The framework's ceiling for bench/web.py: an empty FastAPI app that parses what ours parses.

``GET /thread`` answers a small JSON; ``POST /comments`` parses the same comment body as our
``POST /api/v1/comments`` (the same strict request model) and answers a small JSON. No
database, no middleware: what FastAPI on uvicorn costs before any work of ours.

    uvicorn --factory ceiling:create_app --app-dir bench
"""

from __future__ import annotations

from fastapi import FastAPI

from engagement.web.responses import FastJSON
from engagement.web.schemas import CommentIn

ANSWER = {"page": {"comments": 0, "reactions": {}}, "comments": [], "next_cursor": None}


def create_app() -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, default_response_class=FastJSON)

    @app.get("/thread")
    async def thread() -> FastJSON:
        return FastJSON(ANSWER)

    @app.post("/comments", status_code=201)
    def post(payload: CommentIn) -> FastJSON:
        # A plain ``def``, on the thread pool, as our write routes run.
        return FastJSON({"comment": {"id": 1, "body": payload.body}}, status_code=201)

    return app
