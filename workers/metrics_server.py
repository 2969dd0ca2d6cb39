"""A worker's ``/metrics`` on a port of its own: every pool process's task and mail metrics."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.exposition import ThreadingWSGIServer

from engagement.metrics_scrape import Scrape, authorized

StartResponse = Any  # wsgiref's start_response callable


class _Quiet(WSGIRequestHandler):
    """No access line on stderr per scrape: the worker's log is for its tasks."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_metrics(host: str, port: int, token: str) -> WSGIServer:
    """Answer ``GET /metrics`` on ``host:port`` from a thread (Bearer ``token`` when set)."""
    scrape = Scrape()

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"only /metrics here\n"]
        if not authorized(environ.get("HTTP_AUTHORIZATION"), token):
            start_response(
                "401 Unauthorized", [("Content-Type", "text/plain"), ("WWW-Authenticate", "Bearer")]
            )
            return [b"Authorization must be 'Bearer <metrics token>'\n"]
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
        return [scrape.render()]

    server = make_server(host, port, app, ThreadingWSGIServer, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
