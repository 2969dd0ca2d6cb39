"""WordPress's export (WXR 1.0, 1.1 and 1.2) with wpDiscuz's comment meta: votes and inline feedback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from xml.etree.ElementTree import Element

from engagement.errors import BadImportFile
from engagement.services.operations.imports.bodies import paragraphs
from engagement.services.operations.imports.files import Source, text, xml_elements
from engagement.services.operations.imports.records import (
    APPROVED,
    DROPPED,
    PENDING,
    CommentRecord,
    ImportOptions,
    PageRecord,
    Record,
)

_WP_NS = re.compile(r"\{http://wordpress\.org/export/(1\.[012])/\}")
_STATES = {"1": APPROVED, "0": PENDING}
_SKIPPED_STATES = {"spam": "spam", "trash": "in the trash", "post-trashed": "in the trash"}
_COMMENT_TYPES = ("", "comment")
_PAGE_TYPES = ("post", "page")
VOTES = "wpdiscuz_votes"
FEEDBACK_FORM = "wpdiscuz_feedback_form_id"
PASSAGE_PREFIX = "wpdiscuz-feedback-"  # the passage an inline feedback form's comments point at


def read(source: Source, _options: ImportOptions) -> Iterator[Record]:
    """Each item's page, then its comments (pingbacks, trackbacks, spam and trash skipped)."""
    for element, _channel in xml_elements(source, 2, _check_root):
        if element.tag == "item":
            yield from _item(source, element)


def _check_root(tag: str) -> str | None:
    return None if tag == "rss" else f"not a WordPress export (the document is <{tag}>)"


def _item(source: Source, item: Element) -> Iterator[Record]:
    wp = _namespace(source, item)
    fields = {child.tag: child for child in item if child.tag != wp + "comment"}
    post_id = text(fields.get(wp + "post_id"))
    if not post_id:
        raise BadImportFile(source.path, "an <item>", "has no wp:post_id")
    comments = item.findall(wp + "comment")
    if comments or (text(fields.get(wp + "post_type")) in _PAGE_TYPES):
        yield PageRecord(
            source_id=post_id, link=text(fields.get("link")) or None, title=text(fields.get("title")) or None
        )
    for comment in comments:
        yield _comment(source, wp, post_id, comment)


def _namespace(source: Source, item: Element) -> str:
    for child in item:
        found = _WP_NS.match(child.tag)
        if found:
            return found.group(0)
    raise BadImportFile(source.path, "an <item>", "has no wp: element (WXR 1.0, 1.1 or 1.2)")


def _comment(source: Source, wp: str, post_id: str, element: Element) -> CommentRecord:
    values: dict[str, str] = {}
    meta: dict[str, str] = {}
    for child in element:
        name = child.tag.removeprefix(wp)
        if name == "commentmeta":
            meta[text(child.find(wp + "meta_key"))] = text(child.find(wp + "meta_value"))
        else:
            values[name] = child.text or ""
    comment_id = values.get("comment_id", "").strip()
    if not comment_id:
        raise BadImportFile(source.path, f"post {post_id}", "a <wp:comment> has no wp:comment_id")
    parent = values.get("comment_parent", "0").strip()
    record = CommentRecord(
        source_id=comment_id,
        page=post_id,
        parent=None if parent in ("", "0") else parent,
        status=APPROVED,
        created_at=_time(source, comment_id, values),
        author_name=values.get("comment_author", "").strip(),
        author_email=values.get("comment_author_email", "").strip() or None,
        score=_int(meta.get(VOTES)),
    )
    kind = values.get("comment_type", "").strip()
    state = values.get("comment_approved", "1").strip()
    if kind not in _COMMENT_TYPES:
        record.status, record.skip = (
            DROPPED,
            f"a {kind}" if kind in ("pingback", "trackback") else f"type {kind}",
        )
    elif state not in _STATES:
        record.status, record.skip = DROPPED, _SKIPPED_STATES.get(state, f"status {state!r}")
    else:
        record.status = _STATES[state]
        record.html = record.body = paragraphs(values.get("comment_content", ""))
        form = _int(meta.get(FEEDBACK_FORM))
        if form and record.parent is None:
            record.passage = f"{PASSAGE_PREFIX}{form}"
    return record


def _time(source: Source, comment_id: str, values: dict[str, str]) -> datetime:
    # Some pending comments carry an empty GMT date: the site's local date is all there is.
    for name in ("comment_date_gmt", "comment_date"):
        value = values.get(name, "").strip()
        if value and not value.startswith("0000"):
            try:
                return datetime.strptime(value + " +0000", "%Y-%m-%d %H:%M:%S %z")
            except ValueError as exc:
                where = f"comment {comment_id}, {name}"
                raise BadImportFile(source.path, where, f"not a time: {value!r}") from exc
    raise BadImportFile(source.path, f"comment {comment_id}", "has no comment_date_gmt")


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0
