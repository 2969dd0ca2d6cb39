"""Read delivery status notifications (RFC 3464) from a mbox file or a maildir."""

from __future__ import annotations

import email
import email.policy
import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage, Message
from pathlib import Path

from engagement import validation as check
from engagement.errors import InvalidInput

# Where a bounce names the VERP address it came back to.
ADDRESSED_TO = ("Delivered-To", "X-Original-To", "Envelope-To", "To")
VERP = re.compile(r"bounces\+(\d+)-([0-9a-f]{12})@", re.IGNORECASE)


@dataclass(frozen=True)
class Bounce:
    """One recipient's fate in a report: ``failed`` with a 5.x.x status is a hard bounce."""

    recipient: str | None
    action: str
    status: str
    diagnostic: str | None
    verp: tuple[int, str] | None  # (delivery id, signature) when returned to a VERP address

    @property
    def permanent(self) -> bool:
        return self.action == "failed" and self.status.startswith("5")


def read_mailbox(path: Path) -> Iterator[EmailMessage]:
    """Every message in a maildir (a folder) or a mbox file, parsed with the modern policy."""
    box: mailbox.Mailbox[mailbox.Message] = (
        mailbox.Maildir(str(path), factory=None, create=False) if path.is_dir() else mailbox.mbox(str(path))
    )
    try:
        for key in box.iterkeys():
            raw = box.get_bytes(key)
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            if isinstance(parsed, EmailMessage):
                yield parsed
    finally:
        box.close()


def bounces_in(msg: EmailMessage) -> list[Bounce]:
    """The per-recipient reports of a DSN; empty for any other kind of message."""
    if msg.get_content_type() != "multipart/report" or msg.get_param("report-type") != "delivery-status":
        return []
    verp = _verp(msg)
    found: list[Bounce] = []
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            continue
        for block in blocks[1:]:  # the first block is about the message, the others per recipient
            if not isinstance(block, Message):
                continue
            found.append(
                Bounce(
                    recipient=_address(block.get("Final-Recipient") or block.get("Original-Recipient")),
                    action=str(block.get("Action", "")).strip().lower(),
                    status=str(block.get("Status", "")).strip(),
                    diagnostic=_text(block.get("Diagnostic-Code")),
                    verp=verp,
                )
            )
    return found


def _verp(msg: EmailMessage) -> tuple[int, str] | None:
    for name in ADDRESSED_TO:
        for value in msg.get_all(name, []):
            found = VERP.search(str(value))
            if found:
                return int(found.group(1)), found.group(2).lower()
    return None


def _address(field: object) -> str | None:
    """``rfc822; Jane@Example.org`` → ``jane@example.org`` (other address types are ignored).

    Normalised as addresses are when stored, so that ``user@xn--bcher-kva.example``, the
    form the mail went to, names the subscriber ``user@bücher.example``.
    """
    if field is None:
        return None
    kind, _, value = str(field).partition(";")
    if kind.strip().lower() != "rfc822" or "@" not in value:
        return None
    address = value.strip().strip("<>").strip()
    try:
        return check.email("recipient", address)
    except InvalidInput:  # no address we could have stored; recorded all the same
        local, _, domain = address.rpartition("@")
        return f"{local.lower()}@{domain.lower()}"


def _text(field: object) -> str | None:
    return " ".join(str(field).split())[:500] if field is not None else None
