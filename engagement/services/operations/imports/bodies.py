"""Comment bodies and times as sources give them, made into what our comments store.

HTML passes the allow-list posted comments pass. Most imported bodies are already plain
paragraphs of text: those are recognised by one regular expression and a tag stack, and
only the others pay for the sanitiser.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from engagement.rendering import ALLOWED_TAGS, render_markdown, sanitize_html

# Bare allowed tags without attributes, and character references: nothing for nh3 to remove.
_PLAIN_TAGS = frozenset(
    {f"<{tag}>" for tag in ALLOWED_TAGS - {"a"}}
    | {f"</{tag}>" for tag in ALLOWED_TAGS - {"a"}}
    | {"<br/>", "<br />"}
)
_MARKUP = re.compile(r"<[^<>]*>|&[^&;<>]*;")
_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|apos|#\d{1,6}|#x[0-9a-fA-F]{1,5});")
_VOID = ("<br>", "<br/>", "<br />")


def clean_html(html: str) -> str:
    """``html`` through the comment allow-list (unchanged when it has nothing to remove)."""
    html = html.strip()
    if _plain(html):
        return html
    return sanitize_html(html)


def _plain(html: str) -> bool:
    marks = _MARKUP.findall(html)
    # Every "<" and "&" must belong to an allowed tag or a well-formed reference.
    rest = _MARKUP.sub("", html) if marks else html
    if "<" in rest or "&" in rest:
        return False
    open_tags: list[str] = []
    for mark in marks:
        if mark[0] == "&":
            if not _ENTITY.fullmatch(mark):
                return False
        elif mark not in _PLAIN_TAGS:
            return False
        elif mark in _VOID:
            continue
        elif mark[1] != "/":
            open_tags.append(mark[1:])
        elif not open_tags or open_tags.pop() != mark[2:]:
            return False  # closed out of order: markup would spill out of the comment
    return not open_tags


def paragraphs(text: str) -> str:
    """WordPress's comment text (its own line breaks, some HTML) as paragraphs of HTML."""
    text = text.strip().replace("\r\n", "\n")
    if not text:
        return ""
    blocks = [block.strip().replace("\n", "<br>") for block in re.split(r"\n\s*\n", text)]
    return clean_html("".join(f"<p>{block}</p>" for block in blocks if block))


def markdown(text: str) -> str:
    return render_markdown(text)


def utc(moment: datetime) -> datetime:
    """A source's time as an aware UTC datetime (naive ones are UTC already)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)


_NANOSECONDS = re.compile(r"(\.\d{6})\d+")


def iso_time(value: str) -> datetime:
    """An ISO 8601 time (with Z or an offset, or naive meaning UTC); ValueError otherwise."""
    try:
        return utc(datetime.fromisoformat(value))
    except ValueError:  # nanoseconds (Remark42), spaces around: the slower way
        return utc(datetime.fromisoformat(_NANOSECONDS.sub(r"\1", value.strip().replace("Z", "+00:00"))))
