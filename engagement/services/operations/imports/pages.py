"""Where imported comments go: each source page becomes the page its normalised URL names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engagement import validation as check
from engagement.db import dialect_insert
from engagement.errors import BadImportFile, InvalidInput
from engagement.models import Page
from engagement.pagekeys import clean_url
from engagement.services.operations.imports.records import PageRecord
from engagement.services.pages import page_key

_CHUNK = 500  # keys per statement: SQLite binds at most a few thousand parameters
_PAGES: sa.Table = Page.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class PageTarget:
    """A source page as we store it: its key, the URL to show, its title and id in the source."""

    key: str
    url: str | None
    title: str | None
    source_id: str


def read_url_map(path: Path) -> list[tuple[str, str]]:
    """``--url-map``: lines of ``old-prefix new-prefix``; blank lines and ``#`` comments allowed."""
    pairs: list[tuple[str, str]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadImportFile(path, None, f"cannot be read ({exc})") from exc
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2 or not all(_is_prefix(part) for part in parts):
            raise BadImportFile(path, f"line {number}", "a line must be two URLs: old-prefix new-prefix")
        pairs.append((parts[0], parts[1]))
    # The longest old prefix wins, whatever the order of the lines.
    return sorted(pairs, key=lambda pair: len(pair[0]), reverse=True)


def _is_prefix(value: str) -> bool:
    return value.startswith(("http://", "https://", "/"))


def mapped(link: str, url_map: list[tuple[str, str]]) -> str:
    for old, new in url_map:
        if link.startswith(old):
            return new + link[len(old) :]
    return link


def target(record: PageRecord, url_map: list[tuple[str, str]], key_by: str) -> PageTarget | None:
    """Where a source page goes, or None when it names no usable page."""
    link = mapped(record.link.strip(), url_map) if record.link else None
    ref = record.identifier.strip() if key_by == "identifier" and record.identifier else link
    if not ref:
        return None
    try:
        key = page_key(ref)
    except InvalidInput:
        return None
    title = (record.title or "").strip().replace("\n", " ")[: check.MAX_TITLE] or None
    url = clean_url(link) if link else None
    return PageTarget(
        key=key,
        url=url if url and len(url) <= check.MAX_URL else None,
        title=title,
        source_id=record.source_id[:100],
    )


def resolve(
    conn: Connection, site_id: int, source: str, targets: list[PageTarget | None], now: datetime
) -> tuple[list[int | None], int]:
    """The page id of each target (created if new; targets with one key share a page).

    Returns the ids and how many pages were created. Pages that existed keep their title
    and URL, gaining those they lacked.
    """
    keys = sorted({t.key for t in targets if t is not None})
    found = _ids_by_key(conn, site_id, keys)
    new: dict[str, PageTarget] = {}
    for t in targets:  # the first thread of a merged page gives its title and URL
        if t is not None and t.key not in found:
            new.setdefault(t.key, t)
    rows = [
        {
            "site_id": site_id,
            "key": t.key,
            "url": t.url,
            "title": t.title,
            "comment_count": 0,
            "created_at": now,
            "source": source,
            "source_id": t.source_id,
        }
        for t in new.values()
    ]
    if rows:
        insert = dialect_insert(conn, _PAGES).on_conflict_do_nothing(index_elements=["site_id", "key"])
        conn.execute(insert, rows)
    found.update(_ids_by_key(conn, site_id, sorted(new)))
    _fill_gaps(conn, [(found[t.key], t) for t in targets if t is not None and t.key not in new], source)
    return [None if t is None else found[t.key] for t in targets], len(new)


def _ids_by_key(conn: Connection, site_id: int, keys: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        stmt = sa.select(Page.key, Page.id).where(Page.site_id == site_id, Page.key.in_(chunk))
        found.update(dict(conn.execute(stmt).all()))
    return found


def _fill_gaps(conn: Connection, pages: list[tuple[int, PageTarget]], source: str) -> None:
    if not pages:
        return
    table = _PAGES
    stmt = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("pid"))
        .values(
            title=sa.func.coalesce(table.c.title, sa.bindparam("t")),
            url=sa.func.coalesce(table.c.url, sa.bindparam("u")),
            source=sa.func.coalesce(table.c.source, sa.bindparam("s")),
            source_id=sa.case((table.c.source.is_(None), sa.bindparam("sid")), else_=table.c.source_id),
        )
    )
    conn.execute(
        stmt, [{"pid": pid, "t": t.title, "u": t.url, "s": source, "sid": t.source_id} for pid, t in pages]
    )
