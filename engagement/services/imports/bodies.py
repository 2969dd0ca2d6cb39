"""Comment bodies and times as sources give them, made into what our comments store.

HTML passes the allow-list posted comments pass. Most imported bodies are already plain
paragraphs of text: those are recognised by one regular expression and a tag stack, and
only the others pay for the sanitiser.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from engagement.rendering import ALLOWED_TAGS, render_markdown, sanitize_html

# Text, character references, and bare allowed tags without attributes: nothing to remove.
_PLAIN_TAGS = "|".join(sorted(ALLOWED_TAGS - {"a"}))
_SIMPLE = re.compile(rf"(?:[^<&]|&(?:amp|lt|gt|quot|#39|#x27|#\d{{1,5}});|</?(?:{_PLAIN_TAGS})>|<br\s?/?>)*")
_TAG = re.compile(r"<(/?)([a-z]+)")
_VOID = "br"


def clean_html(html: str) -> str:
    """``html`` through the comment allow-list (unchanged when it has nothing to remove)."""
    html = html.strip()
    if _SIMPLE.fullmatch(html) and _balanced(html):
        return html
    return sanitize_html(html)


def _balanced(html: str) -> bool:
    # Every tag closed in order, so no markup spills out of the comment on the page.
    open_tags: list[str] = []
    for closing, name in _TAG.findall(html):
        if name == _VOID:
            continue
        if not closing:
            open_tags.append(name)
        elif not open_tags or open_tags.pop() != name:
            return False
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
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_NANOSECONDS = re.compile(r"(\.\d{6})\d+")


def iso_time(value: str) -> datetime:
    """An ISO 8601 time (with Z or an offset, or naive meaning UTC); ValueError otherwise."""
    value = _NANOSECONDS.sub(r"\1", value.strip().replace("Z", "+00:00"))
    return utc(datetime.fromisoformat(value))
