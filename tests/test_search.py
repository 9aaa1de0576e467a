"""Search that understands families: relevance, places, filters, counts, and the index's upkeep."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from local_offer.extensions import db
from local_offer.models import Listing, SearchLog, SynonymGroup, record_change
from local_offer.search import SearchRequest, get_service
from local_offer.demand import prune, scrub
from local_offer.search.understanding import concepts, understand

from support import SWIM, text_of


def first_names(text: str, where: str = "", count: int = 3, **filters) -> list[str]:
    """Return the names of the first results for a search."""
    results = get_service().search(SearchRequest(text=text, where=where, per_page=count, **filters))
    return [hit.listing.name for hit in results.hits]


#: (what a parent types, where, a name fragment that must be among the first three results)
RELEVANCE = [
    ("autism swimming", "", "swim"),
    ("autism swimming near Leek", "", "Otters calm swim"),
    ("ASD swimming", "", "swim"),
    ("ASC swim", "", "swim"),
    ("autistic swimmers", "", "swim"),
    ("holiday club for ADHD", "", "holiday"),
    ("playscheme", "", "laysch"),
    ("salt", "", "peech and language"),
    ("speech therapy", "", "peech"),
    ("respite", "", "hort breaks"),
    ("short breaks", "", "hort breaks"),
    ("quiet cinema", "", "screening"),
    ("relaxed cinema", "", "cinema"),
    ("football for wheelchair users", "", "powerchair football"),
    ("dyslexia help", "", "yslexia"),
    ("something for my daughter who has adhd on saturdays", "", ""),
    ("swimming near Stone", "", "Stafford and Stone"),
    ("swiming", "", "swim"),
    ("trampolining", "", "rampolin"),
    ("trampoline", "", "rampolin"),
    ("portage", "", "Portage"),
    ("sendiass", "", "SENDIASS"),
    ("information advice and support", "", "SENDIASS"),
    ("camhs", "", "CAMHS"),
    ("special school", "", "School"),
    ("childminder", "Stone", "Childminding"),
    ("supported internship", "", "internship"),
    ("travel training", "", "travel training"),
    ("scouts", "", "Compass Group"),
    ("sensory play", "", "ensory"),
    ("occupational therapy", "", "ccupational"),
    ("OT", "", "ccupational"),
    ("parent carer forum", "", "arent"),
    ("deaf", "", ""),
    ("swimming", "ST13 6AA", "Otters calm swim"),
    ("hydrotherapy pool autism", "", ""),
]


@pytest.mark.parametrize("text, where, expected", RELEVANCE)
def test_relevance_over_the_demo_directory(directory, text, where, expected):
    """Parents' own words bring the right services into the first three."""
    names = first_names(text, where)
    assert names, f"no results for {text!r}"
    if expected:
        assert any(expected.lower() in name.lower() for name in names), names


@pytest.mark.parametrize("text", ["xylophone repair", "quantum chromodynamics", "zzzz qqqq"])
def test_no_good_answer_gives_few_or_no_results(directory, text):
    """A query with no good answer returns few or none, never a page of junk."""
    assert get_service().search(SearchRequest(text=text)).total <= 2


def test_a_typo_gets_a_real_word_suggested(directory):
    """"autsim" suggests "autism", a word from the index's own vocabulary."""
    results = get_service().search(SearchRequest(text="autsim"))
    assert results.suggestion == "autism"


def test_known_words_are_never_corrected(directory):
    """A real word is searched as written: "swim" is not turned into another word."""
    results = get_service().search(SearchRequest(text="swim"))
    assert results.suggestion is None and results.total > 0


def test_place_in_the_words_is_used_as_the_place(directory):
    """"swimming near Stone" searches swimming near Staffordshire's Stone."""
    results = get_service().search(SearchRequest(text="swimming near Stone"))
    assert results.words == ["swimming"]
    assert results.place.label == "Stone"
    assert results.hits[0].miles is not None and results.hits[0].miles < 2


def test_age_and_day_in_the_words_are_preferences_not_filters(directory):
    """"holiday club ADHD 9 year old" puts listings for 9 year olds first; "on saturdays" puts Saturdays first.

    Neither hides the rest: only the filters a parent picks do that.
    """
    aged = get_service().search(SearchRequest(text="holiday club ADHD 9 year old", per_page=50))
    assert [(g.kind, g.value) for g in aged.guesses] == [("age", (9, 9))]
    fits = [h.listing.min_age <= 9 <= h.listing.max_age for h in aged.hits]
    assert fits[:3] == [True, True, True]
    saturday = get_service().search(SearchRequest(text="adhd on saturdays", per_page=50))
    assert [(g.kind, g.value) for g in saturday.guesses] == [("day", {"SA"})]
    runs = [any(s.weekday and s.weekday.value == "SA" for s in h.listing.schedules) for h in saturday.hits]
    assert runs[0] and not all(runs), "Saturday listings first, others still shown"
    everything = get_service().search(SearchRequest(text="adhd", per_page=50))
    assert saturday.total == everything.total
    picked = get_service().search(SearchRequest(text="adhd", days=["SA"], per_page=50))
    assert picked.total == sum(runs)


#: Every kind of query the search understands: (query string, words the results page must show).
UNDERSTOOD_QUERIES = [
    ("q=saturday", ["Saturday"]),
    ("q=sunday", ["Sunday"]),
    ("q=swimming+on+saturdays", ["Saturday"]),
    ("q=something+for+my+daughter+who+has+adhd+on+saturdays", ["Saturday"]),
    ("q=9+year+old", ["Age 9"]),
    ("q=drama+club+ADHD+12+year+old", ["Age 12"]),
    ("q=swimming+near+Leek", ["near Leek"]),
    ("q=autism+swimming+in+Stone", ["near Stone"]),
    ("q=ST16+2AD", ["near ST16 2AD"]),
    ("q=swimming+ST13+6AA", ["near ST13 6AA"]),
    ("q=swimming&where=ST13+6AA&radius=5", ["near ST13 6AA"]),
    ("q=free+swimming", ["Free first"]),
    ("q=cheap+saturday+craft", ["Saturday"]),
    ("q=swimming+on+saturdays&day=SU&age=9&free=1&sort=distance&where=Leek", ["near Leek"]),
    ("q=holiday+club+9+year+old&period=school_holidays&kind=activity", ["Age 9"]),
    ("q=adhd+on+fridays+in+Stone&need=adhd&delivery=venue&sort=checked", ["Friday", "near Stone"]),
]


@pytest.mark.parametrize("query, shown", UNDERSTOOD_QUERIES)
def test_every_kind_of_understood_query_renders_as_a_page_and_in_the_api(directory, query, shown):
    """Days, ages, places, postcodes, cost words and filters from the words: each page renders, never a 500."""
    client = directory.test_client()
    page = client.get(f"/search?{query}")
    assert page.status_code == 200, page.get_data(as_text=True)[:2000]
    text = text_of(page)
    assert "result" in text
    for words in shown:
        assert words in text
    text_only = query.split("&")[0].removeprefix("q=")
    api = client.get(f"/api/v1/services?text={text_only}")
    assert api.status_code == 200, api.get_data(as_text=True)[:500]
    assert isinstance(api.get_json()["content"], list)


def test_a_service_with_several_venues_appears_once_at_its_nearest(directory):
    """Listings at two venues appear once, with the distance to the nearer venue."""
    results = get_service().search(SearchRequest(where="Cannock", per_page=400))
    ids = [hit.listing.id for hit in results.hits]
    assert len(ids) == len(set(ids))
    forum = next(h for h in results.hits if h.listing.name.startswith("Stafford Parent Carer Voice"))
    assert forum.miles < 2  # its Cannock venue, not its Stafford one


def test_online_and_phone_services_are_kept_and_labelled_near_a_place(directory):
    """Services with no venue are included in place searches, without a distance."""
    results = get_service().search(SearchRequest(text="salt", where="Leek", per_page=50))
    remote = [h for h in results.hits if "venue" not in h.listing.delivery_methods]
    assert remote and all(h.miles is None for h in remote)


def test_a_radius_never_silently_hides_the_nearest_services(directory):
    """With few services inside the radius, the nearest beyond it are shown and labelled."""
    results = get_service().search(SearchRequest(text="trampolining", where="Leek", radius=1))
    assert results.total >= 1
    assert any(h.beyond_radius for h in results.hits)
    strict = get_service().search(SearchRequest(text="trampolining", where="Leek", radius=1, strict_radius=True))
    assert all(h.miles is None or h.miles <= 1 for h in strict.hits)


def test_filters_narrow_and_counts_say_how_many_each_would_leave(directory):
    """Each filter option's count equals the results you get by choosing it."""
    service = get_service()
    base = service.search(SearchRequest(text="swimming"))
    for group, field, value in (("free", "free", True), ("delivery", "delivery", ["venue"]),
                                ("day", "days", ["SA"]), ("need", "needs", ["autism"])):
        key = "yes" if group == "free" else value[0]
        expected = base.counts[group][key]
        narrowed = service.search(SearchRequest(text="swimming", **{field: value}))
        assert narrowed.total == expected, group


def test_age_filter_keeps_services_whose_range_includes_it(directory):
    """A child's age keeps only services whose age range includes it."""
    results = get_service().search(SearchRequest(age=19, per_page=400))
    assert results.total > 0
    assert all(h.listing.min_age <= 19 <= h.listing.max_age for h in results.hits)


def test_category_filter_includes_subcategories(directory):
    """Choosing "Activities and leisure" includes swimming, drama and the rest."""
    results = get_service().search(SearchRequest(category="activities", per_page=400))
    assert any("swim" in h.listing.name.lower() for h in results.hits)
    assert results.total == results.counts["category"]["activities"]


def test_sorting_by_distance_and_recently_checked(directory):
    """Distance sorts nearest first; "checked" puts the most recently checked first."""
    near = get_service().search(SearchRequest(where="ST16 2AD", sort="distance", per_page=30))
    miles = [h.miles for h in near.hits if h.miles is not None]
    assert miles == sorted(miles)
    checked = get_service().search(SearchRequest(sort="checked", per_page=30))
    dates = [h.listing.assured_date for h in checked.hits]
    assert dates == sorted(dates, reverse=True)


def test_information_pages_are_found_beside_listings(directory):
    """Searching for short breaks also offers the short breaks services statement."""
    results = get_service().search(SearchRequest(text="short breaks"))
    assert "short-breaks" in [slug for slug, _ in results.information_pages]


def test_understanding_pulls_out_place_age_and_day():
    """The parent's phrasing is read without a database."""
    places = {"leek", "stone", "newcastle under lyme"}
    read = understand("something for my 9 year old son with autism near Newcastle under Lyme on Saturdays",
                      is_place=lambda text: text.lower() in places)
    assert read.place.lower() == "newcastle under lyme"
    assert read.age == 9 and read.day == "SA"
    assert read.words == ["autism"]
    assert understand("ST16 2AD swimming").place == "ST16 2AD"
    grouped = concepts(["short", "breaks", "autism"], [["respite", "short breaks"], ["autism", "ASD"]])
    assert [c.said for c in grouped] == ["short breaks", "autism"]
    assert ["respite"] in grouped[0].alternatives and ["asd"] in grouped[1].alternatives


# --- through the website -------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, status",
    [
        ("", 200),
        ("q=", 200),
        ("q=" + "a" * 2000, 400),
        ("q=AND+(", 200),
        ("q=*", 200),
        ("q=name:swim", 200),
        ("q=swim&need=unicorns", 400),
        ("q=swim&day=XX", 400),
        ("q=swim&radius=7&where=Leek", 400),
        ("q=swim&page=0", 400),
        ("q=swim&page=99999", 400),
        ("q=swim&page=40", 400),
        ("where=ZZ99+9ZZ", 200),
        ("where=BT1+1AA", 200),
        ("lat=40.7&lng=-74.0", 400),
        ("lat=abc&lng=1", 400),
        ("lat=nan&lng=nan", 400),
        ("age=30", 400),
        ("age=-1", 400),
        ("sort=random", 400),
        ("area=mars", 400),
    ],
)
def test_bad_search_input_gets_a_useful_page(demo, client, query, status):
    """Bad searches get a page in the site's style with 200 or 400, never a 500."""
    response = client.get("/search?" + query)
    assert response.status_code == status
    page = text_of(response)
    assert "Search the Local Offer" in page
    if status == 400:
        assert "There is a problem" in page


def test_unknown_postcode_says_so_and_still_searches(demo, client):
    """A postcode that does not exist is explained; the words are still searched."""
    page = text_of(client.get("/search?q=swim&where=ZZ99+9ZZ"))
    assert "could not find the postcode ZZ99 9ZZ" in page
    assert "Otters calm swim sessions" in page


def test_results_page_shows_what_matters_and_removes_filters(demo, client):
    """Each result shows who it suits, ages, cost, when and last checked; filters come off in one click."""
    response = client.get("/search?q=swim&free=0&day=SA&delivery=venue")
    page = text_of(response)
    for fact in ("Suits", "Ages 4 to 16", "£4.50", "Saturday", "Last checked"):
        assert fact in page, fact
    html = response.get_data(as_text=True)
    assert "Filters in use" in page and "Remove filter:" in page
    assert 'href="/search?q=swim&amp;free=0&amp;delivery=venue"' in html  # the Saturday chip's link
    assert "Saturday <span class=\"lo-count\">(" in html  # counts beside options


def test_results_page_shows_distance_in_miles(demo, client):
    """With a place, each result with a venue shows how far it is."""
    assert "miles away" in text_of(client.get("/search?q=swim&where=ST16+2AD"))


def test_no_results_page_offers_ways_forward(demo, client):
    """Nothing found: a suggestion, filters to drop and categories, never a bare "no results"."""
    page = text_of(client.get("/search?q=autsim&day=SU"))
    assert "Did you mean" in page and "autism" in page
    assert "remove the filter" in page
    assert "browse the categories" in page


def test_every_results_page_is_a_bookmarkable_get(demo, client):
    """The search form is a GET with no CSRF token (only the shortlist's POST form, outside it, has one)."""
    html = client.get("/search?q=swim").get_data(as_text=True)
    search_form = re.search(r'<form method="get".*?</form>', html, re.S).group(0)
    assert "csrf_token" not in search_form and 'id="lo-save-form"' not in search_form


# --- keeping the index in step with the database -------------------------------------------------


def test_a_change_is_searchable_after_sync(demo):
    """Publishing path: record the change with the edit, commit, sync: search finds it at once."""
    service = get_service()
    listing = db.session.get(Listing, SWIM)
    listing.name = "Otters kayak adventures"
    record_change(listing.id)
    db.session.commit()
    assert service.sync() == (1, 0)
    assert [h.listing.id for h in service.search(SearchRequest(text="kayak")).hits] == [SWIM]


def test_a_failed_index_write_stays_waiting_and_is_retried(demo, monkeypatch):
    """If the index cannot be written, the database stays right and the change is retried."""
    service = get_service()
    listing = db.session.get(Listing, SWIM)
    listing.name = "Otters canoe club"
    record_change(listing.id)
    db.session.commit()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(service.engine, "write", broken)
    assert service.sync() == (0, 1)
    assert [document_id for _seq, document_id, _at in service.waiting()] == [SWIM]  # still waiting for this index
    assert db.session.get(Listing, SWIM).name == "Otters canoe club"
    monkeypatch.undo()
    assert service.sync() == (1, 0)
    assert service.search(SearchRequest(text="canoe")).total == 1


def test_another_worker_sees_changes_on_its_next_search(demo, app):
    """A second process's service notices the new index state and filters without restarting."""
    from local_offer.search import SearchService
    from local_offer.search_sources import DirectorySources

    other = SearchService(Path(app.instance_path) / "search", DirectorySources())
    assert other.search(SearchRequest(text="kayak")).total == 0
    listing = db.session.get(Listing, SWIM)
    listing.name = "Otters kayak adventures"
    listing.is_free = True
    record_change(listing.id)
    db.session.commit()
    get_service().sync()
    found = other.search(SearchRequest(text="kayak", free=True))
    assert found.total == 1
    other.engine.close()


def test_rebuild_switches_generations_and_check_repairs(demo, app, runner):
    """A rebuild writes a new generation, keeping only the one it replaced; check finds and fixes gaps."""
    service = get_service()
    before = service.engine.generation()
    for _ in range(2):
        result = runner.invoke(args=["index", "rebuild"])
        assert result.exit_code == 0 and "Indexed" in result.output
    after = service.engine.generation()
    assert after != before
    folder = Path(app.instance_path) / "search"
    kept = sorted(p.name for p in folder.iterdir() if p.is_dir())
    assert len(kept) == 2 and after in kept and before not in kept  # the previous one, for readers still on it
    service.engine.write([], [SWIM])  # the index loses a listing behind our back
    report = service.check(repair=True)
    assert report["missing"] == [SWIM]
    assert service.check(repair=False) == {"missing": [], "extra": [], "stale": []}
    assert "Missing from the index: 0" in runner.invoke(args=["index", "check"]).output


def test_no_index_files_are_left_open(demo, app):
    """Closing the engine releases every index file."""
    service = get_service()
    service.search(SearchRequest(text="swim"))
    folder = str(Path(app.instance_path) / "search")
    service.engine.close()
    open_files = [os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
                  if os.path.exists(f"/proc/self/fd/{fd}")]
    assert not [path for path in open_files if path.startswith(folder)]


def test_common_concepts_are_scored_ahead_after_the_index_changes(demo, app):
    """After a change, synonyms are scored on a background thread, so parents' searches hit the cache."""
    service = get_service()
    app.config["SEARCH_WARM"] = True
    service.search(SearchRequest(text="swim"))
    service.wait_until_warm()
    assert len(service.engine._cache) > 20
    before = len(service.engine._cache)
    service.search(SearchRequest(text="respite"))
    assert len(service.engine._cache) == before  # answered from the warmed cache
    listing = db.session.get(Listing, SWIM)
    listing.name = "Otters kayak adventures"
    record_change(listing.id)
    db.session.commit()
    service.sync()
    assert service.search(SearchRequest(text="kayak")).total == 1  # never a stale answer
    service.wait_until_warm()


def test_synonym_changes_apply_to_the_next_search(demo):
    """A new synonym group changes the very next search."""
    service = get_service()
    assert service.search(SearchRequest(text="aquatics")).total == 0
    db.session.add(SynonymGroup(terms=["aquatics", "swimming"]))
    db.session.commit()
    assert service.search(SearchRequest(text="aquatics")).total >= 1


def test_searches_are_logged_without_anything_personal(demo, client, app):
    """The demand log keeps scrubbed words, the outward code and the count, and nothing personal."""
    client.get("/search?q=autism+swim+jo@example.com+07700+900123+ST13+6AA&where=ST13+6AA")
    app.extensions["local_offer_demand"].flush()
    row = db.session.execute(select(SearchLog)).scalar_one()
    assert row.words == "autism swim"
    assert row.place == "ST13"
    assert row.results >= 1
    assert scrub("call 01538 000102 or email a@b.com re ST16 2AD 12345678") == "call or email re"


def test_old_search_rows_become_daily_counts(demo, client, app):
    """Pruning folds old rows into counts and removes them."""
    from datetime import datetime, timedelta, timezone

    db.session.add(SearchLog(occurred_at=datetime.now(timezone.utc) - timedelta(days=100), words="hydrotherapy",
                             results=0))
    db.session.commit()
    assert prune(90) == 1
    assert db.session.execute(select(func.count()).select_from(SearchLog)).scalar_one() == 0


def test_an_index_with_an_older_schema_is_rebuilt_by_ensure(demo, app):
    """`make run` rebuilds an index written before the current schema (no id column)."""
    from whoosh import index as whoosh_index
    from whoosh.fields import ID, TEXT, Schema

    service = get_service()
    service.engine.close()
    folder = Path(app.instance_path) / "search" / "gen-99"
    folder.mkdir()
    whoosh_index.create_in(str(folder), Schema(id=ID(stored=True, unique=True), body=TEXT))
    (folder.parent / "CURRENT").write_text("gen-99")
    assert not service.engine.exists()
    assert service.ensure_index() is True
    assert service.engine.exists()
    assert service.search(SearchRequest(text="swim")).total >= 1


def test_a_rebuild_in_several_processes_finds_the_same(demo, app):
    """Indexing with two processes (one segment each) gives the same answers as one."""
    service = get_service()
    before = [hit.listing.id for hit in service.search(SearchRequest(text="swim")).hits]
    app.config["SEARCH_INDEX_PROCS"] = 2
    service.rebuild()
    after = [hit.listing.id for hit in service.search(SearchRequest(text="swim")).hits]
    assert after == before and before
    assert service.check(repair=False) == {"missing": [], "extra": [], "stale": []}


def test_cards_are_rendered_ahead_and_a_changed_listing_is_never_stale(demo, app, client):
    """The warmer renders result cards ahead; an edited listing's card is rendered afresh."""
    from local_offer.listings import cards

    cards._cards.clear()
    assert cards.prerender_cards(app) == 6
    assert cards.prerender_cards(app) == 0  # all cached already
    listing = db.session.get(Listing, SWIM)
    listing.summary = "Now with a new summary for the card"
    record_change(listing.id)
    db.session.commit()
    get_service().sync()
    assert "Now with a new summary for the card" in text_of(client.get("/search?q=swim"))
