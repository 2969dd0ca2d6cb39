"""The MIME writer: every mail parses back with the strict policy; reader text injects no header."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engagement.mail.addresses import wire_address
from engagement.mail.message import MailHeaders, build_message, one_line
from engagement.mail.render import TEMPLATES, MailRenderer, RenderedMail

HEADERS = MailHeaders(
    from_name="The Daily Example",
    from_address="news@example.org",
    to="alice@example.org",
    message_id="<d1.abc@example.org>",
    date=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
    list_id="<daily.example.org>",
    list_name="The Daily Example",
    unsubscribe_url="https://comments.example.org/s/unsubscribe/tok",
)
EXPECTED = {
    "Subject", "From", "To", "Date", "Message-ID", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post",
    "Auto-Submitted", "X-Auto-Response-Suppress", "MIME-Version", "Content-Type",
}  # fmt: skip


def parse(data: bytes) -> email.message.EmailMessage:
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    assert b"\n" not in data.replace(b"\r\n", b"")
    return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]


reader_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300).filter(
    lambda s: one_line(s) != ""
)


@settings(max_examples=300, deadline=None)
@given(subject=reader_text, name=reader_text, body=st.text(max_size=2000))
def test_no_reader_text_adds_or_breaks_a_header(subject, name, body):
    mail = RenderedMail(subject=subject, text=body or "-", html=f"<p>{body}</p>")
    headers = HEADERS.__class__(**{**HEADERS.__dict__, "from_name": name, "list_name": name})

    msg = parse(build_message(mail, headers))

    assert set(msg.keys()) == EXPECTED
    assert msg["Subject"] == one_line(subject)
    assert msg["From"].addresses[0].addr_spec == "news@example.org"
    assert msg["From"].addresses[0].display_name == one_line(name, 100)
    assert msg["To"] == "alice@example.org"
    sent = (body or "-").replace("\r\n", "\n").replace("\r", "\n")
    received = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert received.rstrip("\r\n") == sent.rstrip("\n")


def test_crlf_in_a_subject_becomes_a_space_and_never_a_header():
    mail = RenderedMail(subject="Hello\r\nBcc: victim@example.org\nX-Evil: 1", text="t", html="<p>t</p>")

    data = build_message(mail, HEADERS)
    msg = parse(data)

    assert msg["Subject"] == "Hello Bcc: victim@example.org X-Evil: 1"
    assert msg["Bcc"] is None
    assert msg["X-Evil"] is None
    assert b"\r\nBcc:" not in data


def test_non_ascii_names_and_long_subjects_are_encoded_and_folded():
    name = "Zoë Ærøskøbing — «Le Café»"
    subject = "Réponse: " + "très long sujet " * 30
    msg = parse(
        build_message(
            RenderedMail(subject, "é", "<p>é</p>"),
            HEADERS.__class__(**{**HEADERS.__dict__, "from_name": name}),
        )
    )

    assert msg["From"].addresses[0].display_name == name
    assert msg["Subject"] == one_line(subject)
    assert msg.get_body(("plain",)).get_content() == "é"


def test_threading_and_bulk_headers():
    headers = HEADERS.__class__(
        **{
            **HEADERS.__dict__,
            "in_reply_to": "<comment-2@example.org>",
            "references": ("<page-1@example.org>", "<comment-1@example.org>", "<comment-2@example.org>"),
            "bulk": True,
            "return_path": "bounces+7-abc@bounce.example.org",
        }
    )
    msg = parse(build_message(RenderedMail("s", "t", "<p>t</p>"), headers))

    assert msg["In-Reply-To"] == "<comment-2@example.org>"
    assert msg["References"].split() == [
        "<page-1@example.org>",
        "<comment-1@example.org>",
        "<comment-2@example.org>",
    ]
    assert msg["Precedence"] == "bulk"
    assert msg["Return-Path"] == "<bounces+7-abc@bounce.example.org>"


def test_a_utf8_recipient_is_the_one_raw_utf8_line_of_its_mail():
    headers = HEADERS.__class__(**{**HEADERS.__dict__, "to": "jörg@xn--bcher-kva.example"})

    data = build_message(RenderedMail("Réponse", "é", "<p>é</p>"), headers)

    assert [line for line in data.split(b"\r\n") if not line.isascii()] == [
        "To: jörg@xn--bcher-kva.example".encode()
    ]
    msg = email.message_from_bytes(data, policy=email.policy.SMTPUTF8)
    assert set(msg.keys()) == EXPECTED
    assert msg["To"] == "jörg@xn--bcher-kva.example"
    assert msg["Subject"] == "Réponse"
    assert build_message(RenderedMail("Réponse", "é", "<p>é</p>"), HEADERS).isascii()


@pytest.mark.parametrize(
    "to",
    [
        "jörg@example.de\r\nBcc: victim@example.org",
        "jörg\n@example.de",
        "jörg müller@example.de",
        "jörg\u00a0x@example.de",  # no-break space
        "jörg\u2028@example.de",  # line separator
        "jörg\x85@example.de",  # next line
        "jörg\u200b@example.de",  # zero-width space (a format character)
        "jörg\x00@example.de",
        "<jörg@example.de>",
        "jörg@example.de>, x@y",
        "bob smith@example.org",
        "bob@example.org\r\nBcc: x@y",
    ],
)
def test_a_recipient_that_could_end_the_line_or_the_address_is_refused(to):
    headers = HEADERS.__class__(**{**HEADERS.__dict__, "to": to})
    with pytest.raises(ValueError, match="cannot put"):
        build_message(RenderedMail("s", "t", "<p>t</p>"), headers)


@settings(max_examples=300, deadline=None)
@given(to=st.text(min_size=1, max_size=60))
def test_no_recipient_address_adds_or_breaks_a_header(to):
    headers = HEADERS.__class__(**{**HEADERS.__dict__, "to": to})
    try:
        data = build_message(RenderedMail("s", "t", "<p>t</p>"), headers)
    except ValueError:
        return

    assert b"To: " + to.encode() in data.split(b"\r\n")
    assert set(parse(data).keys()) == EXPECTED


def test_wire_addresses_carry_the_domain_in_idna_form_and_ascii_ones_as_they_are():
    assert wire_address("alice@example.org") == "alice@example.org"
    assert wire_address("user@bücher.example") == "user@xn--bcher-kva.example"
    assert wire_address("δοκιμή@παράδειγμα.δοκιμή") == "δοκιμή@xn--hxajbheg2az3al.xn--jxalpdlp"
    with pytest.raises(ValueError, match="cannot send to"):
        wire_address("jörg müller@example.de")


@pytest.mark.parametrize("value", ["<a@b>\r\nBcc: x@y", "https://x/ y", "<a@b>\n"])
def test_generated_values_that_could_end_a_line_are_refused(value):
    headers = HEADERS.__class__(**{**HEADERS.__dict__, "message_id": value})
    with pytest.raises(ValueError, match="unsafe header value"):
        build_message(RenderedMail("s", "t", "<p>t</p>"), headers)


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_template_escapes_reader_html_in_its_html_part(name):
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
    site = {"key": "daily", "name": evil, "support_call": evil, "support_url": "https://example.org/support"}
    comment = {
        "id": 1, "author": evil, "html": "<p>sanitised already</p>", "text": evil, "url": "https://e.org/a#comment-1",
        "created": "2 Nov", "reply_to_you": False, "reason": evil, "page_title": evil, "yours": True,
    }  # fmt: skip
    page = {"title": evil, "url": "https://e.org/a"}
    context = {
        "site": site, "recipient": "a@example.org", "supporter": False, "unsubscribe_url": "https://u",
        "preferences_url": "https://p", "page": page, "comment": comment, "parent": comment,
        "comments": [comment], "wish": evil, "confirm_url": "https://c", "approve_url": "https://a",
        "reject_url": "https://r", "spam_url": "https://s", "link_days": 7, "period": "daily",
        "period_label": evil, "replies": [comment], "top_pages": [{**page, "count": 3}],
        "followed": [{**page, "count": 2, "comments": [comment]}],
        "webhook": {"id": 1, "url": evil, "reason": evil, "last_error": evil, "admin_url": "https://e.org/admin"},
    }  # fmt: skip

    rendered = MailRenderer().render(name, context)

    assert "<script>" not in rendered.html
    assert "<img" not in rendered.html
    assert "onerror=alert(1)>" not in rendered.html
    assert "\n" not in rendered.subject
    assert "Unsubscribe: https://u" in rendered.text
