"""A site's webhook endpoints: added (the secret shown once), listed, disabled, enabled, removed, re-keyed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from engagement import validation as check
from engagement.errors import InvalidInput, NotFound
from engagement.models import Site, WebhookEndpoint
from engagement.models.webhooks import WEBHOOK_FORMATS
from engagement.services.sites import get_site
from engagement.services.webhooks.addresses import AddressGuard
from engagement.services.webhooks.bodies import WEBHOOK_EVENTS
from engagement.services.webhooks.signing import new_secret
from engagement.uow import UnitOfWork

MAX_ENDPOINTS_PER_SITE = 1000  # a bound, not a plan: each event costs one row per endpoint


@dataclass(frozen=True)
class EndpointView:
    """An endpoint as its owner sees it (the secret only right after add or rotate)."""

    id: int
    site: str
    url: str
    events: tuple[str, ...]
    format: str
    enabled: bool
    disabled_reason: str | None
    failure_streak: int
    created_at: datetime
    secret: str | None = None


def _view(endpoint: WebhookEndpoint, site_key: str, *, secret: bool = False) -> EndpointView:
    return EndpointView(
        id=endpoint.id,
        site=site_key,
        url=endpoint.url,
        events=tuple(endpoint.events),
        format=endpoint.format,
        enabled=endpoint.enabled,
        disabled_reason=endpoint.disabled_reason,
        failure_streak=endpoint.failure_streak,
        created_at=endpoint.created_at,
        secret=endpoint.secret if secret else None,
    )


def check_events(events: Sequence[str]) -> list[str]:
    """The events asked for, known and without repeats; all of them when none is named."""
    for event in events:
        check.one_of("event", event, WEBHOOK_EVENTS)
    return list(dict.fromkeys(events)) or list(WEBHOOK_EVENTS)


def add_endpoint(
    uow: UnitOfWork,
    guard: AddressGuard,
    site_key: str,
    url: str,
    events: Sequence[str] = (),
    fmt: str = "standard",
) -> EndpointView:
    """Register ``url`` for ``site_key``'s events; the URL is checked (and resolved) first."""
    check.one_of("format", fmt, WEBHOOK_FORMATS)
    wanted = check_events(events)
    guard.check_url(url)  # InvalidInput with the reason: not http(s), credentials, private address
    with uow:
        site = get_site(uow.session, site_key)
        count = uow.session.scalar(
            sa.select(sa.func.count()).select_from(WebhookEndpoint).where(WebhookEndpoint.site_id == site.id)
        )
        if (count or 0) >= MAX_ENDPOINTS_PER_SITE:
            raise InvalidInput("url", f"a site has at most {MAX_ENDPOINTS_PER_SITE} webhook endpoints")
        endpoint = WebhookEndpoint(
            site_id=site.id,
            url=url,
            events=wanted,
            format=fmt,
            secret=new_secret(),
            enabled=True,
            failure_streak=0,
            created_at=uow.now(),
        )
        uow.session.add(endpoint)
        uow.session.flush()
        view = _view(endpoint, site.key, secret=True)
        uow.commit()
        return view


def list_endpoints(uow: UnitOfWork, site_key: str | None = None) -> list[EndpointView]:
    """Every endpoint (of one site, when given), oldest first."""
    with uow:
        stmt = sa.select(WebhookEndpoint, Site.key).join(Site, Site.id == WebhookEndpoint.site_id)
        if site_key is not None:
            stmt = stmt.where(Site.id == get_site(uow.session, site_key).id)
        return [_view(e, key) for e, key in uow.session.execute(stmt.order_by(WebhookEndpoint.id))]


def set_enabled(
    uow: UnitOfWork, endpoint_id: int, enabled: bool, *, site_ids: Sequence[int] | None = None
) -> EndpointView:
    """Turn an endpoint off (nothing more is planned for it) or on again (its streak starts over)."""
    with uow:
        endpoint, site_key = _endpoint(uow, endpoint_id, site_ids)
        endpoint.enabled = enabled
        endpoint.failure_streak = 0
        endpoint.disabled_reason = None if enabled else "disabled by hand"
        endpoint.disabled_at = None if enabled else uow.now()
        view = _view(endpoint, site_key)
        uow.commit()
        return view


def remove_endpoint(uow: UnitOfWork, endpoint_id: int, *, site_ids: Sequence[int] | None = None) -> None:
    """Delete an endpoint and its deliveries."""
    with uow:
        endpoint, _ = _endpoint(uow, endpoint_id, site_ids)
        uow.session.delete(endpoint)
        uow.commit()


def rotate_secret(
    uow: UnitOfWork, endpoint_id: int, *, site_ids: Sequence[int] | None = None
) -> EndpointView:
    """A new secret (shown once); the next attempts, retries included, are signed with it."""
    with uow:
        endpoint, site_key = _endpoint(uow, endpoint_id, site_ids)
        endpoint.secret = new_secret()
        view = _view(endpoint, site_key, secret=True)
        uow.commit()
        return view


def _endpoint(
    uow: UnitOfWork, endpoint_id: int, site_ids: Sequence[int] | None
) -> tuple[WebhookEndpoint, str]:
    """The endpoint, locked; NotFound also when ``site_ids`` (an admin's sites) do not include its site."""
    if not isinstance(endpoint_id, int) or isinstance(endpoint_id, bool) or endpoint_id < 1:
        raise InvalidInput("endpoint", "give an endpoint id (a positive whole number)")
    row = uow.session.execute(
        sa.select(WebhookEndpoint, Site.key)
        .join(Site, Site.id == WebhookEndpoint.site_id)
        .where(WebhookEndpoint.id == endpoint_id)
        .with_for_update(of=WebhookEndpoint)
    ).one_or_none()
    if row is None or (site_ids is not None and row[0].site_id not in site_ids):
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    return row[0], row[1]
