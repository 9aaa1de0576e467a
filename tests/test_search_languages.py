"""Search in your own language: Polish, Romanian, Arabic, Urdu and Bengali words find English listings."""

from __future__ import annotations

from pathlib import Path

import pytest

from local_offer.config import PROJECT_ROOT
from local_offer.search import SearchRequest, get_service
from local_offer.search.languages import books, read_book, rewrite
from local_offer.search.understanding import concepts

from support import text_of

LANGUAGES = ("pl", "ro", "ar", "ur", "bn")
CONTENT = PROJECT_ROOT / "content"


def names(text: str, language: str, count: int = 5) -> list[str]:
    """Return the first results' names for a search typed on a page in ``language``."""
    results = get_service().search(SearchRequest(text=text, language=language, per_page=count))
    return [hit.listing.name for hit in results.hits]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_search_words_that_load(language):
    """Each language file reads, and has stop words, phrases and concepts for the commonest needs."""
    book = read_book(CONTENT / "languages" / f"{language}.yaml")
    assert book.code == language
    assert len(book.stopwords) >= 10 and len(book.phrases) >= 10 and len(book.concepts) >= 40
    wanted = {"autism", "swimming", "adhd", "short breaks"}
    keys = {key.casefold() for key in book.concepts}
    assert wanted <= keys, wanted - keys


# (language, what a parent types, a fragment one of the first five results' names must contain)
SEARCHES = [
    ("pl", "zajęcia dla dzieci z autyzmem", "utism"),
    ("pl", "pływanie", "swim"),
    ("pl", "basen dla dziecka z autyzmem", "swim"),
    ("pl", "logopeda", "peech"),
    ("ro", "înot", "swim"),
    ("ro", "club de vacanță", "oliday"),  # a concept's phrase, not "de vacanță" read as the holidays
    ("ro", "activități pentru copii cu autism", "utism"),
    ("ar", "سباحة", "swim"),
    ("ar", "أنشطة لأطفال التوحد", "utism"),
    ("ar", "السباحة", "swim"),
    ("ur", "تیراکی", "swim"),
    ("bn", "সাঁতার", "swim"),
]


@pytest.mark.parametrize("language,text,fragment", SEARCHES)
def test_a_search_in_another_language_finds_english_listings(directory, language, text, fragment):
    """The words of five languages reach the English listings through the synonym groups."""
    found = names(text, language)
    assert any(fragment in name for name in found), (text, found)


def test_the_same_words_find_the_same_listings_on_an_english_page(directory):
    """A Polish word typed on an English page still finds swimming (the other books apply too)."""
    assert any("swim" in name for name in names("pływanie", "en"))


def test_english_searches_are_read_exactly_as_before(directory):
    """English words are never rewritten: the English text goes through unchanged."""
    every = books(CONTENT)
    for text in ("autism swimming near Leek", "care for my son", "drama club ADHD 12 year old", "ST16 2AD"):
        rewritten = rewrite(text, "en", every)
        assert rewritten.text == text and rewritten.other_language is False
    for text in ("swimming", "holiday club"):
        assert rewrite(text, "pl", every).text == text


def test_polish_days_cost_and_ages_become_preferences(directory):
    """"w soboty", "za darmo" and "12 lat" are read as Saturday, free and age 12."""
    rewritten = rewrite("basen w soboty za darmo 12 lat", "pl", books(CONTENT))
    assert rewritten.other_language
    lowered = rewritten.text.lower()
    assert "saturday" in lowered and "free" in lowered and "12 years" in lowered


def test_no_english_did_you_mean_for_words_of_another_language(directory):
    """An unknown Polish word is not "corrected" into English; an English typo still is."""
    polish = get_service().search(SearchRequest(text="zajęcia plastyczne xyzowe", language="pl"))
    assert polish.suggestion is None
    arabic = get_service().search(SearchRequest(text="سباحه كلمةغريبة", language="ar"))
    assert arabic.suggestion is None
    assert get_service().search(SearchRequest(text="autsim", language="en")).suggestion == "autism"


def test_a_stem_with_a_star_matches_any_ending():
    """"autyzm*" in a synonym group matches autyzmem and autyzmu, and stands for the whole group."""
    groups = [["autism", "ASD", "autyzm*"]]
    found = concepts(["autyzmem"], groups)
    assert found[0].said == "autyzmem"
    assert ["autism"] in found[0].alternatives and ["asd"] in found[0].alternatives
    assert concepts(["aut"], groups)[0].alternatives == [["aut"]]


def test_a_glued_arabic_prefix_comes_off_a_known_word():
    """"بالتوحد" (with autism) is read as "توحد", a word the Arabic list knows."""
    every = books(CONTENT)
    rewritten = rewrite("بالتوحد", "ar", every)
    assert rewritten.other_language and "بالتوحد" not in rewritten.text


@pytest.mark.parametrize("query", [
    "zajęcia ADHD سباحة সাঁতার near ST16", "a" * 200, "ال ال ال", "***", "%(name)s", "\u200f\u202e",
    "https://example.org/" + "x" * 300,
])
def test_odd_and_mixed_scripts_give_a_page_not_an_error(directory, query):
    """A query mixing scripts, marks or a long unbroken address gets a page in a supported language."""
    client = directory.test_client()
    for language in ("ar", "pl", "en"):
        client.set_cookie("lo_lang", language)
        response = client.get("/search", query_string={"q": query})
        assert response.status_code in (200, 400), (language, query, response.status_code)
        assert f'<html lang="{language}"' in response.get_data(as_text=True)


def test_the_polish_hint_no_longer_asks_for_english(directory):
    """The search hint on a Polish page gives Polish examples, not "type in English"."""
    client = directory.test_client()
    client.set_cookie("lo_lang", "pl")
    page = text_of(client.get("/"))
    assert "po angielsku" not in page and "logopeda" in page


def test_language_words_are_in_the_synonym_groups(directory):
    """`flask content load` put each language's words into the groups coordinators maintain."""
    from sqlalchemy import select

    from local_offer.extensions import db
    from local_offer.models import SynonymGroup

    groups = [group.terms for group in db.session.execute(select(SynonymGroup).order_by(SynonymGroup.id)).scalars()]
    autism = next(group for group in groups if "autism" in group)
    assert any(term.startswith("autyzm") for term in autism)
    assert any("\u0600" <= term[0] <= "\u06ff" for term in autism)  # Arabic script (Arabic or Urdu)
    assert any("\u0980" <= term[0] <= "\u09ff" for term in autism)  # Bengali


def test_a_broken_language_file_is_named_by_content_load(tmp_path):
    """A phrase with a one-letter stem is refused with the file's name."""
    path = Path(tmp_path) / "xx.yaml"
    path.write_text("language: xx\nphrases:\n  a*: free\n", encoding="utf-8")
    with pytest.raises(ValueError, match="xx.yaml"):
        read_book(path)


@pytest.mark.parametrize("language,text,wanted", [
    ("pl", "zajęcia po szkole", "after school"),  # a phrase that starts with a stop word
    ("pl", "w czasie roku szkolnego", "term time"),
    ("pl", "basen w pobliżu Leek", "near Leek"),
    ("ro", "înot în apropiere", "near"),
    ("ar", "طفل صغير", "toddler"),
])
def test_phrases_are_read_before_stop_words(language, text, wanted):
    assert wanted in rewrite(text, language, books(CONTENT)).text


@pytest.mark.parametrize("text", ["DLA", "help with DLA forms", "distraction techniques", "excursion", "vacant",
                                  "meditation", "care for my son", "pip and dla"])
def test_another_languages_words_never_replace_english_ones(text):
    """"DLA" is not the Polish "dla", "vacant" not Romanian for the holidays: English pages keep them."""
    rewritten = rewrite(text, "en", books(CONTENT), known={"dla", "pip"}.__contains__)
    assert rewritten.text == text and not rewritten.other_language


def test_an_acronym_in_capitals_is_kept_on_a_polish_page():
    assert "DLA" in rewrite("pomoc z DLA", "pl", books(CONTENT)).text


def test_an_english_word_is_not_matched_by_another_languages_stem():
    """Romanian "meditați*" (tutoring) must not widen the English "meditation"."""
    groups = [["tuition", "meditați*"]]
    assert concepts(["meditation"], groups)[0].alternatives == [["meditation"]]
    assert ["tuition"] in concepts(["meditatii"], groups)[0].alternatives


def test_dla_typed_on_an_english_page_is_searched(directory):
    results = get_service().search(SearchRequest(text="DLA", language="en"))
    assert results.words == ["dla"]
