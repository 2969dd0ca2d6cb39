"""Mails in the reader's language: stored when they subscribe, used for every mail they get."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from drive import ARTICLE, deliver, post, reply

from engagement import links
from engagement.models import Subscriber
from engagement.services.audience.subscriptions import add_subscription, confirm_subscriber
from engagement.services.delivery.digests import send_digest
from engagement.services.delivery.sending import chunk_sender
from engagement.services.pages import ensure_page
from engagement.services.sites import SiteChanges, get_site, update_site

GERMAN = "hanna@example.org"


def _text(message) -> str:
    return message.get_body(("plain",)).get_content()


def _html(message) -> str:
    return message.get_body(("html",)).get_content()


def _confirm(core, email: str) -> None:
    with core.engine.connect() as conn:
        subscriber_id = conn.execute(sa.select(Subscriber.id).where(Subscriber.email == email)).scalar_one()
    confirm_subscriber(core.uow(), links.confirm_token(core.keys, subscriber_id))


def _subscribe(core, email: str, kind: str = "thread", *, locale: str | None, cadence: str | None = None):
    uow = core.uow()
    with uow:
        site = get_site(uow.session, "daily")
        page = ensure_page(uow, site, ARTICLE, "Der Artikel") if kind == "thread" else None
        add_subscription(uow, site, email, kind, page=page, cadence=cadence, locale=locale)
        uow.commit()
    _confirm(core, email)


def test_a_german_readers_confirmation_and_reply_mails_are_german(core, site, mailer, sink):
    mine = post(
        core, author_email=GERMAN, author_name="Hanna", notify="replies", locale="de-DE", body="Meine Sicht."
    )
    deliver(core, mailer)
    (confirmation,) = sink.to(GERMAN)
    assert confirmation["Subject"] == "Bestätigen Sie Ihr Abonnement bei The Daily Example"
    text = _text(confirmation)
    assert "Jemand, vermutlich Sie, hat The Daily Example gebeten" in text
    assert "Antworten auf Ihre Kommentare" in text
    assert "Abmelden: " in text
    assert '<html lang="de" dir="ltr">' in _html(confirmation)

    sink.handler.received.clear()
    _confirm(core, GERMAN)
    reply(core, mine, author_name="Jan", author_email="jan@example.org", body="Da stimme ich zu.")
    deliver(core, mailer)
    (notice,) = sink.to(GERMAN)
    assert notice["Subject"] == "Jan hat auf Ihren Kommentar zu „The article“ geantwortet"
    text = _text(notice)
    assert "Lesen und antworten:" in text
    assert "Helfen Sie uns zu wachsen. Unterstützen Sie The Daily Example auf Patreon!" in text
    assert "Sie erhalten diese E-Mail, weil Sie The Daily Example gebeten haben" in text


def test_a_german_followers_notification_speaks_german_and_an_english_one_english(core, site, mailer, sink):
    _subscribe(core, GERMAN, locale="de")
    _subscribe(core, "ann@example.org", locale="en-GB")
    sink.handler.received.clear()
    post(core, author_name="Jan", author_email="jan@example.org", body="Erster!")
    post(core, author_name="Eva", author_email="eva@example.org", body="Zweite!")
    deliver(core, mailer)
    (german,) = sink.to(GERMAN)
    (english,) = sink.to("ann@example.org")
    assert german["Subject"] == "2 neue Kommentare zu „The article“"
    assert english["Subject"] == "2 new comments on “The article”"
    assert "Sie erhalten diese E-Mail, weil Sie den Kommentaren zu „The article“" in _text(german)
    assert "Lesen:" in _text(german)


def test_a_site_in_german_writes_german_unless_the_reader_chose_otherwise(core, site, mailer, sink):
    update_site(core.uow(), "daily", SiteChanges(language="de"))
    _subscribe(core, GERMAN, locale=None)
    _subscribe(core, "ann@example.org", locale="en")
    _subscribe(core, "kim@example.org", locale="tlh")  # not shipped: the site's language
    sink.handler.received.clear()
    post(core, author_name="Jan", author_email="jan@example.org")
    deliver(core, mailer)
    subjects = {address: sink.to(address)[0]["Subject"] for address in sink.recipients()}
    assert subjects[GERMAN] == subjects["kim@example.org"] == "Jan hat „The article“ kommentiert"
    assert subjects["ann@example.org"] == "Jan commented on “The article”"


def test_the_moderators_mail_speaks_the_sites_language(core, site, mailer, sink):
    update_site(core.uow(), "daily", SiteChanges(language="fr", moderation="all"))
    post(core, author_name="Jan", author_email="jan@example.org", locale="de")
    deliver(core, mailer)
    (request,) = sink.to("mod@example.org")
    assert (
        request["Subject"]
        == "[The Daily Example] Un commentaire de Jan attend la modération sur « The article »"
    )
    assert "Chaque lien vous demande de confirmer et reste valable 7 jours." in _text(request)
    assert "Pourquoi il attend : tous les commentaires sont modérés sur ce site" in _text(request)


def test_an_arabic_mail_reads_right_to_left(core, site, mailer, sink):
    _subscribe(core, "layla@example.org", locale="ar")
    sink.handler.received.clear()
    post(core, author_name="Omar", author_email="omar@example.org")
    deliver(core, mailer)
    (mail,) = sink.to("layla@example.org")
    assert mail["Subject"] == "علّق Omar على «The article»"
    html = _html(mail)
    assert '<html lang="ar" dir="rtl">' in html
    assert "border-right: 3px solid" in html  # the quote bar moves to the right


def test_a_german_readers_digest_is_german(core, site, mailer, sink, clock):
    clock.now = datetime(2026, 11, 1, 6, tzinfo=UTC)
    _subscribe(core, GERMAN, "digest", locale="de", cadence="daily")
    _subscribe(core, "ann@example.org", "digest", locale="en", cadence="daily")
    clock.now = datetime(2026, 11, 1, 12, tzinfo=UTC)
    mine = post(core, author_email=GERMAN, author_name="Hanna", body="Meine Sicht.")
    reply(core, mine, author_email="jan@example.org", author_name="Jan", body="Jans Antwort.")
    post(core, body="Noch einer.", author_email="x@example.org")
    deliver(core, mailer)
    sink.handler.received.clear()
    clock.now = datetime(2026, 11, 2, 9, tzinfo=UTC)

    report = send_digest(core.uow(), "daily", "daily", chunk_sender(core.uow, mailer))

    assert report.sent == 2
    (german,) = sink.to(GERMAN)
    assert german["Subject"] == "Heute auf The Daily Example: 1 Antwort an Sie"
    text = _text(german)
    assert (
        "Ihre tägliche Zusammenfassung von The Daily Example (die 24 Stunden bis 02.11.2026, 08:00 UTC)"
        in text
    )
    assert "ANTWORTEN AN SIE" in text
    assert "MEISTDISKUTIERT" in text
    assert "(3 Kommentare)" in text
    assert "weil Sie die tägliche Zusammenfassung von The Daily Example abonniert haben." in text
    (english,) = sink.to("ann@example.org")
    assert english["Subject"] == "Today on The Daily Example: the most discussed"
    assert "(3 comments)" in _text(english)
