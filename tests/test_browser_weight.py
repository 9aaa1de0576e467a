"""Real-browser checks of page weight: Leaflet only once the map is opened; a results page's bytes on the wire.

Sizes are what Chromium's network log reports as transferred (encoded, headers
included), as ``bench/page_weight.py`` measures them; these tests assert the
targets, they never time anything.
"""

from __future__ import annotations

import sys

import pytest

from local_offer.config import PROJECT_ROOT

from test_browser import browser, live_server, live_site, page  # noqa: F401  (fixtures shared with test_browser)

sys.path.insert(0, str(PROJECT_ROOT / "bench"))
import page_weight  # noqa: E402  (the bench's own measuring code, so the test and the bench agree)

pytestmark = pytest.mark.browser


def test_leaflet_loads_only_when_the_map_is_opened(live_server, page):  # noqa: F811
    """A results page asks for no Leaflet file until the map is opened; then it loads and the map shows."""
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server}/search?q=swimming&where=Leek")
    page.wait_for_load_state("networkidle")
    assert not [url for url in requested if "leaflet" in url]
    assert not page.evaluate("() => !!window.L")
    page.get_by_role("button", name="Show results on a map").click()
    page.locator("#results-map .leaflet-marker-icon").first.wait_for()
    leaflet = [url for url in requested if "leaflet" in url]
    assert any("/leaflet.js?v=" in url for url in leaflet) and any("/leaflet.css?v=" in url for url in leaflet)
    assert page.locator("#results-map").is_visible()
    assert page.locator(".lo-results .lo-result").count() > 0  # the text list stays
    # Hiding and showing again draws nothing twice and fetches nothing again.
    page.get_by_role("button", name="Hide the map").click()
    page.get_by_role("button", name="Show results on a map").click()
    assert page.locator("#results-map .leaflet-container").count() <= 1
    assert len([url for url in requested if "leaflet.js" in url]) == 1
    assert page.js_errors == []


def test_a_results_page_of_20_is_light_first_time_and_lighter_again(live_server, browser):  # noqa: F811
    """A results page with 20 results transfers at most 100 KB on a first visit and 20 KB on a repeat visit."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    address = live_server + page_weight.RESULTS_PAGE
    first, first_rows = page_weight.visit(context, address)
    tab = context.new_page()
    tab.goto(address)
    assert tab.locator(".lo-results .lo-result").count() == 20
    tab.close()
    repeat, repeat_rows = page_weight.visit(context, address)
    context.close()
    assert len(first_rows) >= 5  # the page, its styles and scripts were all counted
    assert first <= page_weight.FIRST_LIMIT, first_rows
    assert repeat <= page_weight.REPEAT_LIMIT, repeat_rows
    assert not [url for url, _ in first_rows if "leaflet" in url]
    # Again, only the page itself comes over the wire: every style, script and icon is kept in the cache.
    assert [url for url, size in repeat_rows if size] == [address], repeat_rows
