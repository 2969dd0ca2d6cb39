"""The sites screen: every setting of ``engagement sites update`` as a form, and the widget snippet."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from engagement.core import Core
from engagement.errors import InvalidInput
from engagement.i18n.formatting import language_names
from engagement.services.admin.admins import require_owner
from engagement.services.sites import SITE_KEY, SiteChanges, list_sites, read_site, update_site
from engagement.web.admin.auth import PREFIX, CheckedForm, Form, SignedIn, back_to, page
from engagement.web.deps import Uow

router = APIRouter(prefix=PREFIX, include_in_schema=False)
SiteKey = Annotated[str, Path(pattern=SITE_KEY.pattern)]
NUMBERS = ("edit_window_seconds", "link_limit", "digest_hour", "digest_weekday", "report_threshold")
LINES = ("origins", "moderator_emails", "banned_words")


@router.get("/sites", response_class=HTMLResponse)
def sites(request: Request, signed: SignedIn, uow: Uow) -> HTMLResponse:
    require_owner(signed.admin)
    return page(request, "admin/sites.html", signed, sites=list_sites(uow))


@router.get("/sites/{key}", response_class=HTMLResponse)
def site_settings(request: Request, key: SiteKey, signed: SignedIn, uow: Uow, done: str = "") -> HTMLResponse:
    require_owner(signed.admin)
    core: Core = request.app.state.core
    site = read_site(uow, key)
    return page(
        request,
        "admin/site.html",
        signed,
        site=site,
        base_url=core.settings.base_url,
        done=bool(done),
        languages=language_names(),
    )


@router.post("/sites/{key}")
def save_site(
    request: Request, key: SiteKey, form: CheckedForm, signed: SignedIn, uow: Uow
) -> RedirectResponse:
    require_owner(signed.admin)
    update_site(uow, key, site_changes(form))
    request.app.state.origins.forget()  # the widget's allowed origins may have changed
    return back_to(request, "site_settings", {"done": "1"}, key=key)


def site_changes(form: Form) -> SiteChanges:
    """The form's fields as the same changes ``engagement sites update`` makes (checked by the core)."""
    numbers = {name: _number(name, form.one(name)) for name in NUMBERS}
    lines: dict[str, Any] = {
        name: [v.strip() for v in form.one(name).splitlines() if v.strip()] for name in LINES
    }
    reactions = []
    for line in form.one("reactions").splitlines():
        if line.strip():
            reaction_key, sep, label = line.partition("=")
            if not sep:
                raise InvalidInput("reactions", f"{line.strip()!r} is not KEY=LABEL, such as 'like=👍 Like'")
            reactions.append({"key": reaction_key.strip(), "label": label.strip()})
    badges = form.one("supporter_badges")
    if badges not in ("on", "off"):
        raise InvalidInput("supporter_badges", "must be on or off")
    secret = form.one("patreon_webhook_secret")
    popular = form.one("popular")
    if popular not in ("", "on", "off"):
        raise InvalidInput("popular", "must be on or off")
    return SiteChanges(
        name=form.one("name"),
        supporter_thanks=form.one("supporter_thanks"),
        supporter_badges=badges == "on",
        # Never shown back: left empty, it stays as it is; the box removes it.
        patreon_webhook_secret="" if form.one("remove_secret") == "yes" else (secret or None),
        moderation=form.one("moderation"),
        support_url=form.one("support_url"),
        support_text=form.one("support_text"),
        reactions=reactions,
        timezone=form.one("timezone"),
        popular=None if popular == "" else popular == "on",
        popular_title=form.one("popular_title"),
        language=form.one("language") or None,  # absent: left as it is
        **numbers,  # type: ignore[arg-type]
        **lines,
        **_sign_in(form),
    )


def _sign_in(form: Form) -> dict[str, Any]:
    """Sign-in from the publisher's site: a field the form did not send changes nothing."""
    required = form.fields.get("sso_required", [None])[0]
    if required not in (None, "optional", "required"):
        raise InvalidInput("sso_required", "must be optional or required")
    secret = form.one("sso_secret")
    return {
        # Never shown back: left empty, it stays as it is; the box removes it (and the requirement).
        "sso_secret": "" if form.one("remove_sso_secret") == "yes" else (secret or None),
        "sso_required": None if required is None else required == "required",
        "sso_login_url": form.fields.get("sso_login_url", [None])[0],
    }


def _number(name: str, value: str) -> int:
    if not value.strip().isdigit() or len(value.strip()) > 9:
        raise InvalidInput(name, "must be a whole number")
    return int(value)
