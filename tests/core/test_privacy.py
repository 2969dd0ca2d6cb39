import json

import pytest
import sqlalchemy as sa
from support import make_comment, make_page, table_rows

from engagement import links
from engagement.errors import InvalidInput, NotFound
from engagement.models import Comment, Delivery, Subscriber, Subscription, Suppression
from engagement.services.audience.privacy import DELETED_AUTHOR, erase_address, export_address
from engagement.services.audience.subscriptions import SubscribeRequest, subscribe, unsubscribe
from engagement.services.discussion.moderation import ban_address
from engagement.services.discussion.threads import ThreadQuery, list_thread
from engagement.services.discussion.votes import vote
from engagement.services.sites import SiteChanges, add_site

JANE = "jane@example.org"


def add_delivery(core, recipient, key, site_id=None):
    with core.uow() as uow:
        uow.session.add(
            Delivery(
                idempotency_key=key,
                site_id=site_id,
                recipient=recipient,
                template="reply_notification",
                context={"comment_id": 1},
                status="sent",
                created_at=core.clock(),
                sent_at=core.clock(),
            )
        )
        uow.commit()


@pytest.fixture
def held(core, site):
    """Jane commented and subscribed on two sites, got mail and complained once; Joe too, a little."""
    other = add_site(core.uow(), "weekly", SiteChanges(name="The Weekly"))
    page = make_page(core, site, "https://news.example.org/2026/11/storm", "Storm warning")
    other_page = make_page(core, other, "/columns/1", "Column")
    first = make_comment(core, page, email=JANE, reader="jane-browser", notify="replies", body="First!")
    reply = make_comment(core, page, email="joe@example.org", name="Joe", parent=first, body="Welcome")
    make_comment(core, other_page, email=JANE, notify="all", body="Elsewhere")
    subscribe(core.uow(), SubscribeRequest(site="daily", email=JANE, kind="digest", cadence="daily"))
    subscribe(core.uow(), SubscribeRequest(site="daily", email="joe@example.org", kind="digest"))
    add_delivery(core, JANE, "reply:1:jane", site.id)
    add_delivery(core, "joe@example.org", "reply:1:joe", site.id)
    ban_address(core.uow(), "weekly", JANE, "shouting")
    with core.uow() as uow:
        uow.session.add(
            Suppression(email=JANE, reason="complaint", detail="abuse report", created_at=core.clock())
        )
        uow.commit()
    vote(core.uow(), reply.id, "jane-browser", 1)
    return {"site": site, "other": other, "page": page, "first": first, "reply": reply}


def test_export_lists_everything_held_about_the_address(core, held):
    data = export_address(core.uow(), " Jane@EXAMPLE.org ")
    json.dumps(data)  # ready to hand over as it is
    assert data["email"] == JANE
    assert [(s["site"], [w["kind"] for w in s["subscriptions"]]) for s in data["subscribers"]] == [
        ("daily", ["replies", "digest"]),
        ("weekly", ["thread"]),
    ]
    daily = data["subscribers"][0]
    assert daily["subscriptions"][0]["page"] == {
        "url": "https://news.example.org/2026/11/storm",
        "title": "Storm warning",
    }
    assert daily["subscriptions"][1]["cadence"] == "daily"
    assert daily["confirmed_at"] is None
    assert [(c["site"], c["page"]["title"], c["body"], c["status"]) for c in data["comments"]] == [
        ("daily", "Storm warning", "First!", "approved"),
        ("weekly", "Column", "Elsewhere", "approved"),
    ]
    assert data["comments"][0]["created_at"] == "2026-11-02T09:00:00Z"
    assert [(d["site"], d["template"], d["status"]) for d in data["deliveries"]] == [
        ("daily", "reply_notification", "sent")
    ]
    assert data["suppression"]["reason"] == "complaint"
    assert data["bans"] == [{"site": "weekly", "reason": "shouting", "created_at": "2026-11-02T09:00:00Z"}]
    assert "joe@example.org" not in json.dumps(data)
    assert "Welcome" not in json.dumps(data)


def test_export_of_an_unknown_address_is_empty(core, site):
    data = export_address(core.uow(), "nobody@example.org")
    assert (data["subscribers"], data["comments"], data["deliveries"], data["suppression"], data["bans"]) == (
        [],
        [],
        [],
        None,
        [],
    )


def test_erase_keeps_comments_as_deleted_user_and_removes_the_rest(core, held):
    with core.uow() as uow:
        jane_id = uow.session.scalars(sa.select(Subscriber.id).where(Subscriber.email == JANE)).first()
    report = erase_address(core.uow(), JANE)
    assert report.email == JANE
    assert report.counts == {
        "comments": 2,
        "subscriptions": 3,
        "subscribers": 2,
        "supporters": 0,
        "deliveries": 1,
    }
    with core.uow() as uow:
        s = uow.session
        comments = s.scalars(sa.select(Comment).order_by(Comment.id)).all()
        assert [(c.author_name, c.author_email, c.body) for c in comments] == [
            (DELETED_AUTHOR, None, "First!"),
            ("Joe", "joe@example.org", "Welcome"),
            (DELETED_AUTHOR, None, "Elsewhere"),
        ]
        assert comments[0].author_reader is None
        assert comments[0].edit_token_hash is None
        assert s.scalars(sa.select(Subscriber.email)).all() == ["joe@example.org"]
        assert s.scalar(sa.select(sa.func.count()).select_from(Subscription)) == 1
        assert s.scalars(sa.select(Delivery.recipient)).all() == ["joe@example.org"]
        # Kept on purpose: they protect others from the address, not the address's data.
        assert s.scalar(sa.select(sa.func.count()).select_from(Suppression)) == 1
    data = export_address(core.uow(), JANE)
    assert (data["subscribers"], data["comments"], data["deliveries"]) == ([], [], [])
    with pytest.raises(NotFound):
        unsubscribe(core.uow(), links.unsubscribe_token(core.keys, jane_id))
    thread = list_thread(core.uow(), ThreadQuery(site="daily", page=held["page"].key))
    assert thread.comments[0].author.name == DELETED_AUTHOR
    assert thread.comments[0].replies[0].author.name == "Joe"


def test_an_erased_subscribers_id_never_names_someone_new(core, site):
    # SQLite hands the highest id out again after a delete unless the table is AUTOINCREMENT.
    subscribe(core.uow(), SubscribeRequest(site="daily", email=JANE, kind="digest"))
    with core.uow() as uow:
        jane = uow.session.scalars(sa.select(Subscriber).where(Subscriber.email == JANE)).one()
        jane_wish = uow.session.scalars(sa.select(Subscription.id)).one()
    old_link = links.unsubscribe_token(core.keys, jane.id, jane_wish)
    erase_address(core.uow(), JANE)

    subscribe(core.uow(), SubscribeRequest(site="daily", email="new@example.org", kind="digest"))

    with core.uow() as uow:
        newcomer = uow.session.scalars(sa.select(Subscriber)).one()
        wish = uow.session.scalars(sa.select(Subscription.id)).one()
    assert newcomer.id > jane.id
    assert wish > jane_wish
    with pytest.raises(NotFound):
        unsubscribe(core.uow(), old_link)
    with core.uow() as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(Subscription)) == 1


def test_erasing_twice_or_an_unknown_address_changes_nothing(core, held):
    erase_address(core.uow(), JANE)
    before = table_rows(core)
    report = erase_address(core.uow(), JANE)
    assert report.counts == {
        "comments": 0,
        "subscriptions": 0,
        "subscribers": 0,
        "supporters": 0,
        "deliveries": 0,
    }
    assert table_rows(core) == before


@pytest.mark.parametrize(
    "bad", ["", "jane", "jane@", "@example.org", "x" * 400 + "@example.org", "a b@example.org"]
)
def test_bad_addresses_are_refused_and_change_nothing(core, held, bad):
    before = table_rows(core)
    with pytest.raises(InvalidInput) as err:
        erase_address(core.uow(), bad)
    assert err.value.field == "email"
    with pytest.raises(InvalidInput):
        export_address(core.uow(), bad)
    assert table_rows(core) == before
