"""Readable listing addresses, "Back to results", key facts and directions on a listing page.

Old ``/listings/<uuid>`` addresses and wrong names redirect (301) to the readable
one; ``back`` only ever leads to our own search page, whatever anyone puts in it.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from flask import url_for
from hypothesis import HealthCheck, example, given, settings, strategies as st

from local_offer.extensions import db
from local_offer.listings import links
from local_offer.models import Listing

from support import CHILDMINDER, SWIM, text_of

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SWIM_PATH = "/listings/otters-calm-swim-sessions-6a2b0001"


@pytest.mark.parametrize("name, slug", [
    ("Otters calm swim sessions", "otters-calm-swim-sessions"),
    ("Bright Steps Childminding (Stone)", "bright-steps-childminding-stone"),
    ("Children's Centre – Café & Play", "childrens-centre-cafe-play"),
    ("Żłobek Słoneczko", "zobek-soneczko"),
    ("!!!", "listing"),
    ("", "listing"),
    ("a" * 200, "a" * 60),
])
def test_slugs_are_short_lower_case_ascii_words(name, slug):
    assert links.slugify(name) == slug


def test_listing_links_use_the_readable_address(demo, client):
    """Result cards, the canonical link, the sitemap and JSON-LD all give /listings/<name>-<last 8 of id>."""
    results = client.get("/search?q=swim").get_data(as_text=True)
    assert f'href="{SWIM_PATH}?back=/search?q%3Dswim"' in results
    page = client.get(SWIM_PATH)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'<link rel="canonical" href="http://localhost{SWIM_PATH}">' in html or \
        re.search(rf'<link rel="canonical" href="https?://[^"]+{SWIM_PATH}">', html)
    assert SWIM not in client.get("/sitemap.xml").get_data(as_text=True)


@pytest.mark.parametrize("path", [
    f"/listings/{SWIM}",                                   # the old address
    f"/listings/{SWIM.upper()}",
    "/listings/otters-6a2b0001",                          # a wrong or shortened name
    "/listings/6a2b0001",                                 # the id part alone
    "/listings/OTTERS-CALM-SWIM-SESSIONS-6A2B0001",       # capitals
    "/listings/old-name-of-the-club-6a2b0001",
])
def test_old_and_wrong_addresses_redirect_permanently_to_the_right_one(demo, client, path):
    response = client.get(path)
    assert response.status_code == 301
    assert response.headers["Location"] == SWIM_PATH
    assert client.get(path, follow_redirects=True).status_code == 200


def test_a_redirect_keeps_a_valid_back_address_and_drops_a_hostile_one(demo, client):
    good = client.get(f"/listings/{SWIM}", query_string={"back": "/search?q=swim&day=SA&page=2"})
    assert good.status_code == 301
    assert good.headers["Location"] == SWIM_PATH + "?back=" + quote("/search?q=swim&day=SA&page=2", safe="/?")
    bad = client.get(f"/listings/{SWIM}", query_string={"back": "https://evil.example/search?q=x"})
    assert bad.headers["Location"] == SWIM_PATH


def test_two_listings_whose_ids_end_alike_are_told_apart_by_name(demo, client):
    """The name part picks between listings that share the last 8 characters of their ids."""
    swim = db.session.get(Listing, SWIM)
    twin = Listing(id="0" * 8 + SWIM[8:], organisation_id=swim.organisation_id, name="Kestrels trampoline",
                   summary="Bouncing.", status=swim.status, kind=swim.kind, level=swim.level)
    db.session.add(twin)
    db.session.commit()
    assert links.listing_ref(twin) == "kestrels-trampoline-6a2b0001"
    assert "Kestrels trampoline" in text_of(client.get("/listings/kestrels-trampoline-6a2b0001"))
    assert "Otters calm swim sessions" in text_of(client.get(SWIM_PATH))


@pytest.mark.parametrize("path", ["/listings/otters-calm-swim-sessions-6a2bffff", "/listings/not-a-listing",
                                  "/listings/-6a2b0001x", "/listings/6a2b000", "/listings/%00-6a2b0001"])
def test_unknown_addresses_are_404(demo, client, path):
    assert client.get(path).status_code == 404


@SETTINGS
@given(ref=st.text(min_size=1, max_size=80).filter(lambda text: "/" not in text and text not in (".", "..")))
@example(ref="x-6a2b0001'; DROP TABLE listing;--")
@example(ref="%")
@example(ref="_" * 8)
def test_any_listing_address_gets_a_page_a_redirect_or_a_404(demo, client, ref):
    response = client.get("/listings/" + quote(ref, safe=""))
    assert response.status_code in (200, 301, 404)
    if response.status_code == 301:
        assert response.headers["Location"].startswith("/listings/")


# --- "Back to results" ----------------------------------------------------------------------------

HOSTILE = [
    "https://evil.example/search?q=x", "//evil.example/search?q=x", "///evil.example/search",
    "/\\evil.example/search", "\\\\evil.example", "javascript:alert(1)", "JaVaScRiPt:alert(1)//search",
    " /search?q=x", "/search?q=x#https://evil.example", "/search/../admin/", "/searchx?q=1", "/search/x",
    "/admin/?q=1", "search?q=x", "/search\t?q=x", "/search?q=%0d%0aSet-Cookie:x", "/search\r\n?q=x",
    "data:text/html,<script>alert(1)</script>", "http:/search", "/search?" + "a=1&" * 600,
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_back_values_never_make_an_off_site_link(app, value):
    with app.test_request_context():
        safe = links.safe_back(value)
        assert safe is None or _is_our_search(safe)


@SETTINGS
@given(value=st.one_of(st.text(max_size=300),
                       st.builds(lambda a, b: a + b, st.sampled_from(["/search", "/search?", "//", "http://", "/\\",
                                                                      "javascript:", "/search?q="]),
                                 st.text(max_size=200))))
def test_any_back_value_is_our_search_page_or_nothing(app, value):
    with app.test_request_context():
        safe = links.safe_back(value)
        assert safe is None or _is_our_search(safe)


@SETTINGS
@given(pairs=st.lists(st.tuples(st.sampled_from(["q", "where", "day", "need", "free", "page", "sort"]),
                                st.text(min_size=1, max_size=30)), max_size=6))
def test_a_real_results_address_comes_back_unchanged(app, pairs):
    """What the results page itself puts in ``back`` returns the same words, filters and page."""
    with app.test_request_context():
        address = url_for("directory.search") + "?" + "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in pairs)
        safe = links.safe_back(address)
        assert safe is not None and _is_our_search(safe)
        assert parse_qsl(urlsplit(safe).query) == [(k, v) for k, v in pairs]


def _is_our_search(address: str) -> bool:
    parts = urlsplit(address)
    return (not parts.scheme and not parts.netloc and parts.path == "/search" and address.startswith("/search")
            and not any(ch in address for ch in "\\\r\n\t <>\"'"))


@SETTINGS
@given(value=st.sampled_from(HOSTILE) | st.text(max_size=120))
def test_the_listing_page_never_links_back_anywhere_but_our_search(demo, client, value):
    response = client.get(SWIM_PATH, query_string={"back": value})
    html = response.get_data(as_text=True)
    if response.status_code != 200:  # a NUL byte, or an address over the length limit, is refused as a whole
        assert response.status_code in (400, 414) and "govuk-back-link" not in html
        return
    back = re.search(r'<a href="([^"]*)" class="govuk-back-link', html)
    if back:
        assert _is_our_search(back.group(1).replace("&amp;", "&"))
    else:
        assert "govuk-breadcrumbs" in html  # no back address: the breadcrumbs as before


def test_back_to_results_returns_to_the_same_results(demo, client):
    results = client.get("/search?q=swim&day=SA&page=1").get_data(as_text=True)
    link = re.search(r'href="(/listings/otters-calm-swim-sessions-6a2b0001\?back=[^"]+)"', results).group(1)
    html = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    back = re.search(r'<a href="([^"]*)" class="govuk-back-link', html).group(1).replace("&amp;", "&")
    assert back == "/search?q=swim&day=SA&page=1"
    assert "Back to results" in html and "govuk-breadcrumbs" not in html


# --- Key facts and directions -----------------------------------------------------------------------

def test_key_facts_come_before_the_description_with_tap_to_call(demo, client):
    swim = db.session.get(Listing, SWIM)
    html = client.get(SWIM_PATH).get_data(as_text=True)
    facts = html[html.index('class="lo-key-facts"'):html.index("</section>", html.index('class="lo-key-facts"'))]
    assert html.index('class="lo-key-facts"') < html.index("lo-prose") < html.index("Who it is for")
    for label in ("Who for", "When", "Where", "Cost", "Contact"):
        assert f"<dt>{label}</dt>" in facts
    assert f'href="tel:{swim.phone.replace(" ", "")}"' in facts
    if swim.email:
        assert f'href="mailto:{swim.email}"' in facts
    assert "Ages " in facts and "Saturday" in text_of(client.get(SWIM_PATH))


def test_key_facts_say_how_far_when_the_parent_searched_near_a_place(demo, client):
    plain = client.get(SWIM_PATH).get_data(as_text=True)
    assert "miles from" not in plain and "mile from" not in plain
    near = client.get(SWIM_PATH, query_string={"back": "/search?q=swim&lat=53.0&lng=-2.0"})
    assert re.search(r"\d+(\.\d)? miles? from your location", text_of(near))
    outside = client.get(SWIM_PATH, query_string={"back": "/search?q=swim&lat=48.0&lng=-2.0"})
    assert "from your location" not in text_of(outside)


def test_a_venue_has_a_directions_link_a_masked_home_does_not(demo, client):
    html = client.get(SWIM_PATH).get_data(as_text=True)
    link = re.search(r'href="(https://www\.google\.com/maps/dir/\?api=1&amp;destination=[^"]+)"[^>]*>([^<]+)<', html)
    assert link and "53.11137,-2.00925" in link.group(1)
    assert "(another website)" in link.group(2)
    childminder = client.get(f"/listings/{CHILDMINDER}", follow_redirects=True).get_data(as_text=True)
    assert "google.com/maps/dir" not in childminder


def test_search_page_folds_filters_behind_one_control_and_shows_chosen_ones_as_tags(demo, client):
    html = client.get("/search?q=swimming+on+saturdays&delivery=venue&need=autism").get_data(as_text=True)
    panel = re.search(r'<details class="govuk-details lo-filter-panel" id="filters"( open)?>', html)
    assert panel and not panel.group(1)  # folded: the results come first
    assert "Filters (2 chosen)" in text_of(client.get("/search?q=swimming+on+saturdays&delivery=venue&need=autism"))
    assert html.index("lo-filter-panel") < html.index('id="results-heading"') < html.index("govuk-list lo-results")
    assert html.index("Taken from your words") < html.index("Filters in use") < html.index('class="lo-result"')
    # Each tag is a plain link to the same search without it.
    assert 'href="/search?q=swimming+on+saturdays&amp;need=autism"' in html and 'href="/search?q=swimming+on+saturdays&amp;delivery=venue"' in html
