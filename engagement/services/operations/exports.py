"""A site's pages, comments, reactions and votes out to a file: our own JSON, or a Disqus export.

Both are streamed from the database to the file, so a site of any size exports in bounded
memory. Addresses stay out unless the publisher asks for them.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, cast
from xml.sax.saxutils import XMLGenerator
from xml.sax.xmlreader import AttributesImpl

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement import __version__
from engagement.models import Comment, Page, Reaction, Site, Vote
from engagement.services.sites import get_site
from engagement.uow import UnitOfWork

FORMATS = ("json", "disqus")
JSON_FORMAT = "engagement-export"
JSON_VERSION = 1
DISQUS_NS = "http://disqus.com"
DISQUS_INTERNALS_NS = "http://disqus.com/disqus-internals"
_BATCH = 1000


@dataclass
class ExportSummary:
    """What went into the file, and what a format could not carry."""

    exported_at: datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)
    left_out: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, count: int = 1) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + count

    def leave_out(self, reason: str) -> None:
        self.left_out[reason] = self.left_out.get(reason, 0) + 1


def export_site(
    uow: UnitOfWork, site_key: str, path: Path, *, fmt: str = "json", with_addresses: bool = False
) -> ExportSummary:
    """Write ``site_key``'s engagement to ``path`` (gzipped when the name ends in .gz)."""
    writer = _write_json if fmt == "json" else _write_disqus
    partial = path.with_name(path.name + ".partial")  # a failed run leaves no half file
    summary = ExportSummary()
    try:
        with uow:
            site = get_site(uow.session, site_key)
            summary.exported_at = uow.now()
            with _open(partial) as out:
                writer(uow.session, site, out, summary, with_addresses)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return summary


def _open(path: Path) -> IO[str]:
    if path.name.endswith(".gz.partial"):
        return gzip.open(path, "wt", encoding="utf-8")
    return path.open("w", encoding="utf-8")


def _streamed(session: Session, stmt: sa.Select[Any]) -> Iterator[Any]:
    yield from session.execute(stmt.execution_options(yield_per=_BATCH))


def _pages(session: Session, site: Site) -> Iterator[Page]:
    stmt = sa.select(Page).where(Page.site_id == site.id).order_by(Page.id)
    for (page,) in _streamed(session, stmt):
        yield page


def _comments(session: Session, site: Site) -> Iterator[Comment]:
    # In id order: a parent always comes before its replies, as importers expect.
    stmt = sa.select(Comment).join(Page).where(Page.site_id == site.id).order_by(Comment.id)
    for (comment,) in _streamed(session, stmt):
        yield comment


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# -- our own JSON ----------------------------------------------------------------------------


def _write_json(
    session: Session, site: Site, out: IO[str], summary: ExportSummary, with_addresses: bool
) -> None:
    """One JSON document written section by section, never held whole in memory."""
    head = {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "engagement": __version__,
        "exported_at": _time(summary.exported_at),
        "site": _site_record(site, with_addresses),
    }
    out.write(json.dumps(head, ensure_ascii=False)[:-1])
    sections: list[tuple[str, Iterator[dict[str, Any]]]] = [
        ("pages", (_page_record(p) for p in _pages(session, site))),
        ("comments", (_comment_record(c, with_addresses) for c in _comments(session, site))),
        ("reactions", _reaction_records(session, site)),
        ("votes", _vote_records(session, site)),
    ]
    for name, records in sections:
        out.write(f',\n"{name}":[')
        for index, record in enumerate(records):
            out.write(",\n" if index else "\n")
            out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
            summary.add(name)
        summary.counts.setdefault(name, 0)
        out.write("]")
    out.write("}\n")


def _site_record(site: Site, with_addresses: bool) -> dict[str, Any]:
    record: dict[str, Any] = {
        "key": site.key,
        "name": site.name,
        "origins": site.origins,
        "moderation": site.moderation,
        "reactions": site.reactions,
        "support_url": site.support_url,
        "support_text": site.support_text,
        "created_at": _time(site.created_at),
    }
    if with_addresses:
        record["moderator_emails"] = site.moderator_emails
    return record


def _page_record(page: Page) -> dict[str, Any]:
    return {
        "id": page.id,
        "key": page.key,
        "url": page.url,
        "title": page.title,
        "created_at": _time(page.created_at),
    }


def _comment_record(comment: Comment, with_addresses: bool) -> dict[str, Any]:
    author: dict[str, Any] = {"name": comment.author_name, "reader": comment.author_reader}
    if with_addresses:
        author["email"] = comment.author_email
    anchor = None
    if comment.has_anchor:
        anchor = {
            "passage": comment.anchor_passage,
            "exact": comment.anchor_exact,
            "prefix": comment.anchor_prefix,
            "suffix": comment.anchor_suffix,
        }
    return {
        "id": comment.id,
        "page": comment.page_id,
        "parent": comment.parent_id,
        "status": comment.status,
        "author": author,
        "body": comment.body,
        "html": comment.html,
        "score": comment.score,
        "created_at": _time(comment.created_at),
        "edited_at": _time(comment.edited_at),
        "published_at": _time(comment.published_at),
        "anchor": anchor,
    }


def _reaction_records(session: Session, site: Site) -> Iterator[dict[str, Any]]:
    stmt = sa.select(Reaction).join(Page).where(Page.site_id == site.id).order_by(Reaction.id)
    for (reaction,) in _streamed(session, stmt):
        yield {
            "page": reaction.page_id,
            "reaction": reaction.reaction,
            "reader": reaction.reader_hash,
            "created_at": _time(reaction.created_at),
        }


def _vote_records(session: Session, site: Site) -> Iterator[dict[str, Any]]:
    stmt = (
        sa.select(Vote)
        .join(Comment, Comment.id == Vote.comment_id)
        .join(Page, Page.id == Comment.page_id)
        .where(Page.site_id == site.id)
        .order_by(Vote.id)
    )
    for (vote,) in _streamed(session, stmt):
        yield {
            "comment": vote.comment_id,
            "value": vote.value,
            "reader": vote.reader_hash,
            "created_at": _time(vote.created_at),
        }


# -- Disqus ----------------------------------------------------------------------------------


class _Xml:
    """A thin streaming XML writer: elements with text, nested elements, and dsq:id attributes."""

    def __init__(self, out: IO[str]) -> None:
        # typeshed wants a byte sink; a text stream given the same encoding works alike.
        self._gen = XMLGenerator(cast(Any, out), encoding="utf-8", short_empty_elements=True)
        self._depth = 0
        self._closed_root = False

    def start(self, name: str, attrs: dict[str, str] | None = None) -> None:
        self._indent()
        self._gen.startElement(name, AttributesImpl(attrs or {}))
        self._depth += 1

    def end(self, name: str) -> None:
        self._depth -= 1
        self._closed_root = self._depth == 0
        self._indent()
        self._gen.endElement(name)

    def leaf(self, name: str, text: str | None = None, attrs: dict[str, str] | None = None) -> None:
        self._indent()
        self._gen.startElement(name, AttributesImpl(attrs or {}))
        if text:
            self._gen.characters(text)
        self._gen.endElement(name)

    def document(self) -> XMLGenerator:
        return self._gen

    def _indent(self) -> None:
        if self._depth or self._closed_root:
            self._gen.ignorableWhitespace("\n" + "  " * self._depth)


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _write_disqus(
    session: Session, site: Site, out: IO[str], summary: ExportSummary, with_addresses: bool
) -> None:
    """The documented Disqus export: a category, a thread per page, a post per comment.

    Disqus has no pending or rejected state: such comments are left out and counted.
    """
    summary.counts.update(threads=0, posts=0)
    xml = _Xml(out)
    xml.document().startDocument()
    xml.start(
        "disqus",
        {
            "xmlns": DISQUS_NS,
            "xmlns:dsq": DISQUS_INTERNALS_NS,
            "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
        },
    )
    xml.start("category", {"dsq:id": "1"})
    xml.leaf("forum", site.key)
    xml.leaf("title", "General")
    xml.leaf("isDefault", "true")
    xml.end("category")
    for page in _pages(session, site):
        xml.start("thread", {"dsq:id": str(page.id)})
        xml.leaf("id", page.key)
        xml.leaf("forum", site.key)
        xml.leaf("category", attrs={"dsq:id": "1"})
        xml.leaf("link", page.url or page.key)
        xml.leaf("title", page.title or page.url or page.key)
        xml.leaf("message")
        xml.leaf("createdAt", _disqus_time(page.created_at))
        xml.leaf("isClosed", "false")
        xml.leaf("isDeleted", "false")
        xml.end("thread")
        summary.add("threads")
    for comment in _comments(session, site):
        if comment.status in ("pending", "rejected"):
            summary.leave_out(f"{comment.status} comments (Disqus has no such state)")
            continue
        deleted = comment.status == "deleted"
        xml.start("post", {"dsq:id": str(comment.id)})
        xml.leaf("id")
        xml.leaf("message", "" if deleted else comment.html)
        xml.leaf("createdAt", _disqus_time(comment.created_at))
        xml.leaf("isDeleted", _flag(deleted))
        xml.leaf("isSpam", _flag(comment.status == "spam"))
        xml.start("author")
        xml.leaf("email", comment.author_email if with_addresses else None)
        xml.leaf("name", comment.author_name)
        xml.leaf("isAnonymous", _flag(comment.author_email is None))
        xml.end("author")
        xml.leaf("thread", attrs={"dsq:id": str(comment.page_id)})
        if comment.parent_id is not None:
            xml.leaf("parent", attrs={"dsq:id": str(comment.parent_id)})
        xml.end("post")
        summary.add("posts")
    xml.end("disqus")
    xml.document().endDocument()
    out.write("\n")


def _disqus_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
