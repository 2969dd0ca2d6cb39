"""What moderators do from the admin: approve, reject, spam or ban, on one comment or many at once."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from engagement.errors import Conflict, InvalidInput, UnknownItems
from engagement.models import Comment, Page, Site
from engagement.services.admin.admins import AdminView, require_site
from engagement.services.discussion.moderation import add_ban, decide
from engagement.services.discussion.publication import load_comment
from engagement.services.discussion.reports import clear_reports, open_report_count
from engagement.uow import UnitOfWork

ACTIONS = ("approve", "reject", "spam", "ban")
MAX_BULK = 200


def act_on_comments(uow: UnitOfWork, admin: AdminView, comment_ids: Sequence[int], action: str) -> int:
    """Apply ``action`` to every named comment in one transaction: all of them, or none.

    An unknown id is UnknownItems, another site's comment Forbidden, a comment already so
    decided Conflict. Approving a published comment that readers reported dismisses the
    reports; approving sends what a mail link's approval sends. Banning also rejects.
    """
    if action not in ACTIONS:
        raise InvalidInput("action", f"must be one of {', '.join(ACTIONS)}")
    ids = sorted(set(comment_ids))
    if not ids:
        raise InvalidInput("ids", "select at least one comment")
    if len(ids) > MAX_BULK:
        raise InvalidInput("ids", f"at most {MAX_BULK} comments at once")
    with uow:
        found = _sites_of(uow, ids)
        unknown = [i for i in ids if i not in found]
        if unknown:
            raise UnknownItems(f"no comment {', '.join(map(str, unknown))}; nothing was changed")
        for comment_id in ids:
            require_site(admin, found[comment_id].id)
        for comment_id in ids:
            _apply(uow, load_comment(uow.session, comment_id), found[comment_id], action)
        uow.commit()
        return len(ids)


def _apply(uow: UnitOfWork, comment: Comment, site: Site, action: str) -> None:
    if action == "approve" and comment.status == "approved":
        if open_report_count(uow.session, comment.id) == 0:
            raise Conflict(f"comment {comment.id} was already approved")
        clear_reports(uow, comment.id)
    elif action == "ban":
        if not comment.author_email and not comment.author_reader:
            raise Conflict(f"nothing identifies the author of comment {comment.id} any more")
        add_ban(uow, site, comment.author_email, comment.author_reader, f"comment {comment.id}")
        if comment.status not in ("rejected", "deleted"):
            decide(uow, comment, "reject")
    else:
        try:
            decide(uow, comment, action)
        except Conflict as exc:
            raise Conflict(f"comment {comment.id}: {exc.reason}") from None


def _sites_of(uow: UnitOfWork, ids: list[int]) -> dict[int, Site]:
    rows = uow.session.execute(
        sa.select(Comment.id, Site)
        .join(Page, Page.id == Comment.page_id)
        .join(Site, Site.id == Page.site_id)
        .where(Comment.id.in_(ids))
    ).all()
    return {row[0]: row[1] for row in rows}
