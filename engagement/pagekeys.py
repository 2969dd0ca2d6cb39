"""Normalised page keys: one key per article, whatever fragment or tracking tag a link carries."""

from __future__ import annotations

import posixpath
from functools import lru_cache
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

# Query parameters that mark where a reader came from, never which article they read.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "ref_src",
        "ref_url",
        "spm",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "mkt_tok",
        "_hsenc",
        "_hsmi",
        "hsctatracking",
        "s_cid",
        "cmpid",
        "ncid",
        "sr_share",
        "at_medium",
        "at_campaign",
        "guccounter",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hmb_", "at_", "ga_")


def is_url(ref: str) -> bool:
    """True when ``ref`` names a page by its absolute URL or its path, not an explicit id."""
    return ref.startswith(("http://", "https://", "/"))


# Every read and write names its page: the same few thousand references come back again and
# again, and normalising one (split, unquote, normpath, quote, query filter) costs microseconds.
@lru_cache(maxsize=2048)
def normalise_page_key(ref: str) -> str:
    """The key a page is stored under: the URL's path and its meaningful query, or the id as given.

    The host is left out: a site is already the namespace, and articles are reached over
    http and https, with and without ``www.``. Normalising a key again gives the same key.
    """
    ref = ref.strip()
    if not is_url(ref):
        return ref
    parts = urlsplit(ref)
    path = _normalise_path(parts.path)
    query = _normalise_query(parts.query)
    return f"{path}?{query}" if query else path


def _normalise_path(path: str) -> str:
    # Decode and re-encode so "%7E" and "~" give one key; collapse "//", "." and "..".
    decoded = unquote(path or "/")
    collapsed = posixpath.normpath("/" + decoded.lstrip("/"))
    if collapsed.startswith("//"):
        collapsed = "/" + collapsed.lstrip("/")
    return quote(collapsed, safe="/:@!$&'()*+,;=-._~")


def _meaningful_pairs(query: str) -> list[tuple[str, str]]:
    return [
        (key, value)
        for key, value in parse_qsl(query, keep_blank_values=True)
        if key.lower() not in TRACKING_PARAMS and not key.lower().startswith(TRACKING_PREFIXES)
    ]


def _normalise_query(query: str) -> str:
    return urlencode(sorted(_meaningful_pairs(query)))


def _strip_tracking(query: str) -> str:
    """The query as the publisher wrote it, in its order, less the tracking tags."""
    return urlencode(_meaningful_pairs(query))


def clean_url(ref: str) -> str | None:
    """The URL to show and link to: the one given, without fragment or tracking tags (None for an id)."""
    ref = ref.strip()
    if not ref.startswith(("http://", "https://")):
        return None
    parts = urlsplit(ref)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", _strip_tracking(parts.query), ""))
