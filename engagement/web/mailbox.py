"""The demo's mailbox: the ``.eml`` files the embedded mode writes, listed and taken apart."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

MAIL_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_LISTED = 200
SHOWN_HEADERS = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Auto-Submitted",
    "Precedence",
)


@dataclass(frozen=True)
class MailSummary:
    id: str
    subject: str
    sender: str
    recipient: str
    date: str


@dataclass(frozen=True)
class Mail:
    summary: MailSummary
    headers: list[tuple[str, str]]
    text: str | None
    html: str | None
    unsubscribe_url: str | None
    one_click: bool


def list_mails(folder: Path) -> list[MailSummary]:
    """The newest mails first (by when they were written)."""
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    parser = BytesParser(policy=policy.default)
    summaries = []
    for path in files[:MAX_LISTED]:
        with path.open("rb") as handle:
            message = parser.parse(handle, headersonly=True)
        summaries.append(_summary(path.stem, message))
    return summaries


def read_mail(folder: Path, mail_id: str) -> Mail | None:
    """One mail by its id (the file's name), or None."""
    if not MAIL_ID.match(mail_id):
        return None
    path = folder / f"{mail_id}.eml"
    if not path.is_file():
        return None
    with path.open("rb") as handle:
        message = BytesParser(policy=policy.default).parse(handle)
    assert isinstance(message, EmailMessage)
    return Mail(
        summary=_summary(mail_id, message),
        headers=[(name, str(message[name])) for name in SHOWN_HEADERS if message[name] is not None],
        text=_part(message, "plain"),
        html=_part(message, "html"),
        unsubscribe_url=_https_link(str(message.get("List-Unsubscribe", ""))),
        one_click=str(message.get("List-Unsubscribe-Post", "")).strip() == "List-Unsubscribe=One-Click",
    )


def _summary(mail_id: str, message: EmailMessage) -> MailSummary:
    date = str(message.get("Date", ""))
    with contextlib.suppress(TypeError, ValueError):
        date = parsedate_to_datetime(date).strftime("%Y-%m-%d %H:%M:%S")
    return MailSummary(
        id=mail_id,
        subject=str(message.get("Subject", "(no subject)")),
        sender=str(message.get("From", "")),
        recipient=str(message.get("To", "")),
        date=date,
    )


def _part(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return None
    content: object = part.get_content()
    return content if isinstance(content, str) else None


def _https_link(header: str) -> str | None:
    """The http(s) URL among a List-Unsubscribe header's ``<…>`` entries."""
    links: list[str] = re.findall(r"<([^>]+)>", header)
    return next((link for link in links if link.startswith(("https://", "http://"))), None)
