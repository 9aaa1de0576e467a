"""Languages from day one: the switcher, the browser's preference, and Polish end to end."""


import pytest

from local_offer.config import PROJECT_ROOT

from support import SWIM, text_of

POLISH_MO = PROJECT_ROOT / "translations" / "pl" / "LC_MESSAGES" / "messages.mo"


@pytest.fixture(autouse=True)
def compiled_catalogues():
    """The Polish catalogue must be compiled (make test does this; .mo files are not committed)."""
    assert POLISH_MO.is_file(), "Run `make translations` (or `flask translate compile`) first"


def test_browser_preference_chooses_polish(demo, client):
    """A browser asking for Polish gets the interface in Polish."""
    response = client.get("/", headers={"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"})
    html = response.get_data(as_text=True)
    assert '<html lang="pl"' in html
    assert "Czego szukasz?" in html or "Czego" in text_of(response)
    assert "What are you looking for?" not in html


def test_switcher_choice_is_remembered_over_the_browser(demo, client):
    """Choosing a language sets a cookie that wins over Accept-Language on later pages."""
    response = client.get("/language/pl", query_string={"next": f"/listings/{SWIM}"})
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "lo_lang=pl" in cookie and "HttpOnly" in cookie
    page = client.get(f"/listings/{SWIM}", headers={"Accept-Language": "en"}, follow_redirects=True)
    html = page.get_data(as_text=True)
    assert '<html lang="pl"' in html
    assert "Who it is for" not in html
    client.get("/language/en")
    assert '<html lang="en"' in client.get("/").get_data(as_text=True)


def test_polish_pages_are_translated_throughout(demo, client):
    """Navigation, listing headings, vocabulary names, dates and money read in Polish."""
    client.set_cookie("lo_lang", "pl")
    home = text_of(client.get("/"))
    assert "Edukacja" in home  # category name from the vocabulary's Polish translation
    listing = client.get(f"/listings/{SWIM}", follow_redirects=True)
    page = text_of(listing)
    for english in ("Who it is for", "How to get it", "When and where", "Accessibility and support",
                    "Last checked by the provider", "Saturday", "Term time", "Wheelchair access"):
        assert english not in page, english
    assert "W soboty, od 9:00 do 10:00, tylko w czasie roku szkolnego" in page  # sessions, in Polish words
    assert "4,50" in page  # Polish number format for money
    assert "Autyzm" in page


def test_switcher_is_on_every_page_with_language_names(demo, client):
    """Each page offers every language, named in that language, marked with lang."""
    for url in ("/", f"/listings/{SWIM}", "/categories/", "/no-such-page"):
        html = client.get(url, follow_redirects=True).get_data(as_text=True)
        assert 'lang="pl" hreflang="pl"' in html
        assert ">Polski<" in html


def test_untranslated_information_page_says_it_is_in_english(app, client, tmp_path):
    """An information page without a Polish version is shown in English, with a note, marked lang=en."""
    pages = tmp_path / "content" / "pages"
    (pages / "pl").mkdir(parents=True)
    (pages / "glossary.md").write_text("---\ntitle: Glossary\n---\nWords.\n")
    (pages / "short-breaks.md").write_text("---\ntitle: Short breaks\n---\nEnglish.\n")
    (pages / "pl" / "short-breaks.md").write_text("---\ntitle: Krótkie przerwy\n---\nPo polsku.\n")
    app.config["CONTENT_PATH"] = str(tmp_path / "content")
    client.set_cookie("lo_lang", "pl")
    translated = text_of(client.get("/information/short-breaks"))
    assert "Krótkie przerwy" in translated and "Po polsku." in translated
    fallback = client.get("/information/glossary").get_data(as_text=True)
    assert 'lang="en"' in fallback
    assert "Glossary" in fallback


def test_every_marked_string_has_a_polish_translation():
    """The Polish catalogue is complete: nothing falls back to English."""
    from babel.messages.pofile import read_po

    with open(PROJECT_ROOT / "translations" / "pl" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalogue = read_po(handle)
    missing = [message.id for message in catalogue if message.id and not (
        all(message.string) if isinstance(message.string, tuple) else message.string)]
    fuzzy = [message.id for message in catalogue if message.id and message.fuzzy]
    assert missing == [] and fuzzy == []


def test_catalogue_template_is_up_to_date(tmp_path):
    """Every string marked in the code is in messages.pot (run `flask translate update`)."""
    import subprocess
    import sys

    from babel.messages.pofile import read_po

    fresh = tmp_path / "fresh.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "pyproject.toml",
                    "-k", "_l", "-o", str(fresh), "."], check=True, cwd=PROJECT_ROOT,
                   capture_output=True)
    with open(fresh, "rb") as handle:
        extracted = {message.id for message in read_po(handle) if message.id}
    with open(PROJECT_ROOT / "translations" / "messages.pot", "rb") as handle:
        committed = {message.id for message in read_po(handle) if message.id}
    assert extracted - committed == set()
