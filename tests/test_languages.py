"""Six languages, two right to left: complete catalogues, staff pages in English, odd codes, translated pages."""

from __future__ import annotations

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from flask_babel import get_translations

from local_offer import i18n
from local_offer.config import PROJECT_ROOT
from local_offer.models import Role
from local_offer.translation_scope import completeness

from support import SWIM, make_user, sign_in, text_of

LANGUAGES = ("pl", "ro", "ar", "ur", "bn")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalogue_has_every_string_families_and_providers_see(language):
    """No string of the public pages, portal or emails is missing, fuzzy, identical unmarked or broken."""
    po = PROJECT_ROOT / "translations" / language / "LC_MESSAGES" / "messages.po"
    found = completeness(po, language)
    assert found.needed > 1000
    assert (found.missing, found.same, found.fuzzy, found.broken) == ([], [], [], [])
    assert "NEEDS REVIEW BY A NATIVE SPEAKER" in po.read_text(encoding="utf-8")[:400]


def _catalogue(tmp_path, entries: list[tuple[str, str, set]]):
    catalogue = Catalog(locale="pl")
    for msgid, msgstr, flags in entries:
        catalogue.add(msgid, msgstr, locations=[("local_offer/templates/directory/home.html", 1)], flags=flags)
    catalogue.add("Approve", "", locations=[("local_offer/templates/moderation/queue.html", 1)])
    path = tmp_path / "messages.po"
    with open(path, "wb") as handle:
        write_po(handle, catalogue)
    return path


def test_a_translation_identical_to_the_english_counts_as_missing_unless_marked(tmp_path):
    """"Online" = "Online" is missing; flagged same-as-english it is fine; staff-only strings are not needed."""
    unmarked = completeness(_catalogue(tmp_path, [("Online", "Online", set())]), "pl")
    assert unmarked.same == ["Online"] and unmarked.translated == 0 and unmarked.needed == 1
    marked = completeness(_catalogue(tmp_path, [("Online", "Online", {"same-as-english"})]), "pl")
    assert marked.problems == [] and marked.translated == 1


def test_a_broken_placeholder_in_a_catalogue_is_caught(tmp_path):
    """A translation naming a placeholder the English lacks fails the catalogue test."""
    found = completeness(_catalogue(tmp_path, [("%(count)s listings", "%(cuont)s ofert", set())]), "pl")
    assert found.broken and found.broken[0][0] == "%(count)s listings"


def test_a_broken_placeholder_shows_the_english_instead_of_failing_the_page(demo, client):
    """A hand-edited catalogue with "%(rok)s" for "%(year)s" costs one English sentence, not every page."""
    english = ("Contains OS data © Crown copyright and database right %(year)s. "
               "Place names from GeoNames (CC BY 4.0).")
    client.set_cookie("lo_lang", "pl")
    assert client.get("/").status_code == 200
    with client.application.test_request_context("/", headers={"Cookie": "lo_lang=pl"}):
        translations = get_translations()
    original = translations._catalog[english]
    try:
        translations._catalog[english] = "Zawiera dane OS %(rok)s"
        i18n._checked_catalogues.discard(translations)
        response = client.get("/")
        assert response.status_code == 200
        assert "Contains OS data" in text_of(response) and "Szukaj" in text_of(response) or "Czego" in text_of(response)
    finally:
        translations._catalog[english] = original


@pytest.mark.parametrize("cookie", ["xx", "pl-PL", '"><script>', "ar;", "", "EN"])
def test_an_unknown_language_in_the_cookie_gives_a_page_in_a_supported_language(demo, client, cookie):
    client.set_cookie("lo_lang", cookie)
    response = client.get("/", headers={"Accept-Language": "zz, ar;q=0.5"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="ar" dir="rtl"' in html  # the browser's next choice, Arabic


@pytest.mark.parametrize("code", ["xx", "ar-EG", "%22%3E", "../en"])
def test_an_unknown_language_in_the_address_is_not_found_not_an_error(demo, client, code):
    client.set_cookie("lo_lang", "ur")
    response = client.get(f"/language/{code}")
    assert response.status_code == 404
    assert '<html lang="ur" dir="rtl"' in response.get_data(as_text=True)
    assert "lo_lang" not in response.headers.get("Set-Cookie", "")


@pytest.mark.parametrize("language,direction", [("en", "ltr"), ("pl", "ltr"), ("ro", "ltr"), ("bn", "ltr"),
                                                ("ar", "rtl"), ("ur", "rtl")])
def test_each_language_sets_its_direction_and_english_listing_text_is_marked(demo, client, language, direction):
    client.set_cookie("lo_lang", language)
    html = client.get(f"/listings/{SWIM}", follow_redirects=True).get_data(as_text=True)
    assert f'<html lang="{language}" dir="{direction}"' in html
    marked = '<h1 class="govuk-heading-l" lang="en" dir="ltr">'
    assert (marked in html) is (language != "en")


def test_staff_pages_stay_in_english_marked_lang_en(demo, client):
    """A coordinator who reads the site in Polish still gets the moderation pages in English, marked so."""
    make_user("coordinator@example.gov.uk", Role.COORDINATOR)
    assert sign_in(client, "coordinator@example.gov.uk").status_code == 302
    client.set_cookie("lo_lang", "pl")
    for url in ("/coordinators/feedback/", "/moderation/", "/admin/"):
        response = client.get(url, follow_redirects=True)
        assert response.status_code == 200, url
        assert '<html lang="en" dir="ltr"' in response.get_data(as_text=True), url
    assert '<html lang="pl"' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("language", ["pl", "ar"])
def test_a_translated_information_page_says_when_and_from_which_english_version(demo, client, language):
    client.set_cookie("lo_lang", language)
    html = client.get("/information/short-breaks").get_data(as_text=True)
    assert f'<html lang="{language}"' in html
    assert "/information/short-breaks/english" in html
    assert ' lang="en"' not in html.split('<main', 1)[1].split("</h1>", 1)[0]  # the page itself is translated
    english = client.get("/information/short-breaks/english").get_data(as_text=True)
    assert "Short breaks services statement" in english and 'lang="en" dir="ltr"' in english


def test_an_out_of_date_translation_links_to_the_newer_english(app, client, tmp_path):
    pages = tmp_path / "content" / "pages"
    (pages / "pl").mkdir(parents=True)
    (pages / "short-breaks.md").write_text("---\ntitle: Short breaks\nupdated: 2026-12-01\n---\nNew English.\n")
    (pages / "pl" / "short-breaks.md").write_text(
        "---\ntitle: Krótkie przerwy\nupdated: 2026-11-22\ntranslated_from: 2026-11-22\n"
        "translated_on: 2026-11-25\n---\nPo polsku.\n")
    app.config["CONTENT_PATH"] = str(tmp_path / "content")
    client.set_cookie("lo_lang", "pl")
    page = text_of(client.get("/information/short-breaks"))
    assert "Po polsku." in page and "może być nieaktualne" in page
    (pages / "pl" / "short-breaks.md").write_text(
        "---\ntitle: Krótkie przerwy\ntranslated_from: 2026-12-01\ntranslated_on: 2026-12-02\n---\nPo polsku.\n")
    assert "nieaktualne" not in text_of(client.get("/information/short-breaks"))


@pytest.mark.parametrize("slug", ["information-advice-and-support", "ehc-needs-assessment", "short-breaks",
                                  "complaints-and-disagreements", "help-without-the-internet"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_five_pages_families_need_first_are_translated(slug, language):
    import frontmatter

    english = frontmatter.load(PROJECT_ROOT / "content" / "pages" / f"{slug}.md")
    translated = frontmatter.load(PROJECT_ROOT / "content" / "pages" / language / f"{slug}.md")
    assert translated["translated_from"] == english["updated"] and translated["translated_on"]
    assert translated["title"] != english["title"]
    markers = {marker for marker in ("{council}", "{council_phone}", "{council_email}") if marker in english.content}
    assert all(marker in translated.content for marker in markers)


def test_arabic_dates_and_days_follow_the_language(demo, client):
    client.set_cookie("lo_lang", "ar")
    page = text_of(client.get(f"/listings/{SWIM}", follow_redirects=True))
    assert "Saturday" not in page and "السبت" in page


def test_the_date_boxes_are_labelled_in_the_language(app):
    """GOV.UK's date widget says Day, Month, Year in English: ours asks the catalogue."""
    from flask_wtf import FlaskForm

    from local_offer.fields import DateInput, DayMonthYear

    class Form(FlaskForm):
        when = DayMonthYear("When", widget=DateInput(), format="%d %m %Y")

    with app.test_request_context("/", headers={"Cookie": "lo_lang=pl"}):
        html = str(Form(meta={"csrf": False}).when())
    assert "Dzień" in html and "Miesiąc" in html and "Rok" in html and ">Day<" not in html


@pytest.mark.parametrize("setting,value", [("CONTENT_LANGUAGE", "English"), ("CONTENT_LANGUAGE", '"><b>'),
                                           ("LANGUAGES", {"en": "English", "p l": "Polski"})])
def test_a_wrong_language_setting_stops_the_site_with_a_clear_message(migrated_database, instance_path,
                                                                     setting, value):
    from local_offer import create_app
    from local_offer.config import ConfigError

    from support import make_test_config

    with pytest.raises(ConfigError, match=f"LOCAL_OFFER_{setting}"):
        create_app(make_test_config(migrated_database, **{setting: value}))


def test_phone_numbers_stay_left_to_right_inside_right_to_left_pages(demo, client):
    """Bidi would show "01538 000 102" as "000 01538 102" inside Arabic text: numbers are isolated."""
    client.set_cookie("lo_lang", "ar")
    html = client.get(f"/listings/{SWIM}", follow_redirects=True).get_data(as_text=True)
    assert '<span dir="ltr">01538' in html
    client.set_cookie("lo_lang", "pl")
    assert '<span dir="ltr">01538' not in client.get(f"/listings/{SWIM}", follow_redirects=True).get_data(as_text=True)


def test_a_literal_percent_in_a_translation_of_a_format_string_is_caught(tmp_path):
    """Templates always %-format: "100%" for a plain English string breaks the page, so it counts as broken."""
    found = completeness(_catalogue(tmp_path, [("All of it", "100%", set()), ("Half", "50%% zniżki", set())]), "pl")
    assert [message for message, _reason in found.broken] == ["All of it"]


@pytest.mark.parametrize("query", ["age=²", "page=²", "age=٣", "page=১"])
def test_digits_of_other_scripts_in_numbers_give_a_page_or_a_400(demo, client, query):
    response = client.get(f"/search?q=swimming&{query}")
    assert response.status_code in (200, 400)


def test_pages_say_they_vary_by_language(demo, client):
    vary = client.get("/").headers.get("Vary", "")
    assert "Cookie" in vary and "Accept-Language" in vary


def test_language_words_are_loaded_once_per_version_and_removed_words_stay_removed(app, tmp_path):
    from sqlalchemy import select

    from local_offer.content_loader import LoadReport
    from local_offer.extensions import db
    from local_offer.language_words import load_language_words
    from local_offer.models import SynonymGroup

    folder = tmp_path / "languages"
    folder.mkdir()
    (folder / "pl.yaml").write_text("language: pl\nconcepts:\n  swimming: [pływanie, basen]\n", encoding="utf-8")
    db.session.add(SynonymGroup(terms=["swimming", "swim"]))
    db.session.commit()
    load_language_words(folder, LoadReport())
    db.session.commit()
    group = db.session.execute(select(SynonymGroup)).scalar_one()
    assert group.terms == ["swimming", "swim", "pływanie", "basen"]
    group.terms = ["swimming", "swim", "pływanie"]  # a coordinator removes "basen"
    db.session.commit()
    report = LoadReport()
    load_language_words(folder, report)
    db.session.commit()
    assert db.session.execute(select(SynonymGroup)).scalar_one().terms == ["swimming", "swim", "pływanie"]
    assert report.skipped == {"pl search words": 1}
