"""The demo's data: a site, an article modelled on a news story, and a seeded discussion.

Everything is written through the core services, as a publisher's readers would write it,
with the times moved back so the thread looks lived in. Seeding happens once per data folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from engagement import links
from engagement.core import Core
from engagement.models import Site, Subscriber
from engagement.services.audience.subscriptions import confirm_subscriber
from engagement.services.discussion.comments import PostComment, post_comment
from engagement.services.discussion.public import Anchor
from engagement.services.discussion.reactions import react
from engagement.services.discussion.votes import vote
from engagement.services.sites import SiteChanges, add_site
from engagement.uow import UnitOfWork

SITE = "demo"
ARTICLE_PATH = "/demo/article"
LISTING_PATH = "/demo/listing"
MODERATOR = "moderator@demo.example"
REPLIER = "maria@demo.example"


@dataclass(frozen=True)
class Seed:
    """One seeded comment: who, what, when (hours before now), to which earlier comment."""

    name: str
    body: str
    hours_ago: float
    reply_to: int | None = None  # index into SEEDS
    anchor: Anchor | None = None
    email: str | None = None


SEEDS = (
    Seed(
        "Maria",
        "Finally! The Thursday late opening was **always** packed; this was overdue.",
        9.0,
        email=REPLIER,
    ),
    Seed("Tom", "Packed with students, mostly. Will the *weekend* hours change too?", 8.2, reply_to=0),
    Seed(
        "Maria",
        "According to the [council minutes](https://example.org/minutes), weekends stay as they are.",
        7.9,
        reply_to=1,
        email=REPLIER,
    ),
    Seed(
        "Jonas",
        "1.2 million a year seems a lot for a few extra hours a week. Who pays for it?",
        6.5,
        anchor=Anchor(passage="cost"),
    ),
    Seed("Aisha", "Mostly staff costs. The building is heated and lit until ten anyway.", 6.1, reply_to=3),
    Seed(
        "Priya",
        "Please keep it quiet after ten too; that floor is the only silent place in town.",
        4.0,
        anchor=Anchor(exact="quiet study floor", prefix="the ", suffix=" will stay"),
    ),
    Seed("Leo", "Great news for shift workers like me. Thank you, library staff!", 2.5),
)
REACTIONS = ("like", "like", "love", "like", "wow", "love", "like", "haha")
VOTES = ((0, 1), (0, 1), (0, 1), (3, 1), (3, -1), (4, 1), (6, 1))


@dataclass(frozen=True)
class DemoInfo:
    site: str
    article_url: str
    listing_url: str
    seeded: bool


def seed_demo(core: Core, base_url: str) -> DemoInfo:
    """Create the demo site and its discussion unless the data folder has them already."""
    base_url = base_url.rstrip("/")
    info = DemoInfo(SITE, base_url + ARTICLE_PATH, base_url + LISTING_PATH, seeded=False)
    with core.session_factory() as session:
        if session.scalars(sa.select(Site.id).where(Site.key == SITE)).first() is not None:
            return info
    now = core.clock()
    add_site(core.uow(), SITE, _site_settings(base_url, now))
    _seed_thread(core, info.article_url, now)
    return DemoInfo(info.site, info.article_url, info.listing_url, seeded=True)


def _site_settings(base_url: str, now: datetime) -> SiteChanges:
    # The digest period ends at the hour the demo was first started, so the seeded thread
    # falls inside the latest daily and weekly periods: "send a digest now" has news to send.
    return SiteChanges(
        name="The Daily Example",
        origins=[base_url],
        moderation="off",
        moderator_emails=[MODERATOR],
        support_url="https://www.patreon.com/",
        digest_hour=now.astimezone(UTC).hour,
        digest_weekday=now.astimezone(UTC).weekday(),
        timezone="UTC",
    )


def _at(core: Core, moment: datetime) -> UnitOfWork:
    """A unit of work whose clock reads ``moment``, and with no rate limit: seeding is not abuse."""

    def clock() -> datetime:
        return moment

    return UnitOfWork(
        core.session_factory, keys=core.keys, limiter=None, clock=clock, on_commit=core.on_commit
    )


def _seed_thread(core: Core, article_url: str, now: datetime) -> None:
    start = now.replace(minute=0, second=0, microsecond=0)
    ids: list[int] = []
    for n, seed in enumerate(SEEDS):
        posted = post_comment(
            _at(core, start - timedelta(hours=seed.hours_ago)),
            PostComment(
                site=SITE,
                page=article_url,
                page_title="City library to stay open until midnight after pilot draws record crowds",
                parent=ids[seed.reply_to] if seed.reply_to is not None else None,
                author_name=seed.name,
                author_email=seed.email,
                body=seed.body,
                anchor=seed.anchor,
                notify="replies" if seed.email else "none",
                reader_id=f"demo-reader-{n:04d}",
            ),
        )
        ids.append(posted.comment.id)
    _confirm(core, REPLIER)
    for n, reaction in enumerate(REACTIONS):
        react(_at(core, start - timedelta(hours=3)), SITE, article_url, f"demo-reactor-{n:04d}", reaction)
    for n, (index, value) in enumerate(VOTES):
        vote(_at(core, start - timedelta(hours=2)), ids[index], f"demo-voter-{n:04d}", value)


def _confirm(core: Core, email: str) -> None:
    """Maria confirmed her address long ago: replies to her comments notify her."""
    with core.session_factory() as session:
        subscriber_id = session.scalars(
            sa.select(Subscriber.id).join(Site).where(Site.key == SITE, Subscriber.email == email)
        ).one()
    confirm_subscriber(core.uow(), links.confirm_token(core.keys, subscriber_id))
