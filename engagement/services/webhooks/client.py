"""The outgoing request: httpx to the checked address, 5 s to connect, 10 s in all, no redirects.

Each attempt is classified for the sender: ``sent`` (2xx), ``retry`` (network error,
timeout, 429 or 5xx, with the receiver's ``Retry-After``) or ``failed`` (anything else:
another 4xx, a redirect, an address refused).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Literal

from engagement import __version__
from engagement.errors import InvalidInput
from engagement.services.webhooks.addresses import AddressGuard
from engagement.services.webhooks.signing import sign

if TYPE_CHECKING:
    import httpx

CONNECT_SECONDS = 5.0
TOTAL_SECONDS = 10.0
MAX_RESPONSE_BYTES = 64 * 1024  # read (so the connection is reused), never kept
USER_AGENT = f"engagement-webhooks/{__version__}"


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
    """One client per sender: a connection pool per pinned address, shared by its threads."""

    def __init__(
        self, guard: AddressGuard, *, connections: int = 16, total_seconds: float = TOTAL_SECONDS
    ) -> None:
        # Imported here: httpx's package loads its command line (click, rich), which the core keeps
        # out of every process that does not send webhooks (tests/test_architecture.py).
        import httpx

        self._errors = (httpx.TimeoutException, httpx.HTTPError)
        self.guard = guard
        self.total_seconds = total_seconds
        self._client = httpx.Client(
            timeout=httpx.Timeout(total_seconds, connect=min(CONNECT_SECONDS, total_seconds)),
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: the request goes to the checked address
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            headers={"user-agent": USER_AGENT},
        )

    def close(self) -> None:
        self._client.close()

    def send(self, request: Request) -> Outcome:
        try:
            target = self.guard.check_url(request.url)  # resolved now, and pinned: no second lookup
        except InvalidInput as exc:
            return Outcome("failed", error=exc.detail)
        body = request.body.encode()
        headers = {"content-type": "application/json", "host": target.host_header}
        if request.secret is not None:
            timestamp = int(time.time())
            headers["webhook-id"] = request.message_id
            headers["webhook-timestamp"] = str(timestamp)
            headers["webhook-signature"] = sign(request.secret, request.message_id, timestamp, body)
        extensions = {"sni_hostname": target.hostname} if target.https else {}
        deadline = time.monotonic() + self.total_seconds
        try:
            with self._client.stream(
                "POST", target.url, content=body, headers=headers, extensions=extensions
            ) as response:
                _drain(response, deadline)
                return classify(response.status_code, response.headers.get("retry-after"))
        except self._errors as exc:  # timeouts, refused connections, broken responses: a passing fault
            if isinstance(exc, self._errors[0]):
                return Outcome("retry", error=f"timed out ({type(exc).__name__})")
            return Outcome("retry", error=f"{type(exc).__name__}: {exc}"[:500])


def _drain(response: httpx.Response, deadline: float) -> None:
    """Read (and drop) a bounded body, within the total time, so the connection can be reused."""
    read = 0
    for chunk in response.iter_raw():
        read += len(chunk)
        if read > MAX_RESPONSE_BYTES or time.monotonic() > deadline:
            return


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
