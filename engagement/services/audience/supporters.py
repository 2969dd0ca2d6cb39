"""Supporters: Patreon's members export and webhooks, and marks by hand, kept per site and address.

A supporter's mails thank instead of asking, and (when the site turns badges on) their
comments carry a badge. Addresses are matched as every stored address is normalised.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement import validation as check
from engagement.errors import InvalidInput, Malformed, SiteNotFound, Unauthenticated
from engagement.models import Site, Supporter
from engagement.services.audience.supporter_flags import refresh_flags
from engagement.services.sites import get_site
from engagement.uow import UnitOfWork

# Patreon's members export: found by header name, as exports differ in columns and order.
CSV_COLUMNS = ("Email", "Patron Status", "Tier")
CSV_STATUSES = {"active patron": True, "declined patron": False, "former patron": False}
# The webhook's member states (data.attributes.patron_status); null: never pledged.
HOOK_STATUSES = {"active_patron": True, "declined_patron": False, "former_patron": False, None: False}
HOOK_EVENTS = (
    "members:create",
    "members:update",
    "members:delete",
    "members:pledge:create",
    "members:pledge:update",
    "members:pledge:delete",
)
DELETED = "deleted"
MISSING = "Former patron (not in the latest export)"
# Payload times that tell which of two events about a member is newer.
_HOOK_TIMES = ("last_charge_date", "pledge_relationship_start")


@dataclass(frozen=True)
class SupporterState:
    """What a source says of one address at one moment."""

    email: str
    active: bool
    status: str
    tier: str | None
    changed_at: datetime


@dataclass
class SupporterImport:
    """The outcome of a members export: counts and each skipped row with its reason."""

    active: int = 0
    inactive: int = 0
    deactivated: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


# -- the members export ----------------------------------------------------------------------


def import_patreon_csv(
    uow: UnitOfWork, site_key: str, path: Path, *, deactivate_missing: bool = False
) -> SupporterImport:
    """Set the site's supporters from Patreon's members CSV, all or nothing."""
    outcome = SupporterImport()
    with uow:
        site = get_site(uow.session, site_key)
        now = uow.now()
        states: dict[str, SupporterState] = {}
        for line, row in _csv_rows(path):
            state = _csv_state(row, now)
            if isinstance(state, str):
                outcome.skipped.append((line, state))
                continue
            states[state.email] = state  # a later row for the same address wins
        for state in states.values():
            if state.active:
                outcome.active += 1
            else:
                outcome.inactive += 1
        _apply(uow.session, site, list(states.values()), "patreon", now)
        if deactivate_missing:
            outcome.deactivated = _deactivate_missing(uow.session, site, set(states), now)
        refresh_flags(uow.session, site)
        uow.commit()
    return outcome


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows as {column: value} for the columns we keep, with the file's line numbers."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(str(path), f"cannot be read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidInput(f"{path}, line {line}", "is not UTF-8 text (Patreon exports UTF-8)") from None
    if not text.strip():
        raise InvalidInput(str(path), "is empty")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    # Strict: a stray quote is an error with its line, not a row quietly swallowing the rest.
    reader = csv.reader(io.StringIO(text, newline=""), dialect, strict=True)
    try:
        header = [name.strip().casefold() for name in next(reader)]
        wanted = {
            column: header.index(column.casefold()) for column in CSV_COLUMNS if column.casefold() in header
        }
        missing = [column for column in CSV_COLUMNS if column not in wanted]
        if missing:
            raise InvalidInput(
                f"{path}, line 1",
                f"not a Patreon members export: no {', '.join(repr(m) for m in missing)} column",
            )
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            row = {
                column: values[index].strip() if index < len(values) else ""
                for column, index in wanted.items()
            }
            yield reader.line_num, row
    except csv.Error as exc:
        raise InvalidInput(f"{path}, line {reader.line_num}", f"is not valid CSV ({exc})") from None


def _csv_state(row: dict[str, str], now: datetime) -> SupporterState | str:
    """The state a row gives, or the reason it is skipped."""
    if not row["Email"]:
        return "no address"
    try:
        email = check.email("Email", row["Email"])
    except InvalidInput as exc:
        return f"not a valid address ({exc.detail})"
    status = row["Patron Status"]
    active = CSV_STATUSES.get(status.casefold())
    if active is None:
        return f"unknown patron status {status!r}" if status else "no patron status"
    return SupporterState(email, active, status, row["Tier"] or None, now)


def _deactivate_missing(session: Session, site: Site, present: set[str], now: datetime) -> int:
    """Patreon supporters the latest export no longer lists stop being supporters."""
    gone = [
        s
        for s in session.scalars(
            sa.select(Supporter).where(
                Supporter.site_id == site.id, Supporter.source == "patreon", Supporter.active
            )
        )
        if s.email not in present
    ]
    for supporter in gone:
        supporter.active, supporter.status = False, MISSING
        supporter.changed_at = supporter.updated_at = now
    return len(gone)


# -- the webhook -----------------------------------------------------------------------------


def receive_patreon_webhook(
    uow: UnitOfWork, site_key: str, body: bytes, signature: str | None, event: str | None
) -> str:
    """Apply one signed Patreon webhook; returns what it did ("applied" or "older").

    The signature is checked on the raw body before anything is parsed: an unsigned body
    is never read.
    """
    with uow:
        site = get_site(uow.session, site_key)
        secret = site.patreon_webhook_secret
        if not secret:
            raise SiteNotFound(f"site {site_key!r} takes no Patreon webhooks (no secret is set)")
        expected = hmac.new(secret.encode(), body, hashlib.md5).hexdigest()
        if not signature or not hmac.compare_digest(expected, signature.strip().lower()):
            raise Unauthenticated("X-Patreon-Signature is missing or does not match the body")
        if event not in HOOK_EVENTS:
            raise Malformed(f"X-Patreon-Event {event!r} is not one of {', '.join(HOOK_EVENTS)}")
        state = _hook_state(body, event, uow.now())
        applied = _apply(uow.session, site, [state], "patreon", uow.now())
        if applied:
            refresh_flags(uow.session, site, [state.email])
        uow.commit()
        return "applied" if applied else "older"


def _hook_state(body: bytes, event: str, now: datetime) -> SupporterState:
    try:
        payload = json.loads(body)
        attributes = payload["data"]["attributes"]
        if not isinstance(attributes, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise Malformed("the body is not a Patreon member event (JSON with data.attributes)") from None
    raw_email = attributes.get("email")
    if not isinstance(raw_email, str) or not raw_email:
        raise Malformed("data.attributes.email is missing")
    try:
        email = check.email("data.attributes.email", raw_email)
    except InvalidInput as exc:
        raise Malformed(exc.reason) from None
    status = attributes.get("patron_status")
    if status not in HOOK_STATUSES:
        raise Malformed(f"data.attributes.patron_status {status!r} is unknown")
    deleted = event.endswith(":delete")
    return SupporterState(
        email=email,
        active=False if deleted else HOOK_STATUSES[status],
        status=DELETED if deleted else str(status or "never_pledged"),
        tier=None,
        changed_at=_hook_time(attributes) or now,
    )


def _hook_time(attributes: dict[str, Any]) -> datetime | None:
    """The newest time the payload carries, as aware UTC; None when it carries none."""
    found = []
    for name in _HOOK_TIMES:
        value = attributes.get(name)
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            found.append(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return max(found) if found else None


# -- writing ---------------------------------------------------------------------------------


def _apply(session: Session, site: Site, states: list[SupporterState], source: str, now: datetime) -> int:
    """Write each state unless the row holds a newer one; returns how many were written.

    A deleted member comes back only with a strictly newer event: the same member's older
    "create" arriving late must not resurrect them. Otherwise the same time overwrites, so
    the same delivery twice ends the same.
    """
    stmt = sa.select(Supporter).where(Supporter.site_id == site.id)
    if len(states) <= 500:  # a webhook or a short list: only those rows; else the whole site
        stmt = stmt.where(Supporter.email.in_([s.email for s in states]))
    existing = {s.email: s for s in session.scalars(stmt)}
    written = 0
    for state in states:
        row = existing.get(state.email)
        if row is None:
            session.add(
                Supporter(
                    site_id=site.id,
                    email=state.email,
                    active=state.active,
                    status=state.status,
                    tier=state.tier,
                    source=source,
                    changed_at=state.changed_at,
                    updated_at=now,
                )
            )
            written += 1
            continue
        if row.status == DELETED and state.status != DELETED:
            if state.changed_at <= row.changed_at:
                continue
        elif state.changed_at < row.changed_at:
            continue
        row.active, row.status, row.source = state.active, state.status, source
        row.tier = state.tier if state.tier is not None else row.tier
        # A delete keeps the newest time known, so a retried older event stays older.
        row.changed_at = max(state.changed_at, row.changed_at)
        row.updated_at = now
        written += 1
    session.flush()
    return written


# -- by hand, and reading --------------------------------------------------------------------


def set_supporter(uow: UnitOfWork, site_key: str, email: str, supporter: bool) -> None:
    """A publisher marks an address as a supporter (or not): its mails thank instead of asking."""
    address = check.email("email", email)
    check.boolean("supporter", supporter)
    with uow:
        site = get_site(uow.session, site_key)
        status = "supporter" if supporter else "not a supporter"
        # Marked now: a hand's mark wins over any older state a source gave.
        state = SupporterState(address, supporter, status, None, uow.now())
        _apply(uow.session, site, [state], "manual", uow.now())
        refresh_flags(uow.session, site, [address])
        uow.commit()


def list_supporters(uow: UnitOfWork, site_key: str) -> list[Supporter]:
    """The site's supporters, active first, then by address."""
    with uow:
        site = get_site(uow.session, site_key)
        stmt = (
            sa.select(Supporter)
            .where(Supporter.site_id == site.id)
            .order_by(Supporter.active.desc(), Supporter.email)
        )
        return list(uow.session.scalars(stmt))


def supporter_counts(uow: UnitOfWork) -> dict[int, int]:
    """Active supporters per site id."""
    stmt = sa.select(Supporter.site_id, sa.func.count()).where(Supporter.active).group_by(Supporter.site_id)
    with uow:
        return {int(site_id): int(count) for site_id, count in uow.session.execute(stmt)}
