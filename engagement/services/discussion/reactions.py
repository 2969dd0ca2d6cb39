"""Reactions: one per reader per page, changeable and removable, with the page's tallies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement import validation as check
from engagement.db import upsert
from engagement.errors import InvalidInput
from engagement.live.notices import counts_notice
from engagement.models import Page, Reaction, Site
from engagement.services.pages import ensure_page, find_page
from engagement.services.sites import get_site
from engagement.uow import UnitOfWork

MAX_READER_ID = 200


@dataclass(frozen=True)
class ReactionState:
    """Tallies for every reaction the site offers (zeros included) and the reader's own."""

    reactions: dict[str, int]
    my_reaction: str | None


def reader_hash(uow: UnitOfWork, reader_id: str | None) -> str:
    """The keyed hash of a browser's opaque id, the only form in which it is stored."""
    if not isinstance(reader_id, str):
        raise InvalidInput("reader", "is required")
    value = check.single_line("reader", reader_id, max_length=MAX_READER_ID)
    assert value is not None
    return uow.keys.reader_hash(value)


def react(
    uow: UnitOfWork,
    site_key: str,
    page_ref: str,
    reader_id: str | None,
    reaction: str | None,
    page_title: str | None = None,
) -> ReactionState:
    """Set the reader's reaction to a page (``None`` removes it) and return the new tallies."""
    reader = reader_hash(uow, reader_id)
    with uow:
        site = get_site(uow.session, site_key)
        if reaction is None:
            # Removing creates nothing: a page nobody engaged with stays unknown.
            page = find_page(uow.session, site, page_ref)
            if page is not None:
                uow.session.execute(
                    sa.delete(Reaction).where(Reaction.page_id == page.id, Reaction.reader_hash == reader)
                )
        else:
            check.one_of("reaction", reaction, site.reaction_keys)
            page = ensure_page(uow, site, page_ref, page_title)
            # Upsert: the same reader reacting twice at once ends with one row and no error.
            upsert(
                uow.session,
                Reaction.__table__,  # type: ignore[arg-type]
                {"page_id": page.id, "reader_hash": reader, "reaction": reaction, "created_at": uow.now()},
                ["page_id", "reader_hash"],
                {"reaction": reaction, "created_at": uow.now()},
            )
        state = reaction_state(uow.session, site, page, reader)
        if page is not None:
            uow.announce(counts_notice(page.id, state.reactions))
        uow.commit()
        return state


def reaction_state(session: Session, site: Site, page: Page | None, reader: str | None) -> ReactionState:
    """The page's tallies over the site's reaction set, and the reader's (hashed id) own."""
    if page is None:
        return ReactionState(reactions=dict.fromkeys(site.reaction_keys, 0), my_reaction=None)
    tallies = reaction_tallies(session, [page.id]).get(page.id, {})
    mine = None
    if reader is not None:
        mine = session.scalars(
            sa.select(Reaction.reaction).where(Reaction.page_id == page.id, Reaction.reader_hash == reader)
        ).first()
    return state_from(site, tallies, mine)


def state_from(site: Site, tallies: dict[str, int], mine: str | None) -> ReactionState:
    """Keep only the reactions a site offers now: a retired key's old rows count for nothing."""
    keys = site.reaction_keys
    return ReactionState(
        reactions={key: tallies.get(key, 0) for key in keys},
        my_reaction=mine if mine in keys else None,
    )


def reaction_tallies(session: Session, page_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Counts per page and reaction for many pages in one grouped read (pages without any absent)."""
    if not page_ids:
        return {}
    rows = session.execute(
        sa.select(Reaction.page_id, Reaction.reaction, sa.func.count())
        .where(Reaction.page_id.in_(list(page_ids)))
        .group_by(Reaction.page_id, Reaction.reaction)
    )
    result: dict[int, dict[str, int]] = {}
    for page_id, reaction, count in rows:
        result.setdefault(page_id, {})[reaction] = count
    return result
