"""Languages over HTTP: the widget's strings, a reader's locale stored, pages in their language."""

from __future__ import annotations

import sqlalchemy as sa
from click.testing import CliRunner

from engagement import links
from engagement.cli import main
from engagement.models import Subscriber
from engagement.services.sites import SiteChanges, update_site
from engagement.web import create_app
from web.support import RecordingClient, body

ARTICLE = "https://news.example.org/2026/11/article"
ADDRESS = "reader@mail.example.net"


def _subscribe(client, **changes):
    payload = {"site": "daily", "email": ADDRESS, "kind": "thread", "page": ARTICLE} | changes
    return client.post("/api/v1/subscriptions", json=payload)


def _subscriber(core) -> tuple[int, str | None]:
    with core.engine.connect() as conn:
        row = conn.execute(
            sa.select(Subscriber.id, Subscriber.locale).where(Subscriber.email == ADDRESS)
        ).one()
        return row[0], row[1]


def test_the_widget_strings_come_in_the_language_asked_for_with_an_etag(client):
    answer = client.get("/api/v1/strings/de")
    assert answer.status_code == 200
    document = answer.json()
    assert (document["locale"], document["dir"]) == ("de", "ltr")
    assert document["strings"]["reactionsHeading"] == "Was meinen Sie?"
    assert document["strings"]["moreReplies"] == {
        "one": "{n} weitere Antwort anzeigen",
        "other": "{n} weitere Antworten anzeigen",
    }
    assert answer.headers["cache-control"] == "public, max-age=86400"
    again = client.get("/api/v1/strings/de", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert client.get("/api/v1/strings/pt-br").json()["locale"] == "pt-BR"
    assert client.get("/api/v1/strings/de-AT").headers["etag"] == answer.headers["etag"]
    arabic = client.get("/api/v1/strings/ar").json()
    assert arabic["dir"] == "rtl"
    assert set(arabic["strings"]["commentsHeading"]) == {"zero", "one", "two", "few", "many", "other"}


def test_a_language_we_do_not_ship_is_a_404_with_the_list(client):
    answer = client.get("/api/v1/strings/tlh")
    assert answer.status_code == 404
    assert "de, fr, es, it, pt_BR, nl, pl, ar" in body(answer)["reason"]


def test_the_site_tells_the_widget_its_language_and_the_shipped_ones(client, core):
    settings = client.get("/api/v1/sites/daily").json()
    assert settings["language"] == "en"
    assert settings["languages"] == ["en", "de", "fr", "es", "it", "pt_BR", "nl", "pl", "ar"]
    update_site(core.uow(), "daily", SiteChanges(language="pl"))
    assert client.get("/api/v1/sites/daily").json()["language"] == "pl"


def test_a_subscribers_locale_is_stored_normalised_and_the_latest_choice_wins(client, core):
    assert _subscribe(client, locale="de-CH").status_code == 202
    assert _subscriber(core)[1] == "de"
    assert _subscribe(client, kind="digest", page=None, locale="pt-BR").status_code == 202
    assert _subscriber(core)[1] == "pt_BR"
    assert _subscribe(client, locale="tlh").status_code == 202  # not shipped: nothing changes
    assert _subscriber(core)[1] == "pt_BR"


def test_a_locale_that_is_no_tag_is_refused_and_changes_nothing(client, core):
    answer = _subscribe(client, locale="x" * 36)
    assert answer.status_code == 422
    assert _subscribe(client, locale=42).status_code == 422
    with core.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Subscriber)).scalar_one() == 0


def test_a_commenter_asking_for_notifications_keeps_the_widgets_language(client, core):
    payload = {
        "site": "daily",
        "page": ARTICLE,
        "author": {"name": "Hanna", "email": ADDRESS},
        "body": "Hallo",
        "notify": "replies",
        "locale": "ar",
    }
    assert client.post("/api/v1/comments", json=payload).status_code == 201
    assert _subscriber(core)[1] == "ar"


def test_subscriber_pages_speak_the_subscribers_language(client, core):
    _subscribe(client, locale="de")
    subscriber_id, _ = _subscriber(core)
    confirm = client.get(f"/s/confirm/{links.confirm_token(core.keys, subscriber_id)}")
    assert '<html lang="de" dir="ltr">' in confirm.text
    assert "Mein Abonnement bestätigen" in confirm.text
    done = client.post(f"/s/confirm/{links.confirm_token(core.keys, subscriber_id)}")
    assert "Abonnement bestätigt" in done.text
    preferences = client.get(f"/s/preferences/{links.preferences_token(core.keys, subscriber_id)}")
    assert "Ihre E-Mails von The Daily Example" in preferences.text
    assert "Neue Kommentare zu" in preferences.text
    token = links.unsubscribe_token(core.keys, subscriber_id)
    assert "Sie sind abgemeldet" in client.post(f"/s/unsubscribe/{token}").text


def test_an_arabic_subscribers_page_reads_right_to_left(client, core):
    _subscribe(client, locale="ar")
    subscriber_id, _ = _subscriber(core)
    page = client.get(f"/s/preferences/{links.preferences_token(core.keys, subscriber_id)}")
    assert '<html lang="ar" dir="rtl">' in page.text
    assert "اشتراكاتك" in page.text


def test_a_page_without_a_reader_follows_the_browser_and_falls_back_to_english(client):
    french = client.get("/s/confirm/not-a-token", headers={"Accept-Language": "fr-CH, de;q=0.5"})
    assert french.status_code in (403, 404)
    assert "Ce lien ne peut pas être utilisé" in french.text
    assert (
        "This link cannot be used"
        in client.get("/s/confirm/not-a-token", headers={"Accept-Language": "ja"}).text
    )


def test_the_sites_language_is_set_from_the_command_line(tmp_path):
    runner = CliRunner()
    env = {"ENGAGEMENT_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    added = runner.invoke(
        main, ["sites", "add", "zeit", "--name", "Die Zeit", "--language", "de-DE"], env=env
    )
    assert added.exit_code == 0, added.output
    bad = runner.invoke(main, ["sites", "update", "zeit", "--language", "tlh"], env=env)
    assert bad.exit_code == 2
    assert "use one of the shipped languages: en, de, fr" in bad.output
    assert runner.invoke(main, ["sites", "update", "zeit", "--language", "ar"], env=env).exit_code == 0
    listed = runner.invoke(main, ["sites", "list"], env=env)
    assert "language ar" in listed.output


def test_the_catalog_check_command_passes_on_this_checkout():
    result = CliRunner().invoke(main, ["i18n", "check"])
    assert result.exit_code == 0, result.output
    assert result.output == "every catalog is complete and up to date\n"


def test_a_mail_template_is_previewed_in_a_language(tmp_path):
    runner = CliRunner()
    env = {"ENGAGEMENT_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    out = tmp_path / "out"
    result = runner.invoke(
        main, ["templates", "preview", "reply_notification", "--locale", "pt-BR", "-o", str(out)], env=env
    )
    assert result.exit_code == 0, result.output
    assert "Subject: Ana respondeu ao seu comentário em “How the river was saved”" in result.output
    assert 'lang="pt-BR"' in (out / "reply_notification.html").read_text()
    refused = runner.invoke(
        main, ["templates", "preview", "digest", "--locale", "tlh", "-o", str(out)], env=env
    )
    assert refused.exit_code == 2
    assert "not a shipped language" in refused.output


def test_the_demo_speaks_the_browsers_language(core):
    with RecordingClient(create_app(core.settings, core, demo=True), base_url=core.settings.base_url) as demo:
        index = demo.get("/", headers={"Accept-Language": "nl-BE,nl;q=0.9"})
        assert '<html lang="nl" dir="ltr">' in index.text
        assert "Alles draait in dit ene proces" in index.text
        mailbox = demo.get("/demo/mail", headers={"Accept-Language": "ar"})
        assert '<html lang="ar" dir="rtl">' in mailbox.text
        assert "صندوق بريد العرض التجريبي" in mailbox.text
