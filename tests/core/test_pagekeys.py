"""Normalised page keys: stable, and blind to fragments, tracking tags and query order (hypothesis)."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engagement.pagekeys import clean_url, normalise_page_key

segment = st.text(alphabet="abcXYZ019-._~%/:@!$&'()*+,;=éü", max_size=12)
query_value = st.text(alphabet="abc019-_ .%+&=/é", max_size=8)
params = st.lists(st.tuples(st.sampled_from(["id", "page", "lang", "q", "a"]), query_value), max_size=4)
tracking = st.lists(
    st.tuples(
        st.sampled_from(
            ["utm_source", "UTM_Medium", "utm_campaign", "fbclid", "gclid", "mc_cid", "_ga", "pk_kwd"]
        ),
        query_value,
    ),
    min_size=1,
    max_size=4,
)
fragment = st.text(alphabet="abc019-_ #?/=&", max_size=10)


def url(path: str, pairs: list[tuple[str, str]]) -> str:
    from urllib.parse import urlencode

    query = urlencode(pairs)
    return f"https://news.example.org/{path}" + (f"?{query}" if query else "")


@settings(max_examples=300)
@given(st.text(max_size=60))
def test_normalising_twice_is_normalising_once(ref):
    once = normalise_page_key(ref)
    assert normalise_page_key(once) == once


@settings(max_examples=300)
@given(segment, params)
def test_normalising_a_url_twice_is_normalising_once(path, pairs):
    once = normalise_page_key(url(path, pairs))
    assert normalise_page_key(once) == once


@settings(max_examples=300)
@given(segment, params, fragment)
def test_fragments_do_not_change_the_key(path, pairs, frag):
    assume("#" not in path)
    base = url(path, pairs)
    assert normalise_page_key(f"{base}#{frag}") == normalise_page_key(base)


@settings(max_examples=300)
@given(segment, params, tracking, st.randoms())
def test_tracking_parameters_and_order_do_not_change_the_key(path, pairs, tags, rnd):
    assume("#" not in path and "?" not in path)
    mixed = pairs + tags
    rnd.shuffle(mixed)
    assert normalise_page_key(url(path, mixed)) == normalise_page_key(url(path, pairs))


def test_host_scheme_and_path_spelling_do_not_matter():
    keys = {
        normalise_page_key(ref)
        for ref in [
            "https://news.example.org/2026/story",
            "http://www.news.example.org/2026/story",
            "https://news.example.org//2026/./story",
            "/2026/story",
            "https://news.example.org/2026/%73tory#comments",
            "  https://news.example.org/2026/story?utm_source=mail  ",
        ]
    }
    assert keys == {"/2026/story"}


def test_meaningful_query_is_kept_and_ids_stay_as_given():
    assert normalise_page_key("https://x.org/view?id=7&utm_source=a") == "/view?id=7"
    assert normalise_page_key("https://x.org/view?id=7") != normalise_page_key("https://x.org/view?id=8")
    assert normalise_page_key("article-1234") == "article-1234"


def test_clean_url_drops_only_the_fragment():
    assert clean_url("https://x.org/a?b=1#c") == "https://x.org/a?b=1"
    assert clean_url("article-1234") is None
