"""WCAG 2.2 AA in Chromium on every kind of page, public and staff, left to right and right to left.

* axe-core (WCAG 2.0-2.2 A and AA rules, target-size among them) finds nothing on every page type,
  its error states included; the public and provider pages again in Arabic (dir="rtl").
* Arabic pages read from the right: the header and the main heading start at the right edge.
* Reflow (WCAG 1.4.10): no sideways scrolling at 320 CSS px, nor at 1280 px zoomed to 400 %.
* Target size (WCAG 2.5.8): every visible button and form control in the main content is at
  least 24 x 24 CSS px, or far enough from the others.

Keyboard-only journeys are in test_browser_accessibility_keyboard.py.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from local_offer import users
from local_offer.extensions import db
from local_offer.listings import workflow
from local_offer.listings.data import listing_data
from local_offer.models import Listing, User

from support import SWIM
from test_browser import axe_violations, browser, browser_sign_in, live_server, live_site  # noqa: F401

pytestmark = pytest.mark.browser

PROVIDER = "provider@demo.example.org"
COORDINATOR = "coordinator@demo.example.gov.uk"
ADMIN = "admin@demo.example.gov.uk"
DESKTOP = {"width": 1024, "height": 800}
#: A long web address with no place to break, as providers paste them.
LONG_URL = ("https://www.moorlands-leisure-and-wellbeing-trust.example.org.uk/activities/swimming/"
            "calm-sessions-for-children-and-young-people-with-additional-needs-and-their-families"
            "?utm_source=local-offer&utm_medium=directory&utm_campaign=autumn-term")


def open_page(browser, base: str, lang: str = "en", viewport=None, scale: float = 1,  # noqa: F811
              email: str | None = None):
    """A fresh page (axe injected past the CSP), signed in if asked, showing the site in ``lang``."""
    context = browser.new_context(bypass_csp=True, viewport=viewport or DESKTOP, device_scale_factor=scale)
    page = context.new_page()
    if email:
        browser_sign_in(page, base, email)
    context.add_cookies([{"name": "lo_lang", "value": lang, "url": base}])
    return page


# --- what the pages need in the database -----------------------------------------------------------


def _provider(email: str = PROVIDER) -> User:
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def change_waiting(site) -> str:
    """The Otters' provider has changed the listing's name and sent it for checking: return the change's id."""
    with site.app.app_context():
        listing, provider = db.session.get(Listing, SWIM), _provider()
        revision = workflow.begin_change(listing, provider)
        data = dict(revision.data)
        data["name"] = "Otters quiet swim sessions"
        revision = workflow.save_section(listing, revision, "about", data, provider)
        workflow.submit(listing, revision, "New name", provider)
        revision_id = str(revision.id)
        db.session.remove()
    return revision_id


def long_address_in_listing(site) -> None:
    """The Otters' live listing gives a long unbroken web address, as its website and in its description."""
    with site.app.app_context(), site.app.test_request_context():
        listing = db.session.get(Listing, SWIM)
        data = listing_data(listing)
        data["website"] = LONG_URL
        data["description"] = f"{data['description']}\n\nBook at {LONG_URL}"
        workflow.publish(listing, data, actor=None, action="listing.updated")
        db.session.remove()


def two_factor_on(site, email: str) -> None:
    with site.app.app_context(), site.app.test_request_context():
        users.turn_on_two_factor(_provider(email), users.new_totp_secret())
        db.session.remove()


# --- every page type --------------------------------------------------------------------------------


def submit(page) -> None:
    """Send the page's main form as it is (the first submit button in the main content)."""
    page.locator("main form button[type=submit], main form input[type=submit]").first.click()
    page.wait_for_load_state()


def visit_shortlist(page, base, site):
    page.goto(f"{base}/listings/{SWIM}")
    page.locator("button.lo-save__button").first.click()
    expect(page.locator("[data-shortlist-count]")).to_have_text("1")
    page.goto(f"{base}/shortlist")
    expect(page.locator(".lo-shortlist__title a")).to_have_count(1)


def visit_easy_read(page, base, site):
    response = page.goto(f"{base}/information/short-breaks/easy-read")
    if response.status == 404:
        pytest.skip("the Easy Read page is not built yet")


def visit_error(path: str, check: str):
    """Open a form and send it empty: its error summary."""
    def visit(page, base, site):
        page.goto(base + path)
        submit(page)
        expect(page.locator(".govuk-error-summary")).to_be_visible()
        expect(page.locator(check)).not_to_have_count(0)
    return visit


def visit_question(page, base, site):
    page.goto(f"{base}/have-your-say")
    page.goto(base + page.locator("main a[href^='/have-your-say/']").first.get_attribute("href"))
    page.goto(base + page.locator("a.govuk-button--start").get_attribute("href"))
    expect(page.locator("main fieldset, main textarea").first).to_be_visible()


def visit_sign_in_code(error: bool):
    def visit(page, base, site):
        two_factor_on(site, PROVIDER)
        language = [cookie for cookie in page.context.cookies() if cookie["name"] == "lo_lang"]
        page.context.clear_cookies()
        page.context.add_cookies(language)
        page.goto(f"{base}/account/sign-in")  # in the page's language: find the boxes by name
        page.locator("input[name=email]").fill(PROVIDER)
        page.locator("input[name=password]").fill("local-offer-demo")
        submit(page)
        assert page.url.endswith("/account/sign-in/code"), page.url
        if error:
            page.locator("input[name=code]").fill("000000")
            submit(page)
            expect(page.locator(".govuk-error-summary")).to_be_visible()
    return visit


def visit_portal_edit_error(page, base, site):
    page.goto(f"{base}/portal/listings/{SWIM}/sections/about")
    page.locator("input[name=name]").fill("")
    page.locator("main [name=save]").click()
    page.wait_for_load_state()
    expect(page.locator(".govuk-error-summary")).to_be_visible()


def go(path: str):
    return lambda page, base, site: page.goto(base + path)


def go_change(suffix: str = ""):
    return lambda page, base, site: page.goto(f"{base}/moderation/changes/{change_waiting(site)}{suffix}")


#: Public pages: name -> how to get there.
PUBLIC = {
    "home": go("/"),
    "results-with-a-filter": go("/search?q=swimming&day=SA"),
    "listing": go(f"/listings/{SWIM}"),
    "shortlist-with-one": visit_shortlist,
    "whats-on": go("/whats-on"),
    "information-page": go("/information/ehc-needs-assessment"),
    "easy-read": visit_easy_read,
    "glossary": go("/information/glossary"),
    "feedback": go("/feedback"),
    "feedback-errors": visit_error("/feedback", ".govuk-error-message"),
    "have-your-say": go("/have-your-say"),
    "consultation-question": visit_question,
    "you-said-we-did": go("/you-said-we-did"),
    "sign-in": go("/account/sign-in"),
    "sign-in-errors": visit_error("/account/sign-in", ".govuk-error-message"),
    "sign-in-code": visit_sign_in_code(error=False),
    "sign-in-code-errors": visit_sign_in_code(error=True),
}
#: The provider portal, signed in as the Otters' provider.
PORTAL = {
    "portal-dashboard": go("/portal/"),
    "portal-listing": go(f"/portal/listings/{SWIM}"),
    "portal-edit-form": go(f"/portal/listings/{SWIM}/sections/about"),
    "portal-edit-errors": visit_portal_edit_error,
}
#: Coordinators' and administrators' pages (always in English).
STAFF = {
    "moderation-queue": lambda page, base, site: (
        change_waiting(site), page.goto(f"{base}/moderation/"),
        expect(page.get_by_role("link", name="Otters quiet swim sessions", exact=True)).to_be_visible()),
    "moderation-change": go_change(),
    "moderation-preview": go_change("/preview"),
    "reviews": go("/admin/reviews"),
    "feedback-report": go("/coordinators/feedback/report"),
    "demand-report": go("/coordinators/demand"),
    "feedback-queue": go("/coordinators/feedback/"),
    "admin-index": go("/admin/"),
}


#: Buttons and form controls in the main content that are under 24 x 24 CSS px and too close to another.
SMALL_TARGETS = """() => {
  const seen = e => { const r = e.getBoundingClientRect(), s = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden'
           && !e.closest('[hidden], .govuk-visually-hidden'); };
  const targets = [...document.querySelectorAll(
      'main button, main input:not([type=hidden]), main select, main textarea, main summary, main [role=button]')]
    .filter(seen).map(e => ({e, r: e.getBoundingClientRect()}));
  const near = (a, b) => {  // WCAG 2.5.8 spacing: a 24 px circle on each small target's centre touches nothing
    const ax = a.r.left + a.r.width / 2, ay = a.r.top + a.r.height / 2;
    const dx = Math.max(b.r.left - ax, 0, ax - b.r.right), dy = Math.max(b.r.top - ay, 0, ay - b.r.bottom);
    return Math.hypot(dx, dy) < 12 + ((b.r.width < 24 || b.r.height < 24) ? 12 : 0);
  };
  return targets.filter(a => (a.r.width < 23.95 || a.r.height < 23.95)
                        && targets.some(b => b !== a && !a.e.contains(b.e) && !b.e.contains(a.e) && near(a, b)))
    .map(a => `${a.e.outerHTML.slice(0, 80)} ${Math.round(a.r.width)}x${Math.round(a.r.height)}`);
}"""


def arrived(page, name: str) -> None:
    """The visit reached its page: 200, or an error state (4xx) for the "-errors" ones, never a missing page."""
    status = page.evaluate("performance.getEntriesByType('navigation')[0].responseStatus")
    assert status in ((400, 401, 422) if name.endswith("-errors") else (200,)), f"{name}: {page.url} gave {status}"


def check_page(page) -> None:
    """axe finds nothing; no button or control is a small target; no sideways scrolling."""
    assert axe_violations(page) == [], page.url
    assert page.evaluate(SMALL_TARGETS) == [], page.url
    assert scrolls_sideways(page) is False, (page.url, page.evaluate(WIDE))


def scrolls_sideways(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth + 1")


#: The innermost elements that stick out of the window on either side (a right-to-left page overflows to the left).
WIDE = """() => { const width = document.documentElement.clientWidth;
  const out = [...document.querySelectorAll('body *')].filter(e => { const r = e.getBoundingClientRect();
    return r.width > 0 && (r.right > width + 1 || r.left < -1) && !e.closest('.lo-honeypot'); });
  return out.filter(e => !out.some(o => o !== e && e.contains(o))).slice(0, 5).map(e => e.outerHTML.slice(0, 120)); }"""


@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize("name", list(PUBLIC))
def test_public_pages_pass_axe(live_site, live_server, browser, name, lang):  # noqa: F811
    page = open_page(browser, live_server, lang)
    PUBLIC[name](page, live_server, live_site[0])
    arrived(page, name)
    assert page.evaluate("document.documentElement.dir") == ("rtl" if lang == "ar" else "ltr")
    check_page(page)
    page.context.close()


@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize("name", list(PORTAL))
def test_provider_portal_pages_pass_axe(live_site, live_server, browser, name, lang):  # noqa: F811
    page = open_page(browser, live_server, lang, email=PROVIDER)
    PORTAL[name](page, live_server, live_site[0])
    arrived(page, name)
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == (
        ["ar", "rtl"] if lang == "ar" else ["en", "ltr"])
    check_page(page)
    page.context.close()


@pytest.mark.parametrize("name", list(STAFF))
def test_staff_pages_pass_axe(live_site, live_server, browser, name):  # noqa: F811
    page = open_page(browser, live_server, "ar", email=ADMIN if name == "admin-index" else COORDINATOR)
    STAFF[name](page, live_server, live_site[0])
    arrived(page, name)
    assert page.evaluate("document.documentElement.lang") == "en", "coordinators' pages are always in English"
    assert page.locator(".govuk-error-summary").count() == 0
    check_page(page)
    page.context.close()


def open_map(browser, base: str, lang: str, width: int):  # noqa: F811
    page = open_page(browser, base, lang, viewport={"width": width, "height": 800})
    page.goto(f"{base}/search?q=swimming&where=Leek")
    page.locator(".lo-map-toggle").click()
    page.locator("#results-map .leaflet-marker-icon").first.wait_for()
    return page


@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize("width", [1024, 320])
def test_the_results_map_has_a_text_alternative(live_server, browser, lang, width):  # noqa: F811
    """The open map is a labelled region, every pin's places are in the text list (with the same links), and
    axe finds nothing else wrong on the page (target size: the next test)."""
    page = open_map(browser, live_server, lang, width)
    region = page.locator("#results-map")
    assert region.get_attribute("role") == "region" and region.get_attribute("aria-label")
    listed = set(page.locator(".lo-result[data-lat]").evaluate_all("rs => rs.map(r => r.dataset.name)"))
    pinned = page.locator("#results-map .leaflet-marker-icon").evaluate_all(
        "ms => ms.flatMap(m => m.title.split('; ').map(t => t.replace(/^\\d+\\. /, '')))")
    assert pinned and set(pinned) <= listed, "a pin shows a place the text list does not"
    assert page.locator(".lo-result").count() >= len(set(pinned))  # the list stays with the map open
    assert [v for v in axe_violations(page) if not v.startswith("target-size:")] == []
    assert scrolls_sideways(page) is False
    page.context.close()


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "Not yet compliant (WCAG 2.5.8 Target Size): on the results map, pins for places close together overlap, "
    "so axe's target-size rule fails; every pin's links are also in the text list beside the map (the "
    "'equivalent' exception), but the pins themselves need grouping when they touch."))
@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize("width", [1024, 320])
def test_the_results_map_passes_axe_whole(live_server, browser, lang, width):  # noqa: F811
    """With the map open, axe checks the whole page, the map included, target size too."""
    page = open_map(browser, live_server, lang, width)
    try:
        check_page(page)
    finally:
        page.context.close()


# --- right to left ----------------------------------------------------------------------------------


#: Where an element starts and ends on the screen, and its words (a heading's box spans its column).  A heading
#: in English inside an Arabic page (a listing's name) is marked dir="ltr" and its words start at its left.
EDGES = """(selector) => {
  const element = document.querySelector(selector), range = document.createRange();
  range.selectNodeContents(element);
  const box = element.getBoundingClientRect(), words = range.getBoundingClientRect();
  return {left: box.left, right: box.right, words_left: words.left, words_right: words.right,
          own_direction: element.closest('[dir]').dir, width: document.documentElement.clientWidth};
}"""


@pytest.mark.parametrize("path", ["/", f"/listings/{SWIM}", "/information/ehc-needs-assessment", "/feedback"])
def test_arabic_pages_read_from_the_right(live_server, browser, path):  # noqa: F811
    """In Arabic the header and the main heading start at the right edge; in English, at the left."""
    for lang in ("ar", "en"):
        page = open_page(browser, live_server, lang)
        page.goto(live_server + path)
        assert page.evaluate("document.documentElement.dir") == ("rtl" if lang == "ar" else "ltr")
        for selector in (".lo-header__council", "main h1"):
            edges = page.evaluate(EDGES, selector)
            if lang == "ar":
                assert edges["right"] >= edges["width"] - 48, f"{selector} does not start at the right: {edges}"
                if edges["own_direction"] == "rtl":
                    assert edges["words_right"] >= edges["width"] - 48 and edges["words_left"] > 48, edges
            else:
                assert edges["left"] <= 48 and edges["words_left"] <= 48, f"{selector} is not at the left: {edges}"
        page.context.close()


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_a_long_web_address_does_not_widen_the_page(live_site, live_server, browser, lang):  # noqa: F811
    long_address_in_listing(live_site[0])
    page = open_page(browser, live_server, lang, viewport={"width": 320, "height": 640})
    page.goto(f"{live_server}/listings/{SWIM}")
    expect(page.locator("main")).to_contain_text("calm-sessions-for-children")
    assert scrolls_sideways(page) is False, f"a long web address makes the page scroll sideways: {page.evaluate(WIDE)}"
    page.context.close()


# --- reflow -----------------------------------------------------------------------------------------

REFLOW = {
    "home": go("/"),
    "results": go("/search?q=swimming&day=SA"),
    "listing": go(f"/listings/{SWIM}"),
    "information-page": go("/information/ehc-needs-assessment"),
    "easy-read": visit_easy_read,
    "feedback": go("/feedback"),
    "feedback-errors": PUBLIC["feedback-errors"],
    "portal-edit-form": go(f"/portal/listings/{SWIM}/sections/about"),
}


@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize("zoom", ["320px", "1280px-at-400%"])
@pytest.mark.parametrize("name", list(REFLOW))
def test_pages_reflow_at_320_css_pixels(live_site, live_server, browser, name, zoom, lang):  # noqa: F811
    """No sideways scrolling at 320 CSS px wide: a 320px window, or 1280 x 1024 zoomed to 400 %
    (which Chromium lays out as 320 x 256 CSS px at 4 device pixels each)."""
    viewport, scale = ({"width": 320, "height": 640}, 1) if zoom == "320px" else ({"width": 320, "height": 256}, 4)
    page = open_page(browser, live_server, lang, viewport=viewport, scale=scale,
                     email=PROVIDER if name.startswith("portal") else None)
    REFLOW[name](page, live_server, live_site[0])
    assert page.evaluate("window.innerWidth") == 320
    assert scrolls_sideways(page) is False, page.evaluate(WIDE)
    page.context.close()
