"""Preview a comment: its body rendered and sanitised exactly as posting would store it, nothing written."""

from __future__ import annotations

from engagement import validation as check
from engagement.rendering import render_markdown
from engagement.services.sites import get_site
from engagement.uow import UnitOfWork


def preview_comment(
    uow: UnitOfWork,
    site_key: str,
    body: str,
    *,
    reader_id: str | None = None,
    client_ip: str | None = None,
) -> str:
    """The sanitised HTML a comment with ``body`` would show on ``site_key``'s pages."""
    body = check.required_text("body", body, max_length=check.MAX_BODY)
    with uow:
        get_site(uow.session, site_key)
        if uow.limiter is not None:
            reader = uow.keys.reader_hash(reader_id) if reader_id else None
            uow.limiter.check("preview", {"reader": reader, "ip": client_ip})
    # Rendered after the transaction: the connection goes back to the pool first.
    return render_markdown(body)
