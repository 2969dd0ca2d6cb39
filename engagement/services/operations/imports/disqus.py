"""Disqus's documented export: threads and posts under ``http://disqus.com``, ids in ``dsq:id``."""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree.ElementTree import Element

from engagement.errors import BadImportFile
from engagement.services.operations.imports.bodies import clean_html, iso_time
from engagement.services.operations.imports.files import Source, text, xml_elements
from engagement.services.operations.imports.records import (
    APPROVED,
    DELETED,
    DROPPED,
    CommentRecord,
    ImportOptions,
    PageRecord,
    Record,
)

NS = "{http://disqus.com}"
DSQ_ID = "{http://disqus.com/disqus-internals}id"
_THREAD, _POST = NS + "thread", NS + "post"
_ROOT = NS + "disqus"


def read(source: Source, _options: ImportOptions) -> Iterator[Record]:
    """Threads and posts in file order (a post may come before its thread)."""
    for element, _parent in xml_elements(source, 1, _check_root):
        if element.tag == _POST:
            yield _post(source, element)
        elif element.tag == _THREAD:
            yield PageRecord(
                source_id=_id(source, element),
                link=_child_text(element, "link") or None,
                title=_child_text(element, "title") or None,
                identifier=_child_text(element, "id") or None,
            )


def _check_root(tag: str) -> str | None:
    return None if tag == _ROOT else f"not a Disqus export (the document is <{_local(tag)}>)"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child_text(element: Element, name: str) -> str:
    return text(element.find(NS + name))


def _id(source: Source, element: Element) -> str:
    value = element.get(DSQ_ID)
    if not value:
        raise BadImportFile(source.path, f"a <{_local(element.tag)}>", "has no dsq:id attribute")
    return value


_PARENT, _AUTHOR = NS + "parent", NS + "author"
_MESSAGE, _CREATED, _DELETED, _SPAM = NS + "message", NS + "createdAt", NS + "isDeleted", NS + "isSpam"
_NAME, _EMAIL = NS + "name", NS + "email"


def _post(source: Source, element: Element) -> CommentRecord:
    post_id = _id(source, element)
    fields: dict[str, str | None] = {}  # by full tag: a post's children, its author's too
    thread = parent = None
    for child in element:
        tag = child.tag
        if tag == _THREAD:
            thread = child.get(DSQ_ID)
        elif tag == _PARENT:
            parent = child.get(DSQ_ID)
        elif tag == _AUTHOR:
            for part in child:
                fields[part.tag] = part.text
        else:
            fields[tag] = child.text
    if not thread:
        raise BadImportFile(source.path, f"post {post_id}", "has no thread dsq:id")
    stamp = fields.get(_CREATED) or ""
    try:
        created = iso_time(stamp)
    except ValueError as exc:
        raise BadImportFile(source.path, f"post {post_id}, createdAt", f"not a time: {stamp!r}") from exc
    record = CommentRecord(
        source_id=post_id,
        page=thread,
        parent=parent or None,
        status=APPROVED,
        created_at=created,
        author_name=(fields.get(_NAME) or "").strip(),
        author_email=(fields.get(_EMAIL) or "").strip() or None,
    )
    if _true(fields.get(_SPAM)):
        record.status, record.skip = DROPPED, "spam"
    elif _true(fields.get(_DELETED)):
        record.status = DELETED
    else:
        record.html = record.body = clean_html(fields.get(_MESSAGE) or "")
    return record


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"
