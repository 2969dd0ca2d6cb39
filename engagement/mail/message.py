"""Write a MIME message (text + HTML parts) whose headers nothing a reader typed can break.

Why not ``email.message.EmailMessage``: building and serialising one there costs ~1.9 ms,
more than an SMTP server takes to accept the mail, which would halve a large fan-out. This
writer emits only what we need, all ASCII: every free-text header value is first reduced to
one line (CR, LF and other control characters become spaces), non-ASCII text is RFC 2047
encoded and folded by ``email.header``, bodies are quoted-printable with CRLF line ends. The
one exception is a recipient whose local part is not ASCII: RFC 2047 cannot encode an
address, so its To: header is raw UTF-8 (RFC 6532) and the mail needs SMTPUTF8. The tests
parse every kind of mail back with ``email``'s strict modern policy.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, formataddr
from functools import lru_cache

from engagement.mail.render import RenderedMail

MAX_HEADER_TEXT = 200
ENCODED_WORD_BYTES = 39  # 52 base64 characters: a folded line stays under 78
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_SAFE_TOKEN = re.compile(r"[\x21-\x7e]+")  # message ids, URLs: printable ASCII, no spaces
# A UTF-8 address: no space of any script, no control character, nothing that ends an address.
_UTF8_ADDRESS = re.compile(r"[^\s\x00-\x1f\x7f<>]+")


@dataclass(frozen=True)
class MailHeaders:
    """Everything above the body of one mail; free text is cleaned when the message is built."""

    from_name: str
    from_address: str
    to: str
    message_id: str
    date: datetime
    list_id: str  # "<site-key.example.org>"
    list_name: str
    unsubscribe_url: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    bulk: bool = False
    return_path: str | None = None


def one_line(value: str, max_length: int = MAX_HEADER_TEXT) -> str:
    """Text safe for a header: control characters (CR and LF included) become spaces."""
    cleaned = " ".join(_CONTROL.sub(" ", value).split())
    if len(cleaned) > max_length:
        cleaned = cleaned[: max_length - 1].rstrip() + "…"
    return cleaned


def make_message_id(local: str, domain: str) -> str:
    """``<local@domain>`` from parts we generate (ids and digests), never from reader text."""
    return f"<{local}@{domain}>"


def build_message(mail: RenderedMail, headers: MailHeaders) -> bytes:
    """The whole message as bytes ready for SMTP: multipart/alternative, text then HTML."""
    lines = [
        _text_header("Subject", one_line(mail.subject)),
        "From: " + _address(one_line(headers.from_name, 100), headers.from_address),
        "To: " + _recipient(headers.to),
        "Date: " + format_datetime(headers.date),
        "Message-ID: " + _token(headers.message_id),
    ]
    if headers.in_reply_to:
        lines.append("In-Reply-To: " + _token(headers.in_reply_to))
    if headers.references:
        lines.append("References: " + "\r\n ".join(_token(ref) for ref in headers.references))
    lines.append(
        _text_header(
            "List-Id", f'"{_unquoted(one_line(headers.list_name, 100))}"', tail=_token(headers.list_id)
        )
    )
    if headers.unsubscribe_url:
        lines.append(f"List-Unsubscribe: <{_token(headers.unsubscribe_url)}>")
        lines.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    lines.append("Auto-Submitted: auto-generated")
    lines.append("X-Auto-Response-Suppress: All")  # asks autoresponders to stay quiet
    if headers.bulk:
        lines.append("Precedence: bulk")
    if headers.return_path:
        lines.append(f"Return-Path: <{_token(headers.return_path)}>")
    boundary = "=_" + secrets.token_hex(16)
    lines += [
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
        "",
        f"--{boundary}",
        *_part("plain", mail.text),
        f"--{boundary}",
        *_part("html", mail.html),
        f"--{boundary}--",
        "",
    ]
    # ASCII unless the recipient's address cannot be: then UTF-8 (every other line is still ASCII).
    return "\r\n".join(lines).encode("ascii" if headers.to.isascii() else "utf-8")


def _text_header(name: str, value: str, tail: str = "") -> str:
    """``Name: value`` folded, with non-ASCII text encoded; ``tail`` is appended unencoded."""
    if value.isascii() and len(name) + len(value) + len(tail) < 76:
        text = f"{name}: {value}"
    elif value.isascii():
        text = f"{name}: " + _fold(value)
    else:
        text = f"{name}: " + _encoded_words(value)
    return f"{text}\r\n {tail}" if tail and len(text) + len(tail) > 76 else f"{text} {tail}" if tail else text


def _fold(value: str) -> str:
    """Fold ASCII text at spaces so that lines stay short (a word longer than a line stays whole)."""
    lines, line = [], ""
    for word in value.split(" "):
        if line and len(line) + 1 + len(word) > 70:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\r\n ".join(lines)


@lru_cache(maxsize=1024)  # a fan-out repeats one subject thousands of times
def _encoded_words(value: str) -> str:
    """RFC 2047 base64 words of whole UTF-8 characters, one short line each."""
    words, chunk = [], ""
    for char in value:
        if len(chunk.encode()) + len(char.encode()) > ENCODED_WORD_BYTES:
            words.append(chunk)
            chunk = char
        else:
            chunk += char
    words.append(chunk)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w.encode()).decode()}?=" for w in words)


def _address(name: str, address: str) -> str:
    if not _ascii_address(address):
        raise ValueError(f"cannot put {address!r} in a header")
    return _named_address(name, address) if name else address


def _recipient(address: str) -> str:
    """The To: address: ASCII as ever, or UTF-8 that still cannot end the line or the address."""
    if _ascii_address(address):
        return address
    if address.isascii() or not _UTF8_ADDRESS.fullmatch(address) or not address.isprintable():
        # isprintable: no format characters, line or paragraph separators, unassigned code points.
        raise ValueError(f"cannot put {address!r} in a header")
    return address


def _ascii_address(address: str) -> bool:
    return (
        address.isascii()
        and bool(_SAFE_TOKEN.fullmatch(address))
        and "<" not in address
        and ">" not in address
    )


@lru_cache(maxsize=1024)
def _named_address(name: str, address: str) -> str:
    # The stdlib encodes a display name as mail parsers read it back (the site's name,
    # the same on every mail of a site: cached).
    return formataddr((name, address), charset="utf-8")


def _token(value: str) -> str:
    """Values we generate (ids, URLs): refuse anything that could end the header line."""
    if not _SAFE_TOKEN.fullmatch(value) or len(value) > 900:
        raise ValueError(f"unsafe header value {value[:80]!r}")
    return value


def _unquoted(value: str) -> str:
    return value.replace("\\", "").replace('"', "'")


def _part(subtype: str, body: str) -> list[str]:
    normalised = body.replace("\r\n", "\n").replace("\r", "\n")
    encoded = binascii.b2a_qp(normalised.encode("utf-8"), istext=True).decode("ascii")
    return [
        f'Content-Type: text/{subtype}; charset="utf-8"',
        "Content-Transfer-Encoding: quoted-printable",
        "",
        encoded.replace("\n", "\r\n"),
    ]
