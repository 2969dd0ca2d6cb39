"""Bounce reports name each address as it is stored, whatever form the mail went to."""

from __future__ import annotations

import email
import email.policy

import pytest

from engagement.mail.bounces import bounces_in


def _report(final_recipient: str) -> email.message.EmailMessage:
    data = (
        "From: MAILER-DAEMON@mx.example.net\r\n"
        "To: news@example.org\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n'
        "\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: {final_recipient}\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\n"
        "\r\n--b1--\r\n"
    ).encode()
    return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("final_recipient", "stored"),
    [
        ("rfc822; Alice@Example.org", "alice@example.org"),
        ("rfc822; User@XN--BCHER-KVA.example", "user@bücher.example"),
        ("rfc822; <user@xn--bcher-kva.example>", "user@bücher.example"),
        ("rfc822; someone@localhost", "someone@localhost"),  # not storable, still reported
        ("x400; C=DE;A=x", None),
    ],
)
def test_a_bounced_address_is_named_as_it_is_stored(final_recipient, stored):
    (bounce,) = bounces_in(_report(final_recipient))

    assert bounce.recipient == stored
    assert bounce.permanent
