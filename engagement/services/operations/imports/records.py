"""The neutral records every format's reader yields, the options of a run and its summary."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

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


_SKIPS_IN_MEMORY = 10_000  # the rest go to a temporary file: a million spam posts are all listed


@dataclass
class ImportSummary:
    """What a run imported, per kind, and each thing it skipped with the reason and source id."""

    imported: dict[str, int] = field(default_factory=dict)
    already: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    skip_count: int = 0
    _skips: list[tuple[str, str]] = field(default_factory=list, repr=False, compare=False)
    _more: IO[str] | None = field(default=None, repr=False, compare=False)

    def add(self, kind: str, count: int = 1) -> None:
        self.imported[kind] = self.imported.get(kind, 0) + count

    def seen_before(self, kind: str, count: int = 1) -> None:
        self.already[kind] = self.already.get(kind, 0) + count

    def skip(self, source_id: str, reason: str) -> None:
        self.skip_count += 1
        if self.skip_count <= _SKIPS_IN_MEMORY:
            self._skips.append((source_id, reason))
            return
        if self._more is None:
            self._more = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 (close())
        self._more.write(f"{_one_line(source_id)}\t{reason}\n")

    def skips(self) -> Iterator[tuple[str, str]]:
        """(source id, reason) of each skip, in the order they happened."""
        yield from self._skips
        if self._more is not None:
            self._more.seek(0)
            for line in self._more:
                source_id, _, reason = line.rstrip("\n").partition("\t")
                yield source_id, reason

    @property
    def skipped(self) -> list[tuple[str, str]]:
        return list(self.skips())

    def close(self) -> None:
        if self._more is not None:
            self._more.close()


def _one_line(value: str) -> str:
    return " ".join(value.split()) if any(c in value for c in "\t\r\n") else value
