"""The outgoing request: aiohttp to the checked address, 5 s to connect, 10 s in all, no redirects.

Requests run on one event loop, on a thread of the client's own, many in flight at once
with a keep-alive pool per pinned address. Each attempt is classified for the sender:
``sent`` (2xx), ``retry`` (network error, timeout, 429 or 5xx, with the receiver's
``Retry-After``) or ``failed`` (anything else: another 4xx, a redirect, an address refused).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from engagement import __version__
from engagement.errors import InvalidInput
from engagement.services.webhooks.addresses import AddressGuard
from engagement.services.webhooks.signing import sign

if TYPE_CHECKING:
    import aiohttp
    import yarl

CONNECT_SECONDS = 5.0
TOTAL_SECONDS = 10.0
MAX_RESPONSE_BYTES = 64 * 1024  # read (so the connection is reused), never kept
USER_AGENT = f"engagement-webhooks/{__version__}"
T = TypeVar("T")


@dataclass(frozen=True)
class Outcome:
    kind: Literal["sent", "retry", "failed"]
    status: int | None = None
    error: str | None = None
    retry_after: float | None = None


@dataclass(frozen=True)
class Request:
    """One attempt of one delivery: where, what, and how to sign it."""

    url: str
    message_id: str
    body: str
    secret: str | None  # None: unsigned (slack, discord)


class WebhookClient:
    """One client per sender: its event loop's thread, and a connection pool per pinned address."""

    def __init__(
        self, guard: AddressGuard, *, connections: int = 16, total_seconds: float = TOTAL_SECONDS
    ) -> None:
        # Imported here: the web process imports the tasks (so this module) but never sends.
        import aiohttp

        self._errors = (aiohttp.ClientError, OSError)
        self.guard = guard
        self.total_seconds = total_seconds
        self._loop = _new_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="webhooks", daemon=True)
        self._thread.start()
        self._session = self.run(self._open(connections)).result()

    async def _open(self, connections: int) -> aiohttp.ClientSession:
        import aiohttp

        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections, use_dns_cache=False),
            timeout=aiohttp.ClientTimeout(
                total=self.total_seconds, connect=min(CONNECT_SECONDS, self.total_seconds)
            ),
            headers={"user-agent": USER_AGENT},
            cookie_jar=aiohttp.DummyCookieJar(),  # one receiver's cookies never reach another
            auto_decompress=False,  # the body is drained and dropped, never inflated
            trust_env=False,  # no proxy from the environment: the request goes to the checked address
        )

    def run(self, work: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Start ``work`` on the client's loop; its future answers on any thread."""
        return asyncio.run_coroutine_threadsafe(work, self._loop)

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self.run(self._session.close()).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    async def send(self, request: Request) -> Outcome:
        try:
            # Resolved now, and pinned: the connection goes to the address checked, no second lookup.
            target = await self.guard.check_url_async(request.url)
        except InvalidInput as exc:
            return Outcome("failed", error=exc.detail)
        body = request.body.encode()
        headers = {"content-type": "application/json", "host": target.host_header}
        if request.secret is not None:
            timestamp = int(time.time())
            headers["webhook-id"] = request.message_id
            headers["webhook-timestamp"] = str(timestamp)
            headers["webhook-signature"] = sign(request.secret, request.message_id, timestamp, body)
        try:
            async with self._session.post(
                _url(target.url),
                data=body,
                headers=headers,
                allow_redirects=False,
                server_hostname=target.hostname if target.https else None,
            ) as response:
                await _drain(response)
                return classify(response.status, response.headers.get("retry-after"))
        except TimeoutError as exc:  # connecting, or the whole request, past its time
            return Outcome("retry", error=f"timed out ({type(exc).__name__})")
        except self._errors as exc:  # refused connections, broken responses: a passing fault
            return Outcome("retry", error=f"{type(exc).__name__}: {exc}"[:500])


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop where it is installed (uvicorn's extras bring it): 10-20 % less CPU a request."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


async def _drain(response: aiohttp.ClientResponse) -> None:
    """Read (and drop) a bounded body, within the total time, so the connection can be reused."""
    read = 0
    async for chunk in response.content.iter_any():
        read += len(chunk)
        if read > MAX_RESPONSE_BYTES:
            response.close()  # the rest is not read: this connection is not reused
            return


@functools.lru_cache(maxsize=4096)
def _url(pinned: str) -> yarl.URL:
    """aiohttp's URL for a pinned URL, taken apart (and its path encoded) once, not on every send."""
    import yarl

    return yarl.URL(pinned)


def classify(status: int, retry_after: str | None) -> Outcome:
    """What an HTTP status means for the delivery."""
    if 200 <= status < 300:
        return Outcome("sent", status=status)
    if status == 429 or status >= 500:
        return Outcome("retry", status=status, error=f"HTTP {status}", retry_after=_seconds(retry_after))
    if 300 <= status < 400:
        return Outcome("failed", status=status, error=f"HTTP {status}: redirects are not followed")
    return Outcome("failed", status=status, error=f"HTTP {status}")


def _seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: a number of seconds, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
