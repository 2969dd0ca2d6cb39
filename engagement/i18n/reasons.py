"""Why a comment waits, in a mail's or page's language.

The moderation services store the reason in English (the admin, the CLI and the logs show it
so); the mails to moderators and the moderation page say it in their language. Each stored
form is recognised here; one that is not (an older wording, a reason typed by hand) is shown
as stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from engagement.i18n.catalogs import translate, translate_plural

_Translate = Callable[[re.Match[str], str], str]

_REASONS: tuple[tuple[re.Pattern[str], _Translate], ...] = (
    (
        re.compile(r"every comment is moderated on this site"),
        lambda m, loc: translate(loc, "every comment is moderated on this site"),
    ),
    (
        re.compile(r"first comment by this author"),
        lambda m, loc: translate(loc, "first comment by this author"),
    ),
    (
        re.compile(r"contains the banned word (?P<q>['\"])(?P<word>.*)(?P=q)"),
        lambda m, loc: translate(loc, "contains the banned word “%(word)s”", word=m["word"]),
    ),
    (
        re.compile(r"(?P<n>\d+) links \(the limit is (?P<limit>\d+)\)"),
        lambda m, loc: translate_plural(
            loc,
            "%(num)s link (the limit is %(limit)s)",
            "%(num)s links (the limit is %(limit)s)",
            int(m["n"]),
            limit=m["limit"],
        ),
    ),
    (
        re.compile(r"reported by (?P<n>\d+) readers?"),
        lambda m, loc: translate_plural(
            loc, "reported by %(num)s reader", "reported by %(num)s readers", int(m["n"])
        ),
    ),
)


def moderation_reason(reason: str | None, locale: str) -> str | None:
    """``reason`` as stored, said in ``locale`` when it is one of the reasons we write."""
    if not reason:
        return reason
    for pattern, say in _REASONS:
        match = pattern.fullmatch(reason)
        if match is not None:
            return say(match, locale)
    return reason
