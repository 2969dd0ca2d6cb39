"""Remark42's backup: a first line ``{"version":1,...}``, then one JSON comment a line (HTML text)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from engagement.errors import BadImportFile
from engagement.services.operations.imports.bodies import clean_html, iso_time
from engagement.services.operations.imports.files import Source
from engagement.services.operations.imports.records import (
    APPROVED,
    DELETED,
    CommentRecord,
    ImportOptions,
    PageRecord,
    Record,
)


def read(source: Source, _options: ImportOptions) -> Iterator[Record]:
    """A page the first time a URL comes up, then each comment as its line is read."""
    pages: set[str] = set()
    lines = _lines(source)
    number, head = next(lines, (1, None))
    if not isinstance(head, dict) or "version" not in head:
        raise BadImportFile(source.path, "line 1", 'not a Remark42 backup (no {"version": …} first line)')
    for number, value in lines:
        record = _comment(source, number, value)
        if record.page not in pages:
            pages.add(record.page)
            yield PageRecord(source_id=record.page, link=record.page, title=_title(value))
        yield record


def _lines(source: Source) -> Iterator[tuple[int, Any]]:
    for number, raw in enumerate(source.stream, start=1):
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            raise BadImportFile(source.path, f"line {number}", "not UTF-8 text") from exc
        if not line:
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            where = f"line {number}, column {exc.colno}"
            raise BadImportFile(source.path, where, f"not JSON ({exc.msg})") from exc


def _field(source: Source, number: int, value: Any, *names: str) -> Any:
    for name in names:
        if not isinstance(value, dict) or name not in value:
            raise BadImportFile(source.path, f"line {number}", f"no field {'.'.join(names)}")
        value = value[name]
    return value


def _comment(source: Source, number: int, value: Any) -> CommentRecord:
    comment_id = _field(source, number, value, "id")
    url = _field(source, number, value, "locator", "url")
    stamp = _field(source, number, value, "time")
    if not isinstance(comment_id, str | int) or not isinstance(url, str) or not isinstance(stamp, str):
        raise BadImportFile(source.path, f"line {number}", "id, locator.url and time must be text")
    try:
        created = iso_time(stamp)
    except ValueError as exc:
        raise BadImportFile(source.path, f"line {number}, time", f"not a time: {stamp!r}") from exc
    deleted = bool(value.get("delete"))
    user = value.get("user") if isinstance(value.get("user"), dict) else {}
    score = value.get("score")
    html = "" if deleted else clean_html(str(value.get("text") or ""))
    return CommentRecord(
        source_id=str(comment_id),
        page=url,
        parent=str(value["pid"]) if value.get("pid") else None,
        status=DELETED if deleted else APPROVED,
        created_at=created,
        author_name=str(user.get("name") or ""),
        html=html,
        body=html,
        score=score if isinstance(score, int) and not isinstance(score, bool) else 0,
    )


def _title(value: dict[str, Any]) -> str | None:
    title = value.get("title")
    return title if isinstance(title, str) and title else None
