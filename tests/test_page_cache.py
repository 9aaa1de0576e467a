"""Kept pages: served again to visitors with nothing of their own, never stale, never anyone's own page.

The home, results and category pages are kept as rendered (``page_cache``).  A
kept page must give each visitor their own working CSRF token and a nonce that
matches the response's CSP; a published change shows at once; nobody signed
in, with a shortlist or with a message waiting is given (or gives) a kept page.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from local_offer import page_cache
from local_offer.extensions import db
from local_offer.models import Role, SearchLog
from local_offer.search import get_service

from support import SWIM, make_user, sign_in, text_of
from test_alerts import publish

SEARCH = "/search?q=swimming"


@pytest.fixture
def searches(monkeypatch):
    """Count the searches the results page really runs (a kept page runs none)."""
    service = get_service()
    calls = []
    original = type(service).search

    def counted(self, request):
        calls.append(request.text)
        return original(self, request)

    monkeypatch.setattr(type(service), "search", counted)
    return calls


def token_of(html: str) -> str:
    """Return the CSRF token of a page's save form."""
    return re.search(r'id="lo-save-form".*?name="csrf_token" value="([^"]+)"', html, re.S).group(1)


def test_a_second_visitor_gets_the_kept_page_with_their_own_token_and_nonce(demo, app, searches):
    """The same address from two browsers: searched once; each gets a token that works and a matching nonce."""
    app.config["WTF_CSRF_ENABLED"] = True
    first, second = app.test_client(), app.test_client()
    one = first.get(SEARCH)
    two = second.get(SEARCH)
    assert one.status_code == two.status_code == 200 and len(searches) == 1
    html_one, html_two = one.get_data(as_text=True), two.get_data(as_text=True)
    assert "Swimming" in html_two and token_of(html_one) != token_of(html_two)
    assert "lo-csrf-" not in html_two and "lo-nonce-" not in html_two
    nonce = re.search(r"'nonce-([^']+)'", two.headers["Content-Security-Policy"]).group(1)
    assert f'nonce="{nonce}"' in html_two and nonce not in html_one
    assert two.headers["Cache-Control"] == "private, no-store"  # it carries a token: no shared cache keeps it
    saved = second.post("/shortlist/save", data={"listing_id": SWIM, "next": SEARCH,
                                                "csrf_token": token_of(html_two)})
    assert saved.status_code == 303
    third = app.test_client().post("/shortlist/save", data={"listing_id": SWIM, "next": SEARCH,
                                                           "csrf_token": token_of(html_two)})
    assert third.status_code == 400  # the token is the second visitor's own, not the page's


def test_a_visitor_with_a_shortlist_gets_their_own_page_and_it_is_never_kept(demo, app, searches):
    """Saved buttons and the count are this visitor's: rendered for them, never given to the next visitor."""
    owner = app.test_client()
    owner.post("/shortlist/save", data={"listing_id": SWIM, "next": SEARCH})
    mine = owner.get(SEARCH)
    assert "Saved – remove from shortlist" in text_of(mine) and "1 saved" in text_of(mine)
    stranger = app.test_client().get(SEARCH)
    assert "Saved – remove" not in text_of(stranger) and "1 saved" not in text_of(stranger)
    again = owner.get(SEARCH)
    assert "Saved – remove from shortlist" in text_of(again)
    assert len(searches) == 3  # the owner's pages are always rendered; the stranger's once


def test_signed_in_staff_are_never_given_or_give_a_kept_page(demo, app, searches):
    """A coordinator's page shows their account; the public's page never does."""
    make_user("coordinator@council.example", Role.COORDINATOR)
    staff = app.test_client()
    sign_in(staff, "coordinator@council.example")
    assert "Sign out" in text_of(staff.get(SEARCH))
    public = app.test_client().get(SEARCH)
    assert "Sign out" not in text_of(public)
    assert "Sign out" in text_of(staff.get(SEARCH))
    assert len(searches) == 3


def test_a_published_listing_shows_at_once(demo, app):
    """A kept results page is never shown after the index changed: the new listing is found straight away."""
    client = app.test_client()
    assert "Otter Club" not in text_of(client.get(SEARCH))
    publish("Otter Club swimming")
    assert "Otter Club swimming" in text_of(app.test_client().get(SEARCH))


def test_each_language_host_and_address_has_its_own_page(demo, app, searches):
    """Polish visitors get the Polish page; another Host or query is another page."""
    client = app.test_client()
    client.get(SEARCH)
    polish = client.get(SEARCH, headers={"Accept-Language": "pl"})
    assert 'lang="pl"' in polish.get_data(as_text=True)
    client.get(SEARCH, base_url="http://other.example")
    client.get(SEARCH + "&free=1")
    assert len(searches) == 4
    client.get(SEARCH)
    assert len(searches) == 4


def test_a_waiting_message_is_shown_not_lost(demo, app):
    """A visitor with a message waiting (after removing their last saved listing) sees it on a fresh page."""
    app.test_client().get(SEARCH)  # kept
    visitor = app.test_client()
    visitor.post("/shortlist/save", data={"listing_id": SWIM, "next": SEARCH})
    visitor.post("/shortlist/remove", data={"listing_id": SWIM, "next": SEARCH})
    with visitor.session_transaction() as session:
        session.pop("shortlist", None)
        session["_flashes"] = [("message", "A notice for this visitor only")]
    assert "A notice for this visitor only" in text_of(visitor.get(SEARCH))
    assert "A notice for this visitor only" not in text_of(app.test_client().get(SEARCH))


def test_kept_searches_are_still_counted_for_the_demand_report(demo, app):
    """The anonymous search log records every search, including those answered from a kept page."""
    app.config["SEARCH_LOG_ENABLED"] = True
    client = app.test_client()
    for _ in range(3):
        client.get("/search?q=otters+on+mars")
    app.extensions["local_offer_demand"].flush()
    words = db.session.execute(db.select(SearchLog.words)).scalars().all()
    assert words.count("otters on mars") == 3


def test_an_edited_information_page_shows_at_once(demo, app, tmp_path):
    """Information pages are kept until their file changes."""
    folder = tmp_path / "content"
    (folder / "pages").mkdir(parents=True)
    page = folder / "pages" / "short-breaks.md"
    page.write_text("---\ntitle: Short breaks\nkey: true\n---\nFirst wording.\n")
    app.config["CONTENT_PATH"] = str(folder)
    client = app.test_client()
    assert "First wording." in text_of(client.get("/information/short-breaks"))
    page.write_text("---\ntitle: Short breaks\nkey: true\n---\nSecond wording, a little longer.\n")
    assert "Second wording" in text_of(client.get("/information/short-breaks"))
    assert "Short breaks" in text_of(client.get("/"))


def test_home_and_categories_are_kept_and_turned_off_by_a_setting(demo, app, monkeypatch):
    """The home page is rendered once; with PAGE_CACHE_SECONDS = 0 every request renders."""
    rendered = []
    from local_offer.directory import views

    original = views.render_template
    monkeypatch.setattr(views, "render_template", lambda *a, **k: rendered.append(a[0]) or original(*a, **k))
    client = app.test_client()
    for _ in range(3):
        assert client.get("/").status_code == 200
        assert client.get("/categories/").status_code == 200
    assert rendered == ["directory/home.html", "directory/categories.html"]
    app.config["PAGE_CACHE_SECONDS"] = 0
    client.get("/")
    assert rendered[-1] == "directory/home.html" and len(rendered) == 3


def test_a_store_that_cannot_be_reached_renders_the_page(demo, app, monkeypatch):
    """Redis gone: the page is rendered as usual, never a 500."""
    def broken(*args, **kwargs):
        raise ConnectionError("Redis went away")

    monkeypatch.setattr(page_cache.cache, "get", broken)
    monkeypatch.setattr(page_cache.cache, "set", broken)
    response = app.test_client().get(SEARCH)
    assert response.status_code == 200 and "Swimming" in response.get_data(as_text=True)


def test_page_cache_settings_are_checked(app):
    """A storage address that is neither memory nor Redis is refused with a message that names the setting."""
    from local_offer.config import ConfigError

    app.config["PAGE_CACHE_URL"] = "memcached://127.0.0.1"
    with pytest.raises(ConfigError, match="PAGE_CACHE_URL"):
        page_cache._cache_config(app)
    app.config["PAGE_CACHE_URL"] = "redis://127.0.0.1:6379/3"
    assert page_cache._cache_config(app)["CACHE_REDIS_DB"] == 3


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(query=st.text(max_size=60), marker=st.sampled_from(["lo-csrf-", "lo-nonce-", "nonce", "csrf_token"]))
def test_any_query_twice_gets_the_same_answer_and_no_marker(demo, app, query, marker):
    """Whatever is asked (including the markers' own words), the kept answer equals a fresh one and shows no marker."""
    client = app.test_client()
    first = client.get("/search", query_string={"q": query + marker})
    second = app.test_client().get("/search", query_string={"q": query + marker})
    assert first.status_code == second.status_code and first.status_code in (200, 400)
    strip = lambda html: re.sub(r'(nonce="|value=")[A-Za-z0-9_.\-]{20,}"', r'\1"',
                                re.sub(r"quote this reference: [0-9a-f]{16}", "", html))  # each request's own
    assert strip(first.get_data(as_text=True)) == strip(second.get_data(as_text=True))
    assert not re.search(r"lo-(csrf|nonce)-[0-9a-f]{24}", second.get_data(as_text=True))
