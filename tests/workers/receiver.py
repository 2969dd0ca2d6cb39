"""A real HTTP receiver for webhook tests: uvicorn on 127.0.0.1 in a thread, recording every request.

Faults it can play: answer the next requests with a status (500, 429 with Retry-After, 400,
a redirect) and a body,
answer late (past the sender's timeout), hold a request until released (so a test can kill
the sender while its request is on the wire), and be stopped and started again on its port.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int


@dataclass
class Receiver:
    port: int = 0
    received: list[Received] = field(default_factory=list)
    plan: deque[tuple[int, float, dict[str, str], bytes]] = field(default_factory=deque)  # status, delay, …
    hold_next: bool = False

    def __post_init__(self) -> None:
        if not self.port:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                self.port = s.getsockname()[1]
        self.arrived = threading.Event()  # a held request came in
        self.release = threading.Event()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(
        self, status: int, times: int = 1, delay: float = 0.0, body: bytes = b"", **headers: str
    ) -> None:
        for _ in range(times):
            self.plan.append((status, delay, headers, body))

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        status, delay, headers, answer = self.plan.popleft() if self.plan else (204, 0.0, {}, b"")
        if self.hold_next:
            self.hold_next = False
            self.arrived.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
        if delay:
            await asyncio.sleep(delay)
        self.received.append(Received(request.url.path, dict(request.headers), body, status))
        return Response(answer, status_code=status, headers=headers)

    def start(self) -> Receiver:
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the receiver did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self.release.set()
            self._server.should_exit = True
            self._thread.join(10)
            self._server = None

    def by_id(self) -> dict[str, list[int]]:
        """Each webhook-id with the statuses its requests were answered."""
        found: dict[str, list[int]] = {}
        for r in self.received:
            found.setdefault(r.headers.get("webhook-id", r.path), []).append(r.answered)
        return found
