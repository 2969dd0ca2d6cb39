"""The mailer: templates, transport and rate gate of one process, and how every mail is assembled."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import structlog

from engagement import links
from engagement.config import Settings
from engagement.i18n import formatting
from engagement.i18n.catalogs import translate
from engagement.i18n.locales import DEFAULT, choose
from engagement.keys import Keys
from engagement.mail.addresses import wire_address
from engagement.mail.gate import RateGate, make_gate
from engagement.mail.message import MailHeaders, build_message, make_message_id, one_line
from engagement.mail.render import MailRenderer
from engagement.mail.transport import FileTransport, SMTPTransport, transport_for
from engagement.models import Delivery, Site

log = structlog.get_logger(__name__)
BOUNCE_PREFIX = "bounces+"


@dataclass(frozen=True)
class Outgoing:
    """A mail ready to leave: envelope, bytes, and what to record once it has."""

    delivery_id: int
    sender: str
    recipient: str  # as stored: what a refusal suppresses
    envelope_recipient: str  # as sent: the domain in IDNA form (``wire_address``)
    message_id: str
    template: str
    data: bytes


@dataclass(frozen=True)
class Skip:
    """A mail that will not leave, and why (recorded on its delivery)."""

    delivery_id: int
    reason: str


class Unsendable(Exception):
    """This one mail cannot be written: an address stored unchecked, or a sender that is no address."""


def guarded(delivery: Delivery, compose: Callable[[Delivery], Outgoing | Skip]) -> Outgoing | Skip:
    """Compose one mail; one that cannot be written is skipped, never its whole batch."""
    try:
        return compose(delivery)
    except Unsendable as exc:
        log.warning("delivery.unsendable", delivery_id=delivery.id, error=str(exc))
        return Skip(delivery.id, "unsendable")


@dataclass
class Mailer:
    """Long-lived per process, like the core; each batch of deliveries borrows it."""

    settings: Settings
    keys: Keys
    renderer: MailRenderer
    transport: SMTPTransport | FileTransport
    gate: RateGate

    @property
    def domain(self) -> str:
        """Message-IDs and List-Ids end in the host of the service's base URL."""
        return urlsplit(self.settings.base_url).hostname or "localhost"

    def site_context(self, site: Site, locale: str = DEFAULT) -> dict[str, Any]:
        return site_context(site, locale)

    def locale_of(self, site: Site, chosen: str | None) -> str:
        """The language of a mail: the reader's choice when we ship it, else the site's."""
        return choose(chosen, default=site.language or DEFAULT)

    def subscriber_links(self, subscriber_id: int, subscription_id: int | None) -> dict[str, str]:
        """The one-click unsubscribe link (of one subscription, or everything) and preferences."""
        base = self.settings.base_url
        token = links.unsubscribe_token(self.keys, subscriber_id, subscription_id)
        return {
            "unsubscribe_url": links.unsubscribe_url(base, token),
            "preferences_url": links.preferences_url(base, links.preferences_token(self.keys, subscriber_id)),
        }

    def local_time(self, site: Site, moment: datetime, locale: str = DEFAULT) -> str:
        """A moment in the site's time zone, as ``locale`` writes it: ``6 Dec 2026, 14:05 CET``."""
        return formatting.when(moment, site.timezone, locale)

    def delivery_message_id(self, delivery: Delivery) -> str:
        """Stable for a delivery across retries, so a receiver can drop a duplicate."""
        digest = hashlib.sha256(delivery.idempotency_key.encode()).hexdigest()[:24]
        return make_message_id(f"d{delivery.id}.{digest}", self.domain)

    def comment_message_id(self, comment_id: int) -> str:
        return make_message_id(f"comment-{comment_id}", self.domain)

    def page_message_id(self, page_id: int) -> str:
        return make_message_id(f"page-{page_id}", self.domain)

    def outgoing(
        self,
        delivery: Delivery,
        template: str,
        context: dict[str, Any],
        *,
        site: Site,
        now: datetime,
        message_id: str | None = None,
        in_reply_to: str | None = None,
        references: tuple[str, ...] = (),
        bulk: bool = False,
    ) -> Outgoing:
        """Render ``template`` with ``context`` and wrap it in the headers every mail carries."""
        rendered = self.renderer.render(template, context)
        message_id = message_id or self.delivery_message_id(delivery)
        sender = self.bounce_address(delivery.id) or self.settings.mail_from
        try:
            to = wire_address(delivery.recipient)
            headers = MailHeaders(
                from_name=site.name,
                from_address=self.settings.mail_from,
                to=to,
                message_id=message_id,
                date=now,
                list_id=f"<{site.key}.{self.domain}>",
                list_name=one_line(site.name, 100),
                unsubscribe_url=context.get("unsubscribe_url"),
                in_reply_to=in_reply_to,
                references=references,
                bulk=bulk,
                return_path=sender if sender != self.settings.mail_from else None,
            )
            data = build_message(rendered, headers)
        except ValueError as exc:  # from data that was never checked, or a misconfigured sender
            raise Unsendable(str(exc)) from None
        return Outgoing(
            delivery_id=delivery.id,
            sender=sender,
            recipient=delivery.recipient,
            envelope_recipient=to,
            message_id=message_id,
            template=template,
            data=data,
        )

    def bounce_address(self, delivery_id: int) -> str | None:
        """VERP: a bounce names the delivery it is about, signed so it cannot be forged."""
        domain = self.settings.bounce_domain
        if not domain:
            return None
        return (
            f"{BOUNCE_PREFIX}{delivery_id}-{bounce_signature(self.settings.secret_key, delivery_id)}@{domain}"
        )


def site_context(site: Site, locale: str = DEFAULT) -> dict[str, Any]:
    """What every mail template knows of its site (``engagement templates preview`` too).

    The publisher's own call to action and thanks are sent as written; our defaults speak
    the mail's language.
    """
    return {
        "key": site.key,
        "name": site.name,
        "support_call": site.support_text
        or translate(locale, "Help us grow. Support %(site)s on Patreon!", site=site.name),
        "support_url": site.support_url,
        "supporter_thanks": site.supporter_thanks
        or translate(
            locale, "Thank you for supporting %(site)s! Readers like you keep it going.", site=site.name
        ),
    }


def bounce_signature(secret: str, delivery_id: int) -> str:
    mac = hmac.new(secret.encode(), f"bounce:{delivery_id}".encode(), hashlib.sha256)
    return mac.hexdigest()[:12]


def build_mailer(settings: Settings, keys: Keys) -> Mailer:
    """The mailer for one process: the SMTP relay (or mail folder) the settings name."""
    transport = transport_for(settings)
    broker = settings.resolved_broker_url
    redis_url = broker if broker.startswith(("redis://", "rediss://")) else None
    return Mailer(
        settings=settings,
        keys=keys,
        renderer=MailRenderer(settings.templates_dir),
        transport=transport,
        gate=make_gate(settings.smtp_rate_per_second, transport.key, redis_url),
    )
