"""Reading live streams in tests: the app on a real uvicorn on the loopback, events parsed."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import uvicorn

# Generous: a loaded machine; the stream's keep-alive comment comes every 20 s anyway.
READ_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(app) -> Iterator[str]:
    """The app on uvicorn in a thread, on a free loopback port; its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


@dataclass
class Event:
    event: str
    data: dict
    id: str | None


class Stream:
    """An open stream: ``next_event()`` reads until the next event (comments and retry skipped)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.iter_lines()
        self.retry: int | None = None

    def next_event(self) -> Event:
        fields: dict[str, str] = {}
        for line in self.lines:
            if line == "":
                if "data" in fields:
                    return Event(fields.get("event", "message"), json.loads(fields["data"]), fields.get("id"))
                fields = {}
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "retry":
                self.retry = int(value)
            else:
                fields[name] = value
        raise AssertionError("the stream ended")

    def next_of(self, kind: str) -> Event:
        while True:
            event = self.next_event()
            if event.event == kind:
                return event


@contextmanager
def open_stream(base: str, site: str, page: str, **headers: str) -> Iterator[Stream]:
    """A stream whose answer has started (so it is subscribed); 200 is asserted."""
    timeout = httpx.Timeout(10.0, read=READ_TIMEOUT)
    with (
        httpx.Client(base_url=base, timeout=timeout) as client,
        client.stream(
            "GET", "/api/v1/stream", params={"site": site, "page": page}, headers=headers
        ) as response,
    ):
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield Stream(response)
