"""The webhooks screen of a site (owners): its endpoints, adding one (the secret shown once), on/off,
removing, a new secret, and the recent deliveries with their last error."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from engagement.config import Settings
from engagement.errors import InvalidInput
from engagement.models.webhooks import WEBHOOK_FORMATS
from engagement.services.admin.admins import require_owner
from engagement.services.sites import SITE_KEY, read_site
from engagement.services.webhooks.addresses import AddressGuard
from engagement.services.webhooks.bodies import WEBHOOK_EVENTS
from engagement.services.webhooks.deliveries import list_webhook_deliveries, retry_failed_webhooks
from engagement.services.webhooks.endpoints import (
    EndpointView,
    add_endpoint,
    list_endpoints,
    remove_endpoint,
    rotate_secret,
    set_enabled,
)
from engagement.uow import UnitOfWork
from engagement.web.admin.auth import PREFIX, CheckedForm, Signed, SignedIn, back_to, page
from engagement.web.deps import Uow

router = APIRouter(prefix=PREFIX, include_in_schema=False)
SiteKey = Annotated[str, Path(pattern=SITE_KEY.pattern)]
ACTIONS = ("disable", "enable", "remove", "rotate", "retry")


@router.get("/sites/{key}/webhooks", response_class=HTMLResponse)
def webhooks(request: Request, key: SiteKey, signed: SignedIn, uow: Uow, done: str = "") -> HTMLResponse:
    require_owner(signed.admin)
    return _screen(request, signed, uow, key, done=done)


@router.post("/sites/{key}/webhooks", response_class=HTMLResponse)
def add_webhook(
    request: Request, key: SiteKey, form: CheckedForm, signed: SignedIn, uow: Uow
) -> HTMLResponse:
    """The new endpoint's secret is in this answer only, never in a URL or a later page."""
    require_owner(signed.admin)
    settings: Settings = request.app.state.settings
    guard = AddressGuard(allow_private=settings.webhooks_allow_private)
    added = add_endpoint(uow, guard, key, form.one("url").strip(), form.many("events"), form.one("format"))
    return _screen(request, signed, uow, key, shown=added, done=f"webhook {added.id} added")


@router.post("/sites/{key}/webhooks/{endpoint_id}", response_model=None)
def change_webhook(
    request: Request, key: SiteKey, endpoint_id: int, form: CheckedForm, signed: SignedIn, uow: Uow
) -> HTMLResponse | RedirectResponse:
    require_owner(signed.admin)
    action = form.one("action")
    if action not in ACTIONS:
        raise InvalidInput("action", f"must be one of {', '.join(ACTIONS)}")
    site_ids = [read_site(uow, key).id]  # an endpoint of another site is not found from here
    if action == "rotate":
        rotated = rotate_secret(uow, endpoint_id, site_ids=site_ids)
        return _screen(
            request, signed, uow, key, shown=rotated, done=f"webhook {endpoint_id} has a new secret"
        )
    if action == "remove":
        remove_endpoint(uow, endpoint_id, site_ids=site_ids)
    elif action == "retry":
        set_enabled(uow, endpoint_id, True, site_ids=site_ids)
        retry_failed_webhooks(uow, endpoint_id=endpoint_id)
    else:
        set_enabled(uow, endpoint_id, action == "enable", site_ids=site_ids)
    done = {
        "disable": "disabled",
        "enable": "enabled",
        "remove": "removed",
        "retry": "on, failed ones queued",
    }
    return back_to(request, "webhooks", {"done": f"webhook {endpoint_id} {done[action]}"}, key=key)


def _screen(
    request: Request,
    signed: Signed,
    uow: UnitOfWork,
    key: str,
    *,
    shown: EndpointView | None = None,
    done: str = "",
) -> HTMLResponse:
    site = read_site(uow, key)
    return page(
        request,
        "admin/webhooks.html",
        signed,
        site=site,
        endpoints=list_endpoints(uow, key),
        deliveries=list_webhook_deliveries(uow, site=key, limit=50),
        events=WEBHOOK_EVENTS,
        formats=WEBHOOK_FORMATS,
        shown=shown,
        done=done,
    )
