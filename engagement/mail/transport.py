"""Transports: SMTP (one connection per batch, failures sorted into kinds) and a mail folder."""

from __future__ import annotations

import hashlib
import os
import re
import smtplib
import ssl
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import unquote, urlsplit

from engagement.config import Settings

SMTP_TIMEOUT_SECONDS = 30.0
NO_SMTPUTF8 = "the SMTP server does not offer SMTPUTF8, which this address needs"
_MESSAGE_ID = re.compile(rb"(?im)^Message-ID:\s*(<[^>\r\n]+>)")


class SendError(Exception):
    """A message did not leave; ``permanent`` says whether trying again can help."""

    def __init__(self, message: str, *, code: int | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.permanent = permanent


class RecipientRefused(SendError):
    """The server refused the recipient for good (5xx on RCPT): the address is to be suppressed."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message, code=code, permanent=True)


class ConnectionLost(SendError):
    """The connection broke (or never opened); the message may be sent again on a new one."""


class Connection(Protocol):
    def send(self, sender: str, recipient: str, data: bytes) -> None:
        """Hand one message to the server, or raise a SendError."""


class Transport(Protocol):
    """Where mail goes; ``key`` names it for the shared rate limit."""

    @property
    def key(self) -> str: ...

    def connect(self) -> AbstractContextManager[Connection]: ...


@dataclass(frozen=True)
class SMTPTransport:
    """An SMTP relay: plain, TLS from the first byte (``implicit``) or ``starttls``."""

    tls: Literal["none", "implicit", "starttls"]
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    timeout: float = SMTP_TIMEOUT_SECONDS

    @property
    def key(self) -> str:
        return f"smtp:{self.host}:{self.port}"

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        connection = _SMTPConnection(self)
        try:
            yield connection
        finally:
            connection.close()

    def verify(self) -> str:
        """Connect, greet, secure and log in exactly as a send would, then quit: nothing is sent.

        Returns what was done; raises ``SendError`` (``ConnectionLost`` when unreachable).
        """
        connection = _SMTPConnection(self)
        try:
            connection.open()
        finally:
            connection.close()
        steps = ["EHLO"]
        steps += {"implicit": ["TLS"], "starttls": ["STARTTLS"], "none": []}[self.tls]
        steps += ["AUTH"] if self.username else []
        return f"{self.host}:{self.port} answered {', '.join(steps)}; nothing sent"


class _SMTPConnection:
    """Opens lazily, reopens once after a lost connection, closes politely."""

    def __init__(self, transport: SMTPTransport) -> None:
        self.transport = transport
        self._smtp: smtplib.SMTP | None = None

    def send(self, sender: str, recipient: str, data: bytes) -> None:
        smtp = self.open()
        try:
            self._transaction(smtp, sender, recipient, data)
        except ConnectionLost:
            self._drop()
            raise
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code == 421:  # the server is closing the connection
                self._drop()
            raise _classified(exc.smtp_code, exc.smtp_error, recipient=False) from None
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise ConnectionLost(f"connection lost: {exc}") from None
        except smtplib.SMTPException as exc:
            self._drop()
            raise ConnectionLost(f"SMTP error: {exc}") from None

    @staticmethod
    def _transaction(smtp: smtplib.SMTP, sender: str, recipient: str, data: bytes) -> None:
        """MAIL, RCPT, DATA: ``sendmail`` without its re-parsing of every address on every mail.

        The addresses are ours (validated when stored), so they go as they are. One that is
        not ASCII (a UTF-8 local part) needs SMTPUTF8: a server without it fails this one mail
        for good, which is no fault of the recipient's (a relay that offers it can send it on
        a retry).
        """
        mail_from = f"FROM:<{sender}>"
        if not (sender.isascii() and recipient.isascii()):
            if not smtp.has_extn("smtputf8"):
                raise SendError(NO_SMTPUTF8, permanent=True)
            smtp.command_encoding = "utf-8"  # as smtplib's own sendmail does for SMTPUTF8
            # The headers carry 8-bit text; a server offering SMTPUTF8 offers 8BITMIME (RFC 6531).
            mail_from += " BODY=8BITMIME SMTPUTF8" if smtp.has_extn("8bitmime") else " SMTPUTF8"
        code, reply = smtp.docmd("mail", mail_from)
        if code != 250:
            smtp.rset()
            raise _classified(code, reply, recipient=False)
        code, reply = smtp.docmd("rcpt", f"TO:<{recipient}>")
        if code not in (250, 251):
            smtp.rset()
            raise _classified(code, reply, recipient=True)
        code, reply = smtp.data(data)
        if code != 250:
            smtp.rset()
            raise _classified(code, reply, recipient=False)

    def close(self) -> None:
        if self._smtp is not None:
            with suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self._drop()

    def open(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        t = self.transport
        try:
            if t.tls == "implicit":
                self._smtp = smtplib.SMTP_SSL(
                    t.host, t.port, timeout=t.timeout, context=ssl.create_default_context()
                )
            else:
                self._smtp = smtplib.SMTP(t.host, t.port, timeout=t.timeout)
                if t.tls == "starttls":
                    self._smtp.starttls(context=ssl.create_default_context())
            if t.username:
                self._smtp.login(t.username, t.password or "")
            self._smtp.ehlo_or_helo_if_needed()
        except smtplib.SMTPAuthenticationError as exc:
            self._drop()  # a half-opened connection is closed, not left to the collector
            raise SendError(f"SMTP login refused: {exc}", code=exc.smtp_code) from None
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise ConnectionLost(f"cannot connect to {t.host}:{t.port}: {exc}") from None
        return self._smtp

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            with suppress(OSError):
                smtp.close()


def _classified(code: int, reply: bytes | str, *, recipient: bool) -> SendError:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    message = f"{code} {text}".strip()
    if code == 421:  # the server is closing the connection
        return ConnectionLost(message, code=code)
    if 500 <= code < 600:
        return RecipientRefused(message, code) if recipient else SendError(message, code=code, permanent=True)
    return SendError(message, code=code)


@dataclass(frozen=True)
class FileTransport:
    """Writes each message as an ``.eml`` file in a folder (the embedded mode's mailbox)."""

    folder: Path

    @property
    def key(self) -> str:
        return f"file:{self.folder}"

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        self.folder.mkdir(parents=True, exist_ok=True)
        yield self

    def verify(self) -> str:
        """The folder exists (made if need be) and takes a file; nothing is left in it."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.folder, prefix=".tmp-check-"):
                pass
        except OSError as exc:
            raise SendError(f"cannot write to {self.folder}: {exc}") from None
        return f"mail is written to the folder {self.folder}"

    def send(self, sender: str, recipient: str, data: bytes) -> None:
        # Named after the recipient and the Message-ID, so writing one mail twice leaves one file.
        found = _MESSAGE_ID.search(data.split(b"\r\n\r\n", 1)[0])
        identity = found.group(1) if found else data
        digest = hashlib.sha256(recipient.encode() + b"\0" + identity).hexdigest()[:24]
        target = self.folder / f"{digest}.eml"
        if target.exists():
            return
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".eml")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)  # atomic: a reader never sees half a mail
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise SendError(f"cannot write {target}: {exc}") from None


def transport_for(settings: Settings) -> SMTPTransport | FileTransport:
    """The SMTP relay the settings name, or the mail folder when there is none (``file://``)."""
    target = settings.smtp
    if target is None:
        return FileTransport(Path(unquote(urlsplit(settings.resolved_smtp_url).path)))
    return SMTPTransport(
        tls=target.tls, host=target.host, port=target.port, username=target.username, password=target.password
    )
