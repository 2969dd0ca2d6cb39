"""Supporters from Patreon's members export and webhooks, and the marks they give readers."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from posting import ARTICLE, post, thread
from support import table_rows

from engagement.errors import InvalidInput, Malformed, SiteNotFound, Unauthenticated
from engagement.models import Subscriber, Supporter
from engagement.services.audience.privacy import erase_address, export_address
from engagement.services.audience.subscriptions import SubscribeRequest, subscribe
from engagement.services.audience.supporters import (
    import_patreon_csv,
    list_supporters,
    receive_patreon_webhook,
    set_supporter,
    supporter_counts,
)
from engagement.services.sites import SiteChanges, update_site

SECRET = "patreon-webhook-secret-" + "s" * 40

# Patreon's members exports: the same fields, in 27 and 30 columns and different orders.
HEADER_27 = (
    "Name,Email,Discord,Patron Status,Follows You,Free Member,Free Trial,Lifetime Amount,Pledge Amount,"
    "Charge Frequency,Tier,Addressee,Street,City,State,Zip,Country,Phone,Patronage Since Date,"
    "Last Charge Date,Last Charge Status,Additional Details,User ID,Last Updated,Currency,Max Posts,"
    "Access Expiration"
)
HEADER_30 = (
    "User ID,Name,Tier,Patron Status,Email,Discord,Follows You,Free Member,Free Trial,Lifetime Amount,"
    "Pledge Amount,Charge Frequency,Addressee,Street,City,State,Zip,Country,Phone,Patronage Since Date,"
    "Last Charge Date,Last Charge Status,Additional Details,Last Updated,Currency,Max Posts,"
    "Access Expiration,Next Charge Date,Social Connections,Note"
)


def csv_27(*members: tuple[str, str, str]) -> str:
    lines = [HEADER_27]
    for email, status, tier in members:
        values = ["Reader", email, "", status, "Yes", "No", "No", "20", "5", "monthly", tier]
        values += [""] * (27 - len(values))
        lines.append(",".join(values))
    return "\n".join(lines) + "\n"


def csv_30(*members: tuple[str, str, str]) -> str:
    lines = [HEADER_30]
    for email, status, tier in members:
        values = ["123", "Reader, Jr.", tier, status, email]
        values += [""] * (30 - len(values))
        lines.append(",".join(f'"{v}"' for v in values))
    return "\r\n".join(lines) + "\r\n"


def supporters(core) -> dict[str, tuple[bool, str, str | None]]:
    return {s.email: (s.active, s.status, s.tier) for s in list_supporters(core.uow(), "daily")}


@pytest.mark.parametrize("make", [csv_27, csv_30])
def test_the_members_export_sets_supporters_by_header_name(core, site, tmp_path, make):
    path = tmp_path / "members.csv"
    path.write_text(
        make(
            ("Ann@Example.org", "Active patron", "Gold"),
            ("bob@example.org", "Declined patron", "Silver"),
            ("cat@example.org", "Former patron", ""),
            ("", "Active patron", "Gold"),
            ("not-an-address", "Active patron", "Gold"),
            ("dan@example.org", "Pending", "Gold"),
        )
    )
    outcome = import_patreon_csv(core.uow(), "daily", path)
    assert (outcome.active, outcome.inactive) == (1, 2)
    assert [reason.split(" (")[0] for _, reason in outcome.skipped] == [
        "no address",
        "not a valid address",
        "unknown patron status 'Pending'",
    ]
    assert [line for line, _ in outcome.skipped] == [5, 6, 7]
    assert supporters(core) == {
        "ann@example.org": (True, "Active patron", "Gold"),
        "bob@example.org": (False, "Declined patron", "Silver"),
        "cat@example.org": (False, "Former patron", None),
    }
    with core.uow() as uow:
        assert supporter_counts(core.uow()) == {site.id: 1}
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(Subscriber)) == 0  # no one mailed


def test_a_second_export_updates_and_may_deactivate_the_missing(core, site, tmp_path):
    first = tmp_path / "first.csv"
    first.write_text(
        csv_27(("ann@example.org", "Active patron", "Gold"), ("bob@example.org", "Active patron", ""))
    )
    import_patreon_csv(core.uow(), "daily", first)
    set_supporter(core.uow(), "daily", "hand@example.org", True)
    second = tmp_path / "second.csv"
    second.write_text(csv_27(("ann@example.org", "Active patron", "Platinum")))

    import_patreon_csv(core.uow(), "daily", second)
    assert supporters(core)["bob@example.org"][0] is True  # kept without --deactivate-missing
    outcome = import_patreon_csv(core.uow(), "daily", second, deactivate_missing=True)
    assert outcome.deactivated == 1
    found = supporters(core)
    assert found["ann@example.org"] == (True, "Active patron", "Platinum")
    assert found["bob@example.org"][0] is False
    assert found["hand@example.org"][0] is True  # marked by hand: not Patreon's to take back


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "is empty"),
        (b"Name,Email,Tier\nA,a@example.org,Gold\n", "no 'Patron Status' column"),
        (b"<?xml version='1.0'?><members/>", "not a Patreon members export"),
        (HEADER_27.encode() + b"\nA,caf\xe9@example.org\n", "line 2: is not UTF-8"),
        (b'Email,Patron Status,Tier\n"a@example.org,Active patron,Gold\n', "not valid CSV"),
    ],
)
def test_a_bad_export_is_refused_with_the_reason_and_changes_nothing(core, site, tmp_path, content, reason):
    set_supporter(core.uow(), "daily", "hand@example.org", True)
    path = tmp_path / "members.csv"
    path.write_bytes(content)
    before = table_rows(core)
    with pytest.raises(InvalidInput, match=reason) as err:
        import_patreon_csv(core.uow(), "daily", path)
    assert str(path) in err.value.reason
    assert table_rows(core) == before


def test_an_unknown_site_is_refused(core, site, tmp_path):
    path = tmp_path / "members.csv"
    path.write_text(csv_27(("ann@example.org", "Active patron", "Gold")))
    with pytest.raises(SiteNotFound):
        import_patreon_csv(core.uow(), "nope", path)


# -- the webhook -----------------------------------------------------------------------------


def member_event(
    email: str, status: str | None, charged: str | None = "2026-11-01T10:00:00.000+00:00"
) -> bytes:
    attributes = {"email": email, "patron_status": status, "full_name": "A Reader"}
    if charged is not None:
        attributes["last_charge_date"] = charged
    return json.dumps({"data": {"id": "m-1", "type": "member", "attributes": attributes}}).encode()


def signed(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.md5).hexdigest()


@pytest.fixture
def hooked(core, site):
    update_site(core.uow(), "daily", SiteChanges(patreon_webhook_secret=SECRET))
    return site


def hook(core, body: bytes, event: str, signature: str | None = None) -> str:
    return receive_patreon_webhook(core.uow(), "daily", body, signature or signed(body), event)


def test_member_events_set_the_state_and_the_same_delivery_twice_ends_the_same(core, hooked):
    body = member_event("Ann@example.org", "active_patron")
    assert hook(core, body, "members:create") == "applied"
    assert hook(core, body, "members:create") == "applied"
    assert supporters(core) == {"ann@example.org": (True, "active_patron", None)}
    declined = member_event("ann@example.org", "declined_patron", "2026-12-01T10:00:00Z")
    hook(core, declined, "members:pledge:update")
    assert supporters(core)["ann@example.org"][:2] == (False, "declined_patron")


def test_an_older_event_arriving_late_does_not_resurrect_a_deleted_member(core, hooked):
    created = member_event("ann@example.org", "active_patron", "2026-11-01T10:00:00Z")
    deleted = member_event("ann@example.org", "active_patron", "2026-11-01T10:00:00Z")
    hook(core, created, "members:create")
    assert hook(core, deleted, "members:delete") == "applied"
    assert hook(core, created, "members:update") == "older"
    assert (
        hook(core, member_event("ann@example.org", "active_patron", "2026-10-01T00:00:00Z"), "members:create")
        == "older"
    )
    assert supporters(core)["ann@example.org"][:2] == (False, "deleted")
    # A newer pledge brings the member back.
    hook(
        core,
        member_event("ann@example.org", "active_patron", "2026-12-01T10:00:00Z"),
        "members:pledge:create",
    )
    assert supporters(core)["ann@example.org"][:2] == (True, "active_patron")


def test_a_wrong_or_missing_signature_changes_nothing(core, hooked):
    body = member_event("ann@example.org", "active_patron")
    before = table_rows(core)
    for signature in (signed(body, "another-secret-of-enough-length"), "", "zz"):
        with pytest.raises(Unauthenticated):
            receive_patreon_webhook(core.uow(), "daily", body, signature, "members:create")
    with pytest.raises(Unauthenticated):
        receive_patreon_webhook(core.uow(), "daily", body, None, "members:create")
    assert table_rows(core) == before


@pytest.mark.parametrize(
    ("body", "event"),
    [
        (b"{not json", "members:create"),
        (b'{"data": {}}', "members:create"),
        (member_event("ann@example.org", "active_patron"), "posts:publish"),
        (member_event("ann@example.org", "active_patron"), None),
        (member_event("ann@example.org", "weird_status"), "members:create"),
        (member_event("nobody", "active_patron"), "members:create"),
    ],
)
def test_a_signed_body_that_is_not_a_member_event_is_refused(core, hooked, body, event):
    before = table_rows(core)
    with pytest.raises(Malformed):
        receive_patreon_webhook(core.uow(), "daily", body, signed(body), event)
    assert table_rows(core) == before


def test_a_site_without_a_secret_takes_no_webhooks(core, site):
    body = member_event("ann@example.org", "active_patron")
    with pytest.raises(SiteNotFound, match="no secret"):
        receive_patreon_webhook(core.uow(), "daily", body, signed(body), "members:create")


# -- what supporters get ---------------------------------------------------------------------


def test_badges_show_only_when_the_site_turns_them_on(core, site):
    set_supporter(core.uow(), "daily", "ann@example.org", True)
    post(core, author_name="Ann", author_email="ann@example.org", body="From a supporter.")
    post(core, author_name="Bob", author_email="bob@example.org", body="From a reader.")

    def badges() -> dict[str, bool]:
        return {c.author.name: c.author.supporter for c in thread(core).comments}

    assert badges() == {"Ann": False, "Bob": False}
    update_site(core.uow(), "daily", SiteChanges(supporter_badges=True))
    assert badges() == {"Ann": True, "Bob": False}
    post(core, author_name="Ann again", author_email="ann@example.org", body="Later.")
    set_supporter(core.uow(), "daily", "bob@example.org", True)
    assert badges() == {"Ann": True, "Bob": True, "Ann again": True}
    set_supporter(core.uow(), "daily", "ann@example.org", False)
    assert badges() == {"Ann": False, "Bob": True, "Ann again": False}
    update_site(core.uow(), "daily", SiteChanges(supporter_badges=False))
    assert set(badges().values()) == {False}


def test_a_supporter_who_subscribes_later_is_marked(core, site):
    set_supporter(core.uow(), "daily", "ann@example.org", True)
    subscribe(
        core.uow(), SubscribeRequest(site="daily", email="ann@example.org", kind="thread", page=ARTICLE)
    )
    with core.uow() as uow:
        assert uow.session.scalars(sa.select(Subscriber.supporter)).one() is True


def test_privacy_exports_and_erases_supporter_records(core, site):
    set_supporter(core.uow(), "daily", "ann@example.org", True)
    exported = export_address(core.uow(), "ann@example.org")
    assert exported["supporters"][0]["active"] is True
    report = erase_address(core.uow(), "ann@example.org")
    assert report.counts["supporters"] == 1
    with core.uow() as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(Supporter)) == 0


def test_hand_marks_name_the_moment(core, site, clock):
    set_supporter(core.uow(), "daily", "ann@example.org", True)
    (found,) = list_supporters(core.uow(), "daily")
    assert found.changed_at == clock.now
    assert found.source == "manual"
    assert datetime(2026, 1, 1, tzinfo=UTC) < found.updated_at
