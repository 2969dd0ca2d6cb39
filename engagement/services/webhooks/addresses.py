"""Where a webhook may go: http(s) URLs without credentials, to public addresses only, pinned once resolved.

A site owner must not make the server probe its own network, so the host is resolved before
each send, every address it resolves to is checked, and the request goes to exactly the
checked address (the name is kept for the Host header and TLS): a DNS answer that changes
between the check and the connection (rebinding) cannot slip through.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from engagement.errors import InvalidInput

Resolver = Callable[[str, int], Sequence[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_URL_LENGTH = 2000
# Cloud metadata services answer on these even where they are not link-local.
METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system's resolver gives ``host`` (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``url`` names the address), and the name it was given."""

    url: str
    host_header: str
    hostname: str
    https: bool


def parse_url(url: str) -> tuple[str, str, int]:
    """The URL's scheme, host and port, or InvalidInput saying what is wrong with it."""
    parsed = _parsed(url)
    return parsed.scheme, parsed.host, parsed.port


_UNSAFE = re.compile(r"[\s\x00-\x1f]")  # \s: what str.isspace() calls white space


@dataclass(frozen=True)
class _Parsed:
    """A URL taken apart once: it is sent to again and again (one endpoint, many events)."""

    scheme: str
    host: str
    port: int
    rest: str  # path and query, as sent
    host_header: str
    literal: tuple[IPAddress, ...] | None  # the host when it is an address: no lookup


def _parsed(url: str) -> _Parsed:
    if not isinstance(url, str):
        raise InvalidInput("url", "give the endpoint's URL, such as https://hooks.example.org/engagement")
    return _take_apart(url)


@functools.lru_cache(maxsize=4096)
def _take_apart(url: str) -> _Parsed:
    if not url.strip():
        raise InvalidInput("url", "give the endpoint's URL, such as https://hooks.example.org/engagement")
    if len(url) > MAX_URL_LENGTH or _UNSAFE.search(url):
        raise InvalidInput("url", f"must be one line of at most {MAX_URL_LENGTH} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise InvalidInput("url", "only http:// and https:// URLs can receive webhooks")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise InvalidInput(
            "url", "must not carry credentials (user:password@); the signature proves the sender"
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidInput("url", "has an invalid port") from None
    host = parts.hostname
    if not host:
        raise InvalidInput("url", "has no host")
    default_port = 443 if parts.scheme == "https" else 80
    named = f"[{host}]" if ":" in host and not host.startswith("[") else host
    host_header = named if port == default_port else f"{named}:{port}"
    rest = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    return _Parsed(parts.scheme, host, port, rest, host_header, _literal(host))


@functools.lru_cache(maxsize=4096)
def refusal(address: IPAddress) -> str | None:
    """Why ``address`` may not receive webhooks (loopback, private…), or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    checks = (
        (address in METADATA, "a cloud metadata address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_reserved or address.is_unspecified, "a reserved address"),
        (address.is_private, "a private address"),
        (not address.is_global, "not a public address"),
    )
    return next((reason for refused, reason in checks if refused), None)


class AddressGuard:
    """Resolves and checks endpoint hosts; ``allow_private`` (development only) lifts the refusal."""

    def __init__(self, *, allow_private: bool = False, resolver: Resolver = system_resolver) -> None:
        self.allow_private = allow_private
        self.resolver = resolver

    def check_url(self, url: str) -> Target:
        """The URL checked and pinned to an address, or InvalidInput with the reason."""
        parsed = _parsed(url)
        if parsed.literal is not None:
            return _literal_target(url, self.allow_private)
        return _pinned(
            parsed, _checked(parsed.host, self._resolve(parsed.host, parsed.port), self.allow_private)
        )

    async def check_url_async(self, url: str) -> Target:
        """:meth:`check_url` for an event loop: the lookup runs on a thread, the loop goes on."""
        parsed = _parsed(url)
        if parsed.literal is not None:
            return _literal_target(url, self.allow_private)
        found = await asyncio.to_thread(self._resolve, parsed.host, parsed.port)
        return _pinned(parsed, _checked(parsed.host, found, self.allow_private))

    def _resolve(self, host: str, port: int) -> list[IPAddress]:
        try:
            return [ipaddress.ip_address(a.split("%", 1)[0]) for a in self.resolver(host, port)]
        except (OSError, UnicodeError, ValueError) as exc:
            raise InvalidInput("url", f"the host {host} does not resolve ({exc})") from None


def _checked(host: str, found: Sequence[IPAddress], allow_private: bool) -> IPAddress:
    """The address to connect to, once every one the host gave is allowed."""
    if not found:
        raise InvalidInput("url", f"the host {host} does not resolve")
    if not allow_private:
        for address in found:  # one bad answer is enough: the next lookup might pick it
            reason = refusal(address)
            if reason is not None:
                raise InvalidInput(
                    "url", f"{host} resolves to {address}, {reason}: webhooks go to public addresses only"
                )
    return found[0]


@functools.lru_cache(maxsize=4096)
def _literal_target(url: str, allow_private: bool) -> Target:
    """A URL whose host is an address: nothing to look up, so its check is the same every time."""
    parsed = _parsed(url)
    return _pinned(parsed, _checked(parsed.host, parsed.literal or (), allow_private))


def _literal(host: str) -> tuple[IPAddress, ...] | None:
    """The host as an address when it is one (no lookup), else None."""
    try:
        return (ipaddress.ip_address(host),)
    except ValueError:
        return None


def _pinned(parsed: _Parsed, address: IPAddress) -> Target:
    netloc = f"[{address}]:{parsed.port}" if address.version == 6 else f"{address}:{parsed.port}"
    return Target(
        url=f"{parsed.scheme}://{netloc}{parsed.rest}",
        host_header=parsed.host_header,
        hostname=parsed.host,
        https=parsed.scheme == "https",
    )
