"""The neutral records every format's reader yields, the options of a run and its summary."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

# What a source says of a comment; "spam" and "dropped" are never written.
APPROVED = "approved"
PENDING = "pending"
DELETED = "deleted"
DROPPED = "dropped"  # spam, trash, pingbacks: skipped, with the reason in ``CommentRecord.skip``

# (stage, items read so far, bytes read so far, bytes in all): a run reads its file twice.
Progress = Callable[[str, int, int, int], None]


@dataclass(slots=True)
class PageRecord:
    """A page (a Disqus thread, a WordPress post, an Isso thread) named by its id in the source."""

    source_id: str
    link: str | None
    title: str | None = None
    identifier: str | None = None  # Disqus's disqus_identifier


@dataclass(slots=True)
class CommentRecord:
    """One comment; ``page`` and ``parent`` are ids in the source, ``html`` already sanitised."""

    source_id: str
    page: str
    parent: str | None
    status: str
    created_at: datetime
    author_name: str = ""
    author_email: str | None = None
    html: str = ""
    body: str = ""
    score: int = 0
    passage: str | None = None
    skip: str | None = None  # why a DROPPED comment is left out


@dataclass(slots=True)
class SubscriptionRecord:
    """A wish to hear of a page's follow-ups ("thread") or of replies to comments ("replies")."""

    source_id: str
    email: str
    kind: str
    page: str | None = None  # the page's id in the source
    comment: str | None = None  # the comment's id in the source, for "replies" to one comment
    confirmed: bool = True


Record = PageRecord | CommentRecord | SubscriptionRecord


@dataclass(frozen=True, kw_only=True)
class ImportOptions:
    """What the publisher asked for on the command line."""

    fmt: str
    path: Path
    site: str
    url_map: list[tuple[str, str]] = field(default_factory=list)  # pages.read_url_map
    key_by: str = "link"  # or "identifier" (Disqus)
    dry_run: bool = False
    with_isso_notifications: bool = False
    progress: Progress | None = None


@dataclass
class ImportSummary:
    """What a run imported, per kind, and each thing it skipped with the reason and source id."""

    imported: dict[str, int] = field(default_factory=dict)
    already: dict[str, int] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (source id, reason)
    dry_run: bool = False

    def add(self, kind: str, count: int = 1) -> None:
        self.imported[kind] = self.imported.get(kind, 0) + count

    def seen_before(self, kind: str, count: int = 1) -> None:
        self.already[kind] = self.already.get(kind, 0) + count

    def skip(self, source_id: str, reason: str) -> None:
        self.skipped.append((source_id, reason))
