"""The webhook URL guard: private, loopback, link-local and metadata addresses refused, no packet sent.

The resolver is given (a test name maps to a private address), and every way of opening a
socket fails the test: the refusal happens before any connection, and no traffic ever goes
to an address other than the loopback.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence

import pytest

from engagement.errors import InvalidInput
from engagement.services.webhooks.addresses import AddressGuard
from engagement.services.webhooks.client import Request, WebhookClient

ANSWERS = {
    "intranet.test": ["10.0.0.1"],
    "metadata.test": ["169.254.169.254"],
    "mapped.test": ["::ffff:10.0.0.1"],
    "home.test": ["192.168.1.20"],
    "local.test": ["127.0.0.1"],
    "v6local.test": ["::1"],
    "shared.test": ["100.64.0.1"],
    "mixed.test": ["93.184.215.14", "172.16.0.9"],  # one bad answer is enough
    "public.test": ["93.184.215.14"],
}


def resolver(host: str, port: int) -> Sequence[str]:
    if host not in ANSWERS:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return ANSWERS[host]


@pytest.fixture(autouse=True)
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


GUARD = AddressGuard(resolver=resolver)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://intranet.test/hook", "10.0.0.1, a private address"),
        ("https://metadata.test/latest", "169.254.169.254, a cloud metadata address"),
        ("http://169.254.169.254/latest/meta-data", "a cloud metadata address"),
        ("https://mapped.test/", "::ffff:a00:1, a private address"),  # ::ffff:10.0.0.1
        ("https://home.test/", "a private address"),
        ("https://local.test/", "a loopback address"),
        ("https://v6local.test/", "a loopback address"),
        ("http://127.0.0.1:8080/hook", "a loopback address"),
        ("http://[::1]/hook", "a loopback address"),
        ("http://[fe80::1]/hook", "a link-local address"),
        ("http://224.0.0.1/hook", "a multicast address"),
        ("http://0.0.0.0/hook", "a reserved address"),
        ("https://shared.test/", "not a public address"),
        ("https://mixed.test/", "172.16.0.9, a private address"),
    ],
)
def test_private_addresses_are_refused_with_the_reason(url: str, reason: str):
    with pytest.raises(InvalidInput) as caught:
        GUARD.check_url(url)
    assert reason in caught.value.reason
    assert "public addresses only" in caught.value.reason


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://public.test/hook", "only http:// and https://"),
        ("file:///etc/passwd", "only http:// and https://"),
        ("https://user:secret@public.test/hook", "must not carry credentials"),
        ("https://token@public.test/hook", "must not carry credentials"),
        ("https:///nohost", "has no host"),
        ("https://public.test:99999/", "invalid port"),
        ("https://nowhere.test/", "does not resolve"),
        ("https://public.test/a b", "one line"),
        ("", "give the endpoint's URL"),
    ],
)
def test_urls_that_are_not_plain_http_are_refused(url: str, reason: str):
    with pytest.raises(InvalidInput) as caught:
        GUARD.check_url(url)
    assert reason in caught.value.reason


def test_a_public_address_is_pinned_and_the_name_kept_for_host_and_tls():
    target = GUARD.check_url("https://public.test:8443/hooks/engagement?x=1")
    assert target.url == "https://93.184.215.14:8443/hooks/engagement?x=1"
    assert (target.host_header, target.hostname, target.https) == ("public.test:8443", "public.test", True)


def test_the_development_switch_lets_loopback_through():
    target = AddressGuard(allow_private=True, resolver=resolver).check_url("http://local.test:9000/h")
    assert target.url == "http://127.0.0.1:9000/h"


def test_a_name_that_turns_private_at_send_time_is_refused_without_a_connection():
    """DNS rebinding: the name was public when added; at send time it resolves to 10.0.0.1."""
    answers = {"rebind.test": ["93.184.215.14"]}
    guard = AddressGuard(resolver=lambda host, port: answers[host])
    guard.check_url("https://rebind.test/hook")
    answers["rebind.test"] = ["10.0.0.1"]
    client = WebhookClient(guard)
    try:
        outcome = client.run(client.send(Request("https://rebind.test/hook", "msg_1_1", "{}", None))).result()
    finally:
        client.close()
    assert outcome.kind == "failed"
    assert "10.0.0.1, a private address" in (outcome.error or "")
