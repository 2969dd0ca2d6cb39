"""Languages: negotiation, plural forms by each language's rules, catalogs complete and up to date."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from engagement.i18n import extraction, formatting, locales
from engagement.i18n.catalogs import po_path, translate, translate_plural
from engagement.i18n.extraction import problems, widget_strings
from engagement.i18n.reasons import moderation_reason
from engagement.i18n.widget_strings import plural_index, plural_samples, strings_document
from engagement.services.discussion.moderation import content_reason

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("tag", "locale"),
    [
        ("de", "de"),
        ("de-AT", "de"),
        ("DE_ch", "de"),
        ("pt-BR", "pt_BR"),
        ("pt_br", "pt_BR"),
        ("pt-PT", "pt_BR"),
        ("pt", "pt_BR"),
        ("ar-EG", "ar"),
        ("en-GB", "en"),
        ("zh-Hans-CN", None),
        ("xx", None),
        ("", None),
        ("de;q=1", None),
        ("a" * 40, None),
        (None, None),
        (42, None),
    ],
)
def test_a_bcp47_tag_finds_the_shipped_locale_it_stands_for(tag, locale):
    assert locales.normalise(tag) == locale


def test_the_first_shipped_choice_wins_and_an_unknown_one_falls_back_to_the_default():
    assert locales.choose("xx", "nl", "de") == "nl"
    assert locales.choose(None, "klingon", default="pl") == "pl"
    assert locales.choose(default="not-a-language") == "en"


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("ja,fr;q=0.5,en;q=0.7", "en"),
        ("ja, zh;q=0.9", None),
        ("fr;q=0, it", "it"),
        ("es;q=bad, nl;q=0.2", "nl"),
        ("pt-BR;q=0.8, ar;q=0.9", "ar"),
        ("", None),
        (None, None),
    ],
)
def test_the_browser_language_is_the_most_preferred_shipped_one(header, locale):
    assert locales.from_accept_language(header) == locale


def test_arabic_reads_right_to_left_and_the_others_left_to_right():
    assert [locales.direction(loc) for loc in ("ar", "de", "pt_BR")] == ["rtl", "ltr", "ltr"]
    assert locales.html_lang("pt_BR") == "pt-BR"


def test_every_catalog_is_complete_not_fuzzy_and_extraction_is_up_to_date():
    found = list(problems(ROOT))
    assert found == [], "\n".join(found[:20])


def test_every_catalog_has_its_languages_number_of_plural_forms():
    expected = {"de": 2, "nl": 2, "fr": 3, "es": 3, "it": 3, "pt_BR": 3, "pl": 3, "ar": 6}
    assert {locale: _catalog(locale).num_plurals for locale in expected} == expected


def _catalog(locale: str):
    with po_path(locale).open("rb") as fp:
        return read_po(fp, locale=locale)


@pytest.mark.parametrize(
    ("n", "text"), [(1, "1 comment"), (0, "0 comments"), (5, "5 comments"), (21, "21 comments")]
)
def test_english_plurals(n, text):
    assert translate_plural("en", "%(count)s comment", "%(count)s comments", n, count=n) == text


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (1, "1 komentarz"),
        (2, "2 komentarze"),
        (4, "4 komentarze"),
        (5, "5 komentarzy"),
        (12, "12 komentarzy"),
        (14, "14 komentarzy"),
        (22, "22 komentarze"),
        (25, "25 komentarzy"),
        (0, "0 komentarzy"),
        (112, "112 komentarzy"),
        (1_000_001, "1000001 komentarzy"),
    ],
)
def test_polish_has_three_forms(n, text):
    assert translate_plural("pl", "%(count)s comment", "%(count)s comments", n, count=n) == text


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "لا تعليقات"),
        (1, "تعليق واحد"),
        (2, "تعليقان"),
        (3, "3 تعليقات"),
        (10, "10 تعليقات"),
        (11, "11 تعليقًا"),
        (99, "99 تعليقًا"),
        (100, "100 تعليق"),
        (102, "102 تعليق"),
        (103, "103 تعليقات"),
    ],
)
def test_arabic_has_six_forms(n, text):
    assert translate_plural("ar", "%(count)s comment", "%(count)s comments", n, count=n) == text


@pytest.mark.parametrize("locale", locales.SHIPPED)
def test_gettext_and_cldr_agree_on_which_numbers_share_a_form(locale):
    """The widget picks forms by CLDR category (Intl.PluralRules): each category must map to
    one gettext form, or two numbers of one category would read differently in mails and widget."""
    expression = "(n != 1)" if locale == "en" else _catalog(locale).plural_expr
    rule = Locale.parse(locale).plural_form
    forms: dict[str, set[int]] = {}
    for n in range(0, 2000):
        forms.setdefault(rule(n), set()).add(plural_index(expression, n))
    assert all(len(indices) == 1 for indices in forms.values()), forms
    assert set(plural_samples(locale)) >= set(forms)


def test_the_widgets_plural_strings_carry_every_category_of_the_language():
    arabic = {"zero", "one", "two", "few", "many", "other"}
    for locale, categories in (("pl", {"one", "few", "many", "other"}), ("ar", arabic)):
        strings = json.loads(strings_document(locale).body)["strings"]
        assert set(strings["commentsHeading"]) == categories
    german = json.loads(strings_document("de").body)
    assert german["strings"]["commentsHeading"] == {"one": "{n} Kommentar", "other": "{n} Kommentare"}
    assert german["strings"]["formHeading"] == "Kommentar schreiben"
    assert (german["locale"], german["dir"]) == ("de", "ltr")
    assert json.loads(strings_document("ar").body)["dir"] == "rtl"


def test_the_widget_strings_come_from_the_widget_source():
    found = {s.key: s for s in widget_strings(ROOT)}
    assert found["commentsHeading"].plural == "{n} Comments"
    assert found["reasons"].plural is None  # a list of choices, not a plural
    assert "locale" not in found


def test_translations_fill_their_placeholders():
    assert translate("de", "Confirm your subscription to %(site)s", site="Die Zeitung") == (
        "Bestätigen Sie Ihr Abonnement bei Die Zeitung"
    )
    assert translate("xx", "Confirm with this link:") == "Confirm with this link:"


def test_dates_and_numbers_are_written_as_each_locale_writes_them():
    moment = datetime(2026, 12, 6, 13, 5, tzinfo=UTC)
    assert formatting.when(moment, "Europe/Berlin", "en") == "6 Dec 2026, 14:05 CET"
    assert formatting.when(moment, "Europe/Berlin", "de") == "06.12.2026, 14:05 CET"
    assert formatting.number(12345, "de") == "12.345"
    assert formatting.number(12345, "en") == "12,345"
    start = datetime(2026, 11, 30, tzinfo=UTC)
    # CLDR puts thin spaces around the dash: compared with plain ones here.
    assert formatting.days(start, moment, "UTC", "fr").replace("\u2009", " ") == "30 nov. – 6 déc. 2026"


def test_a_missing_fuzzy_or_broken_translation_is_reported(tmp_path, monkeypatch):
    catalog = _catalog("de")
    catalog["Reject"].string = ""
    catalog["Approve"].flags.add("fuzzy")
    catalog["Confirm your subscription to %(site)s"].string = "Abonnement bei %(website)s bestätigen"
    catalog["Reply to {name}"].string = "Antworten"
    broken = tmp_path / "messages.po"
    with broken.open("wb") as fp:
        write_po(fp, catalog)
    monkeypatch.setattr(extraction, "po_path", lambda locale: broken if locale == "de" else po_path(locale))
    found = "\n".join(extraction.problems(None))
    assert "de: 'Reject' is not translated" in found
    assert "de: 'Approve' is fuzzy" in found
    assert "de: 'Confirm your subscription to %(site)s': unknown named placeholder 'website'" in found
    assert "de: 'Reply to {name}': placeholders" in found


def test_a_string_added_to_the_code_but_not_extracted_is_reported(tmp_path):
    for folder in ("engagement", "workers", "templates", "widget/src"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    source = tmp_path / "widget/src/strings.js"
    text = source.read_text("utf-8").replace(
        'support: "Support us",', 'support: "Support us",\n    brandNew: "A string nobody translated",', 1
    )
    source.write_text(text, "utf-8")
    template = tmp_path / "templates/emails/digest/body.txt"
    template.write_text(template.read_text("utf-8") + '{{ _("Another new string") }}\n', "utf-8")
    found = "\n".join(extraction.problems(tmp_path))
    assert "messages.pot is out of date" in found
    assert "A string nobody translated" in found or "Another new string" in found
    assert "widget.json is out of date" in found


def test_the_widget_ships_the_same_languages_as_the_server():
    source = (ROOT / "widget/src/features/i18n.js").read_text("utf-8")
    listed = re.search(r"const SHIPPED = \[([^\]]*)\]", source)
    assert listed is not None
    tags = [tag.strip().strip('"') for tag in listed.group(1).split(",")]
    assert tags == [locales.html_lang(locale) for locale in locales.SHIPPED]


def test_the_stored_moderation_reasons_are_said_in_the_mails_language():
    rules = SimpleNamespace(banned_words=["cheap pills"], link_limit=1)
    stored = [
        content_reason(rules, "Buy CHEAP pills now"),
        content_reason(rules, "https://a.example https://b.example"),
        "every comment is moderated on this site",
        "first comment by this author",
        "reported by 1 reader",
        "reported by 3 readers",
    ]
    assert [moderation_reason(reason, "de") for reason in stored] == [
        "enthält das gesperrte Wort „cheap pills“",
        "2 Links (erlaubt sind 1)",
        "auf dieser Website wird jeder Kommentar moderiert",
        "erster Kommentar dieser Person",
        "von 1 Person gemeldet",
        "von 3 Personen gemeldet",
    ]
    assert moderation_reason("reported by 5 readers", "pl") == "zgłoszony przez 5 osób"
    assert moderation_reason("a reason typed by hand", "de") == "a reason typed by hand"
    assert moderation_reason(None, "de") is None


def test_a_features_own_strings_are_extracted_one_line_or_many(tmp_path):
    features = tmp_path / "widget/src/features"
    features.mkdir(parents=True)
    (features / "feed.js").write_text(
        'defineStrings({ followFeed: "Follow in a feed reader" });\n'
        "defineStrings({\n"
        '  liveNew: "Show {n} new comment|Show {n} new comments",\n'
        '  braces: "Keep {name} and } in a string",\n'
        "});\n"
        "defineStrings(translated); // a variable: nothing to extract\n"
    )
    found = [(s.key, s.singular, s.plural, s.line) for s in widget_strings(tmp_path)]
    assert found == [
        ("followFeed", "Follow in a feed reader", None, 1),
        ("liveNew", "Show {n} new comment", "Show {n} new comments", 3),
        ("braces", "Keep {name} and } in a string", None, 4),
    ]


def test_a_new_message_is_filled_from_the_languages_compendium():
    template = Catalog()
    template.add("Follow in a feed reader")
    template.add(("Show {n} new comment", "Show {n} new comments"))
    template.add("Nobody translated this yet")
    polish = Catalog(locale="pl")
    polish.update(template)
    extraction._fill_from(polish, _read_po(extraction.compendium_path("pl"), "pl"))
    assert polish["Follow in a feed reader"].string == "Obserwuj w czytniku kanałów"
    assert polish["Show {n} new comment"].string == (
        "Pokaż {n} nowy komentarz",
        "Pokaż {n} nowe komentarze",
        "Pokaż {n} nowych komentarzy",
    )
    assert not polish["Nobody translated this yet"].string


def _read_po(path: Path, locale: str):
    with path.open("rb") as fp:
        return read_po(fp, locale=locale)
