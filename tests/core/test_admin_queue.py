"""The admin queue's reads: newest first over an admin's sites, keyset pages, bounded text search."""

from __future__ import annotations

from posting import post

from engagement.services.admin.admin_queue import QueueFilter, queue_page
from engagement.services.admin.admins import add_admin
from engagement.services.sites import SiteChanges, update_site


def test_pages_and_a_bounded_text_search(core, site, clock):
    update_site(core.uow(), "daily", SiteChanges(moderation="all"))
    owner = add_admin(core.uow(), "owner@example.org", "owner", password="a long passphrase here").admin
    ids = []
    for n in range(5):
        ids.append(post(core, body="Find the needle here." if n == 0 else f"Hay number {n}.").comment.id)
        clock.advance(seconds=1)
    first = queue_page(core.uow(), owner, QueueFilter(), limit=2)
    assert [c.id for c in first.items] == [ids[4], ids[3]]
    second = queue_page(core.uow(), owner, QueueFilter(before=first.next_cursor), limit=2)
    assert [c.id for c in second.items] == [ids[2], ids[1]]
    # The word is in the oldest comment: two comments are read per page, the cursor goes on.
    wanted, pages = QueueFilter(text="NEEDLE"), []
    while True:
        found = queue_page(core.uow(), owner, wanted, limit=2, scan=2)
        pages.append(found)
        if found.items or found.next_cursor is None:
            break
        assert found.searched_to is not None
        wanted = QueueFilter(text="NEEDLE", before=found.next_cursor)
    assert [c.id for c in pages[-1].items] == [ids[0]]
    assert len(pages) == 3
