"""Sample data that every e-mail template renders with, for checks and previews."""

from __future__ import annotations

from typing import Any


def sample_context(site_key: str = "example", site_name: str = "Example Daily") -> dict[str, Any]:
    """One context that fills every template: a site, a page, a comment and its parent, a digest."""
    site = {
        "key": site_key,
        "name": site_name,
        "support_call": "Reader-funded journalism: support us.",
        "support_url": "https://example.org/support",
        "supporter_thanks": "Thank you for supporting us.",
    }
    page = {"title": "How the river was saved", "url": "https://example.org/river"}
    comment = {
        "id": 42,
        "author": "Ana",
        "text": "The volunteers did most of the work.\nThanks to them.",
        "html": "<p>The volunteers did most of the work.<br>Thanks to them.</p>",
        "url": "https://example.org/river#engagement-comment-42",
        "created": "2 Nov 2026, 09:30 UTC",
        "reply_to_you": True,
        "reason": "its first comment on this site",
        "page_title": page["title"],
        "yours": False,
    }
    parent = {**comment, "id": 41, "author": "Ben", "text": "Who cleaned the banks?", "yours": True}
    parent["html"] = "<p>Who cleaned the banks?</p>"
    return {
        "site": site,
        "recipient": "reader@example.org",
        "supporter": False,
        "unsubscribe_url": "https://comments.example.org/u/sample",
        "preferences_url": "https://comments.example.org/p/sample",
        "confirm_url": "https://comments.example.org/c/sample",
        "approve_url": "https://comments.example.org/m/sample-approve",
        "reject_url": "https://comments.example.org/m/sample-reject",
        "spam_url": "https://comments.example.org/m/sample-spam",
        "link_days": 7,
        "wish": "replies to your comments",
        "page": page,
        "comment": comment,
        "parent": parent,
        "comments": [comment],
        "period": "daily",
        "period_label": "2 Nov 2026",
        "replies": [comment],
        "followed": [{**page, "count": 2, "comments": [comment, parent]}],
        "top_pages": [{**page, "count": 12}],
        "webhook": {
            "id": 3,
            "url": "https://hooks.example.org/engagement",
            "reason": "20 deliveries failed in a row",
            "last_error": "HTTP 503",
            "admin_url": "https://comments.example.org/admin/sites/example/webhooks",
        },
    }
