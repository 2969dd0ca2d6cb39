"""The owners' mail about an endpoint turned off after failing deliveries, composed at send time."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement.mail.mailer import Mailer, Outgoing, Skip
from engagement.models import Delivery, Site, WebhookDelivery, WebhookEndpoint


def webhook_disabled_mail(
    session: Session, mailer: Mailer, delivery: Delivery, now: datetime
) -> Outgoing | Skip:
    endpoint = session.get(WebhookEndpoint, int(delivery.context["endpoint_id"]))
    site = session.get(Site, endpoint.site_id) if endpoint is not None else None
    if endpoint is None or site is None:
        return Skip(delivery.id, "deleted")
    if endpoint.enabled:
        return Skip(delivery.id, "already_enabled")  # turned back on before the mail left
    last_error = session.scalar(
        sa.select(WebhookDelivery.last_error)
        .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == "failed")
        .order_by(WebhookDelivery.id.desc())
        .limit(1)
    )
    locale = mailer.locale_of(site, None)  # owners read the site's language
    context = {
        "locale": locale,
        "site": mailer.site_context(site, locale),
        "recipient": delivery.recipient,
        "supporter": False,
        "webhook": {
            "id": endpoint.id,
            "url": endpoint.url,
            "reason": endpoint.disabled_reason or "deliveries failed",
            "last_error": last_error or "none recorded",
            "admin_url": f"{mailer.settings.base_url}/admin/sites/{site.key}/webhooks",
        },
        "unsubscribe_url": None,
        "preferences_url": None,
    }
    return mailer.outgoing(delivery, delivery.template, context, site=site, now=now)
