import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from support import make_comment, make_page, run_at_once, table_counts, table_rows

from engagement import links
from engagement.errors import InvalidInput, InvalidToken, NotFound, SiteNotFound
from engagement.models import OutboxEvent, Page, Site, Subscriber, Subscription, Suppression
from engagement.outbox import CONFIRMATION_REQUESTED
from engagement.services.audience.preferences import preferences, set_digest_cadence
from engagement.services.audience.subscriptions import (
    SubscribeRequest,
    active_clause,
    add_subscription,
    confirm_subscriber,
    mask_email,
    subscribe,
    unsubscribe,
)
from engagement.services.audience.supporters import set_supporter
from engagement.services.sites import SiteChanges, add_site


def events(core):
    """The confirmation events written so far (comment events are another part's business)."""
    with core.engine.connect() as conn:
        rows = conn.execute(
            sa.select(OutboxEvent.kind, OutboxEvent.payload)
            .where(OutboxEvent.kind == CONFIRMATION_REQUESTED)
            .order_by(OutboxEvent.id)
        )
        return [tuple(r) for r in rows]


def subscriber_of(core, email="jane@example.org"):
    with core.uow() as uow:
        return uow.session.scalars(sa.select(Subscriber).where(Subscriber.email == email)).one()


def subscriptions_of(core, subscriber_id):
    with core.uow() as uow:
        return list(
            uow.session.scalars(
                sa.select(Subscription)
                .where(Subscription.subscriber_id == subscriber_id)
                .order_by(Subscription.id)
            )
        )


def follow(core, site, page, email="jane@example.org"):
    uow = core.uow()
    with uow:
        request = add_subscription(
            uow, uow.session.get(Site, site.id), email, "thread", page=uow.session.get(Page, page.id)
        )
        uow.commit()
        return request


def confirm(core, subscriber_id):
    return confirm_subscriber(core.uow(), links.confirm_token(core.keys, subscriber_id))


def test_thread_subscription_waits_for_confirmation_and_records_one_event(core, site):
    page = make_page(core, site)
    request = follow(core, site, page, " Jane@Example.ORG ")
    assert request.confirmation_needed
    assert request.subscription.kind == "thread"
    assert request.subscription.target == f"page:{page.id}"
    subscriber = subscriber_of(core)
    assert subscriber.email == "jane@example.org"
    assert subscriber.confirmed_at is None
    assert subscriber.confirmation_requested_at == core.clock()
    assert events(core) == [(CONFIRMATION_REQUESTED, {"subscriber_id": subscriber.id})]


def test_asking_again_is_idempotent_and_mails_at_most_once_per_ten_minutes(core, site, clock):
    page = make_page(core, site)
    first = follow(core, site, page)
    clock.advance(minutes=9, seconds=59)
    again = follow(core, site, page)
    assert again.subscription.id == first.subscription.id
    assert again.confirmation_needed
    assert len(events(core)) == 1
    clock.advance(seconds=1)
    follow(core, site, page)
    assert len(events(core)) == 2
    assert len(subscriptions_of(core, first.subscription.subscriber_id)) == 1


def test_a_failed_transaction_leaves_neither_subscription_nor_event(core, site):
    page = make_page(core, site)
    before = table_counts(core)

    def ask_then_fail():
        uow = core.uow()
        with uow:
            add_subscription(
                uow,
                uow.session.get(Site, site.id),
                "jane@example.org",
                "thread",
                page=uow.session.get(Page, page.id),
            )
            raise RuntimeError("the caller failed after asking")

    with pytest.raises(RuntimeError):
        ask_then_fail()
    assert table_counts(core) == before


def test_replies_and_digest_kinds(core, site):
    page = make_page(core, site)
    comment = make_comment(core, page)
    uow = core.uow()
    with uow:
        merged = uow.session.get(Site, site.id)
        replies = add_subscription(uow, merged, "jane@example.org", "replies", comment=comment)
        digest = add_subscription(uow, merged, "jane@example.org", "digest")
        uow.commit()
    assert replies.subscription.target == f"comment:{comment.id}"
    assert replies.subscription.comment_id == comment.id
    assert replies.subscription.page_id == page.id
    assert digest.subscription.target == "site"
    assert digest.subscription.cadence == "weekly"
    uow = core.uow()
    with uow:
        changed = add_subscription(
            uow, uow.session.get(Site, site.id), "jane@example.org", "digest", cadence="daily"
        )
        uow.commit()
    assert changed.subscription.id == digest.subscription.id
    assert [s.cadence for s in subscriptions_of(core, digest.subscription.subscriber_id)] == [None, "daily"]
    assert len(events(core)) == 1  # three wishes, one confirmation mail


def test_confirmed_address_needs_no_confirmation(core, site, clock):
    page = make_page(core, site)
    follow(core, site, page)
    confirm(core, subscriber_of(core).id)
    clock.advance(hours=1)
    other = make_page(core, site, "/2026/11/other", "Other")
    request = follow(core, site, other)
    assert not request.confirmation_needed
    assert len(events(core)) == 1


def test_suppressed_address_gets_no_confirmation_mail(core, site):
    with core.uow() as uow:
        uow.session.add(Suppression(email="jane@example.org", reason="bounce", created_at=core.clock()))
        uow.commit()
    request = follow(core, site, make_page(core, site))
    assert request.confirmation_needed
    assert events(core) == []
    assert subscriber_of(core).confirmation_requested_at is None


def test_double_opt_in_and_suppression_decide_who_is_active(core, site):
    page = make_page(core, site)
    for address in ("jane@example.org", "joe@example.org", "bounced@example.org"):
        follow(core, site, page, address)
    confirm(core, subscriber_of(core, "jane@example.org").id)
    confirm(core, subscriber_of(core, "bounced@example.org").id)
    with core.uow() as uow:
        uow.session.add(Suppression(email="bounced@example.org", reason="complaint", created_at=core.clock()))
        uow.commit()
    with core.uow() as uow:
        active = uow.session.scalars(
            sa.select(Subscriber.email)
            .join(Subscription, Subscription.subscriber_id == Subscriber.id)
            .where(Subscription.page_id == page.id, active_clause())
        ).all()
        assert active == ["jane@example.org"]
        states = {
            email: bool(active)
            for email, active in uow.session.execute(sa.select(Subscriber.email, active_clause()))
        }
    assert states == {"jane@example.org": True, "joe@example.org": False, "bounced@example.org": False}


def test_subscribe_by_email_alone_creates_the_page(core, site):
    subscribe(
        core.uow(),
        SubscribeRequest(
            site="daily", email="jane@example.org", kind="thread", page="/2026/11/new", page_title="New"
        ),
    )
    subscribe(
        core.uow(), SubscribeRequest(site="daily", email="jane@example.org", kind="digest", cadence="daily")
    )
    subscriber = subscriber_of(core)
    subs = subscriptions_of(core, subscriber.id)
    assert [(s.kind, s.cadence) for s in subs] == [("thread", None), ("digest", "daily")]
    with core.uow() as uow:
        page = uow.session.get(Page, subs[0].page_id)
        assert (page.key, page.title) == ("/2026/11/new", "New")
    assert len(events(core)) == 1


@pytest.mark.parametrize(
    ("request_kwargs", "error", "field"),
    [
        ({"email": "not-an-address"}, InvalidInput, "email"),
        ({"email": "x" * 400 + "@example.org"}, InvalidInput, "email"),
        ({"kind": "replies"}, InvalidInput, "kind"),
        ({"kind": "everything"}, InvalidInput, "kind"),
        ({"page": None}, InvalidInput, "page"),
        ({"page": "/a\nb"}, InvalidInput, "page"),
        ({"page_title": "x" * 301}, InvalidInput, "page_title"),
        ({"kind": "digest", "cadence": "hourly"}, InvalidInput, "cadence"),
        ({"site": "nope"}, SiteNotFound, None),
    ],
)
def test_bad_subscribe_requests_change_nothing(core, site, request_kwargs, error, field):
    values = {"site": "daily", "email": "jane@example.org", "kind": "thread", "page": "/2026/11/a"}
    values.update(request_kwargs)
    before = table_rows(core)
    with pytest.raises(error) as err:
        subscribe(core.uow(), SubscribeRequest(**values))
    if field:
        assert err.value.field == field
    assert table_rows(core) == before


def test_bad_add_subscription_arguments(core, site):
    other = add_site(core.uow(), "other", SiteChanges(name="Other"))
    foreign = make_page(core, other, "/elsewhere")
    before = table_rows(core)
    cases = [
        ({"kind": "thread"}, "page"),
        ({"kind": "thread", "page": foreign}, "page"),
        ({"kind": "replies"}, "comment"),
        ({"kind": "digest", "cadence": "monthly"}, "cadence"),
        ({"kind": "nope"}, "kind"),
    ]
    for kwargs, field in cases:
        uow = core.uow()
        with pytest.raises(InvalidInput) as err, uow:
            add_subscription(uow, uow.session.get(Site, site.id), "jane@example.org", **kwargs)
        assert err.value.field == field
    assert table_rows(core) == before


def test_confirm_is_idempotent(core, site, clock):
    follow(core, site, make_page(core, site))
    subscriber = subscriber_of(core)
    token = links.confirm_token(core.keys, subscriber.id)
    first = confirm_subscriber(core.uow(), token)
    assert not first.already_confirmed
    assert first.site_name == "The Daily Example"
    assert first.email_masked == "j***@example.org"
    clock.advance(hours=2)
    second = confirm_subscriber(core.uow(), token)
    assert second.already_confirmed
    assert subscriber_of(core).confirmed_at == clock.now - timedelta(hours=2)
    assert preferences(core.uow(), first.preferences_token).confirmed


def past_token(core, purpose, data, age_seconds):
    """A token signed with the real secret ``age_seconds`` ago, as an old mail would carry."""

    class PastSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age_seconds

    serializer = URLSafeTimedSerializer(
        core.settings.secret_key, salt=f"engagement.{purpose}", signer=PastSigner
    )
    return serializer.dumps(data)


def test_tokens_refused_when_expired_forged_or_for_another_purpose(core, site):
    follow(core, site, make_page(core, site))
    sid = subscriber_of(core).id
    week = 7 * 86_400
    bad_tokens = [
        past_token(core, "confirm", {"s": sid}, week + 60),  # expired
        links.unsubscribe_token(core.keys, sid),  # another purpose
        links.preferences_token(core.keys, sid),
        links.confirm_token(core.keys, sid)[:-2] + "xx",  # forged signature
        "not-a-token",
        "",
        None,
        "x" * 5000,
        past_token(core, "confirm", ["s", sid], 0),  # signed, but not what we issue
        past_token(core, "confirm", {"s": True}, 0),
    ]
    before = table_rows(core)
    for token in bad_tokens:
        with pytest.raises(InvalidToken):
            confirm_subscriber(core.uow(), token)
    for token in (links.confirm_token(core.keys, sid), links.preferences_token(core.keys, sid)):
        with pytest.raises(InvalidToken):
            unsubscribe(core.uow(), token)
    with pytest.raises(InvalidToken):
        preferences(core.uow(), links.unsubscribe_token(core.keys, sid))
    assert table_rows(core) == before
    assert not confirm_subscriber(
        core.uow(), past_token(core, "confirm", {"s": sid}, week - 60)
    ).already_confirmed


def test_unsubscribe_tokens_never_expire(core, site):
    follow(core, site, make_page(core, site))
    sid = subscriber_of(core).id
    result = unsubscribe(core.uow(), past_token(core, "unsubscribe", {"s": sid}, 400 * 86_400))
    assert result.removed == 1


def test_unsubscribe_one_then_everything(core, site):
    first, second = make_page(core, site, "/a", "A"), make_page(core, site, "/b", "B")
    a = follow(core, site, first).subscription
    b = follow(core, site, second).subscription
    sid = a.subscriber_id
    one = links.unsubscribe_token(core.keys, sid, a.id)
    result = unsubscribe(core.uow(), one)
    assert (result.everything, result.removed, result.site_name) == (False, 1, "The Daily Example")
    assert [s.id for s in subscriptions_of(core, sid)] == [b.id]
    assert unsubscribe(core.uow(), one).removed == 0  # idempotent: a second click is fine
    result = unsubscribe(core.uow(), links.unsubscribe_token(core.keys, sid))
    assert (result.everything, result.removed) == (True, 1)
    assert subscriptions_of(core, sid) == []
    assert unsubscribe(core.uow(), links.unsubscribe_token(core.keys, sid)).removed == 0


def test_a_token_for_one_subscription_cannot_touch_another_subscribers(core, site):
    page = make_page(core, site)
    jane = follow(core, site, page).subscription
    joe = follow(core, site, page, "joe@example.org").subscription
    assert (
        unsubscribe(core.uow(), links.unsubscribe_token(core.keys, jane.subscriber_id, joe.id)).removed == 0
    )
    assert len(subscriptions_of(core, joe.subscriber_id)) == 1


def test_tokens_of_a_removed_subscriber_are_not_found(core, site):
    follow(core, site, make_page(core, site))
    sid = subscriber_of(core).id
    with core.uow() as uow:
        uow.session.execute(sa.delete(Subscriber))
        uow.commit()
    with pytest.raises(NotFound):
        unsubscribe(core.uow(), links.unsubscribe_token(core.keys, sid))
    with pytest.raises(NotFound):
        confirm_subscriber(core.uow(), links.confirm_token(core.keys, sid))
    with pytest.raises(NotFound):
        preferences(core.uow(), links.preferences_token(core.keys, sid))


def test_preferences_show_each_line_with_its_own_token(core, site):
    page = make_page(core, site, "https://news.example.org/2026/11/storm?utm_source=x#c1", "Storm warning")
    follow(core, site, page)
    sid = subscriber_of(core).id
    token = links.preferences_token(core.keys, sid)
    set_digest_cadence(core.uow(), token, "daily")
    view = preferences(core.uow(), token)
    assert view.site_name == "The Daily Example"
    assert view.email_masked == "j***@example.org"
    assert view.digest_cadence == "daily"
    assert not view.confirmed
    assert [(s.kind, s.page_title, s.page_url) for s in view.subscriptions] == [
        ("digest", None, None),
        ("thread", "Storm warning", "https://news.example.org/2026/11/storm"),
    ]
    unsubscribe(core.uow(), view.subscriptions[1].unsubscribe_token)
    assert [s.kind for s in preferences(core.uow(), token).subscriptions] == ["digest"]
    set_digest_cadence(core.uow(), token, "weekly")
    assert preferences(core.uow(), token).digest_cadence == "weekly"
    set_digest_cadence(core.uow(), token, None)
    view = preferences(core.uow(), token)
    assert (view.digest_cadence, view.subscriptions) == (None, [])
    unsubscribe(core.uow(), view.unsubscribe_all_token)


def test_bad_cadence_changes_nothing(core, site):
    follow(core, site, make_page(core, site))
    token = links.preferences_token(core.keys, subscriber_of(core).id)
    before = table_rows(core)
    with pytest.raises(InvalidInput) as err:
        set_digest_cadence(core.uow(), token, "hourly")
    assert err.value.field == "cadence"
    assert table_rows(core) == before


def test_publishers_mark_supporters_without_mailing_them(core, site):
    set_supporter(core.uow(), "daily", "Patron@Example.org", True)
    assert events(core) == []
    # The mark waits for the address to subscribe, and mails nobody meanwhile.
    follow(core, site, make_page(core, site), "patron@example.org")
    patron = subscriber_of(core, "patron@example.org")
    assert patron.supporter
    set_supporter(core.uow(), "daily", "patron@example.org", False)
    assert not subscriber_of(core, "patron@example.org").supporter
    before = table_rows(core)
    with pytest.raises(InvalidInput):
        set_supporter(core.uow(), "daily", "nobody", True)
    with pytest.raises(SiteNotFound):
        set_supporter(core.uow(), "nope", "patron@example.org", True)
    assert table_rows(core) == before


def test_mask_email():
    assert mask_email("jane@example.org") == "j***@example.org"
    assert mask_email("j@example.org") == "j***@example.org"


def test_concurrent_requests_for_a_new_address_make_one_subscriber_and_one_mail(pg_core):
    site = add_site(pg_core.uow(), "race", SiteChanges(name="Race"))
    page = make_page(pg_core, site)

    def ask(i):
        follow(pg_core, site, page)

    assert run_at_once(8, ask) == [None] * 8
    with pg_core.uow() as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(Subscriber)) == 1
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(Subscription)) == 1
    assert len(events(pg_core)) == 1


def test_concurrent_requests_for_a_known_address_mail_once_on_either_database(core, site, clock):
    page = make_page(core, site)
    follow(core, site, page)
    clock.advance(minutes=11)  # a new confirmation mail is due: only one of the requests may send it

    def ask(i):
        follow(core, site, page)

    assert run_at_once(6, ask) == [None] * 6
    assert len(events(core)) == 2


def test_notify_while_commenting_subscribes_the_author(core, site):
    page = make_page(core, site)
    first = make_comment(core, page, notify="replies")
    make_comment(core, page, notify="all")
    sid = subscriber_of(core).id
    assert [(s.kind, s.target) for s in subscriptions_of(core, sid)] == [
        ("replies", f"comment:{first.id}"),
        ("thread", f"page:{page.id}"),
    ]
    assert events(core) == [(CONFIRMATION_REQUESTED, {"subscriber_id": sid})]
