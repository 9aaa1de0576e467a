"""Real-browser checks: Debian's Chromium, driven by Playwright, with axe-core for WCAG 2.2 AA.

These run once (against SQLite) on a live server in a thread.  They never
skip quietly: if Chromium or axe-core is missing the tests fail and say why.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from local_offer import jobs
from local_offer.config import PROJECT_ROOT
from local_offer.extensions import db
from local_offer.models import JobOutcome, ScheduledJob

from sites import load_directory, shared_app
from support import CHILDMINDER, SWIM

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
#: axe rule tags for WCAG 2.0, 2.1 and 2.2 at levels A and AA.
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="module")
def live_site(tmp_path_factory, directory_site):
    """Serve the whole demo directory, from a SQLite copy of its own, on a free local port for the module."""
    folder = tmp_path_factory.mktemp("browser")
    # The directory's pristine snapshot on SQLite is a whole database: copy it rather than build again.
    pristine = directory_site.pristine if directory_site.database.is_sqlite else None
    with shared_app(folder, "browser", sqlite=True, copy_of=pristine and pristine.rows.path) as site:
        if pristine is None:
            with site.app.app_context():
                load_directory()
            pristine = site.save("pristine", folder)
        site.pristine = pristine
        server = make_server("127.0.0.1", 0, site.app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield site, f"http://127.0.0.1:{server.server_port}"
        server.shutdown()


@pytest.fixture
def live_server(live_site):
    """Return the live site's address, its demo content as built: what a test changes, the next never sees."""
    site, address = live_site
    site.reset_to(site.pristine)
    return address


@pytest.fixture(scope="module")
def browser():
    """Launch Debian's Chromium through Playwright, failing loudly when it is missing."""
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: run `make test`, which installs it"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


#: A phone's screen, for the tests that use a browser as a parent on a bus would.
PHONE = {"width": 390, "height": 844}


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def phone(request, browser):
    """A fresh 390 x 844 page, with JavaScript on or off; axe is injected past the CSP."""
    context = browser.new_context(java_script_enabled=request.param, bypass_csp=True, viewport=PHONE)
    page = context.new_page()
    page.javascript = request.param
    yield page
    context.close()


@pytest.fixture
def page(browser):
    """Open a fresh page; axe is injected past CSP, which otherwise (rightly) blocks it."""
    context = browser.new_context(bypass_csp=True, viewport={"width": 1024, "height": 800})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # The browser logs the error page's own 404 as a console error; count failed
    # sub-resources (styles, scripts, icons) from responses instead.
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource") else None)
    page.on("response", lambda response: errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and response.request.resource_type != "document" else None)
    page.js_errors = errors
    yield page
    context.close()


PHONE_SHOTS = Path("/tmp/phone-shots")


def shot(page, name: str, full: bool = False) -> None:
    """Keep a screenshot of a phone page to look at, named for with or without JavaScript."""
    PHONE_SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(PHONE_SHOTS / f"{name}-{'js' if page.javascript else 'nojs'}.png"), full_page=full)


def axe_violations(page, context="document", disable=()) -> list[str]:
    """Run axe-core on the page (or a part of it) and describe each WCAG A/AA violation."""
    assert AXE.is_file(), "axe-core is missing: run `npm ci` (make test does)"
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(path=str(AXE))
    rules = {rule: {"enabled": False} for rule in disable}
    result = page.evaluate(
        f"async ([tags, rules]) => await axe.run({context}, {{runOnly: {{type: 'tag', values: tags}}, rules}})",
        [WCAG_AA, rules],
    )
    return [
        f"{violation['id']}: {violation['help']} ({len(violation['nodes'])} nodes, e.g. "
        f"{violation['nodes'][0]['target']})"
        for violation in result["violations"]
    ]


@pytest.mark.parametrize(
    "path",
    ["/", "/categories/activities", f"/listings/{SWIM}", f"/listings/{CHILDMINDER}",
     "/search?q=swim", "/search?q=autism+swimming&where=Leek&day=SA&free=1", "/search?q=autsim",
     "/search?q=swim&page=0", "/information/ehc-needs-assessment", "/no-such-page",
     "/account/sign-in", "/account/join", "/account/forgot-password", "/feedback", "/feedback/young-people",
     f"/feedback?listing={SWIM}", "/you-said-we-did", "/you-said-we-did?topic=content&page=2",
     "/whats-on", "/whats-on?when=weekend&age=9&free=1", "/whats-on?when=holidays", "/whats-on?when=never"],
)
def test_pages_have_no_axe_violations(live_server, page, path):
    """Home, category, listing, results, information and error pages pass axe's WCAG 2.2 AA rules."""
    page.goto(live_server + path)
    assert axe_violations(page) == []
    assert page.js_errors == []


def test_pages_pass_axe_in_polish_and_on_a_phone(live_server, browser):
    """The Polish pages on a small screen pass axe too."""
    context = browser.new_context(bypass_csp=True, viewport={"width": 360, "height": 740},
                                  locale="pl-PL", extra_http_headers={"Accept-Language": "pl"})
    page = context.new_page()
    page.goto(f"{live_server}/listings/{SWIM}")
    assert page.locator("html").get_attribute("lang") == "pl"
    assert axe_violations(page) == []
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 360, "the page scrolls sideways on a phone"
    context.close()


def test_csp_lets_our_scripts_run_and_govuk_frontend_initialise(live_server, browser):
    """Under the real CSP, the nonce'd inline script and GOV.UK Frontend's module both run."""
    context = browser.new_context(viewport={"width": 1024, "height": 800})
    page = context.new_page()
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(f"{live_server}/listings/{SWIM}")
    page.wait_for_load_state("networkidle")
    assert "js-enabled" in page.locator("body").get_attribute("class")
    assert page.locator(".lo-print-button").is_visible()  # shown by our module
    assert violations == []
    context.close()


def test_search_from_the_home_page_with_the_keyboard(live_server, page):
    """A person can tab to the search box, type and press Enter to see results."""
    page.goto(live_server + "/")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to main content"
    page.get_by_label("What are you looking for?").fill("calm swim")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=calm+swim*")
    assert page.get_by_role("link", name="Otters calm swim sessions").is_visible()


def test_results_map_is_an_enhancement_with_keyboard_markers(live_server, page):
    """The map shows the same results as numbered markers a keyboard can reach; the list stays."""
    page.goto(f"{live_server}/search?q=swimming&where=Leek")
    listed = page.locator(".lo-result[data-lat]").count()
    assert listed > 0
    page.get_by_role("button", name="Show results on a map").click()
    toggle = page.locator(".lo-map-toggle")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert toggle.inner_text() == "Hide the map"
    markers = page.locator("#results-map .leaflet-marker-icon")
    markers.first.wait_for()
    places = page.evaluate("() => new Set([...document.querySelectorAll('.lo-result[data-lat]')]"
                           ".map(r => r.dataset.lat + ',' + r.dataset.lng)).size")
    assert markers.count() == places
    assert markers.first.get_attribute("tabindex") == "0"
    markers.first.focus()
    page.keyboard.press("Enter")
    page.locator("#results-map .leaflet-popup a.govuk-link").wait_for()
    assert page.locator(".lo-results .lo-result").count() >= listed  # the text list is still there
    assert axe_violations(page, "{exclude: [['#results-map']]}") == []
    # Pins close together may be small targets; WCAG 2.5.8's "equivalent" exception applies,
    # as every pin's links are also in the text list. Every other rule applies to the map.
    assert axe_violations(page, "'#results-map'", disable=["target-size"]) == []


def test_search_and_filters_work_without_javascript(live_server, browser):
    """With JavaScript off, searching, filtering and paging still work."""
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1024, "height": 800})
    page = context.new_page()
    page.goto(f"{live_server}/search?q=swimming")
    page.locator(".govuk-details__summary-text").get_by_text("Day", exact=True).click()
    page.get_by_label("Saturday").check()
    page.get_by_role("button", name="Apply filters").click()
    assert "day=SA" in page.url
    assert page.get_by_role("link", name="Otters calm swim sessions").is_visible()
    assert page.get_by_role("button", name="Show results on a map").is_hidden()
    context.close()


def test_language_switcher_changes_and_remembers_the_language(live_server, page):
    """Choosing Polski shows the same page in Polish, and the choice sticks."""
    page.goto(f"{live_server}/categories/")
    page.get_by_role("link", name="Polski").click()
    page.wait_for_url("**/categories/")
    assert page.locator("html").get_attribute("lang") == "pl"
    page.goto(live_server + "/")
    assert page.locator("html").get_attribute("lang") == "pl"


def test_axe_check_catches_a_real_violation(live_server, page):
    """The accessibility check is live: an image without alt text is reported."""
    page.goto(live_server + "/")
    page.evaluate("""() => {
        const image = document.createElement('img');
        image.src = '/favicon.svg';
        document.querySelector('main').appendChild(image);
    }""")
    assert any(violation.startswith("image-alt") for violation in axe_violations(page))


def browser_sign_in(page, base: str, email: str) -> None:
    """Sign in through the real form with a demo account."""
    page.goto(f"{base}/account/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("textbox", name="Password").fill("local-offer-demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_provider_portal_and_moderation_in_a_real_browser(live_server, browser):
    """A provider edits a live listing and sends it; the coordinator approves it; a parent sees it. axe on each page."""
    provider = browser.new_context(bypass_csp=True, viewport={"width": 1024, "height": 800}).new_page()
    browser_sign_in(provider, live_server, "provider@demo.example.org")
    provider.goto(f"{live_server}/portal/")
    assert provider.get_by_role("heading", name="Your listings").is_visible()
    assert axe_violations(provider) == []
    provider.get_by_role("link", name="Otters calm swim sessions").click()
    expect(provider.get_by_role("link", name="About the listing")).to_be_visible()
    assert axe_violations(provider) == []
    provider.get_by_role("link", name="About the listing").click()
    # An empty name: the error summary takes focus and links to the field.
    provider.get_by_label("Listing name", exact=True).fill("")
    provider.get_by_role("button", name="Save and continue").click()
    summary = provider.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the name of the listing")
    assert provider.evaluate("() => document.activeElement.classList.contains('govuk-error-summary')")
    assert axe_violations(provider) == []
    provider.get_by_label("Listing name", exact=True).fill("Moorlands Otters Kingfisher Sessions")
    provider.get_by_role("button", name="Save and continue").click()
    expect(provider.locator("body")).to_contain_text("What you have changed")  # waits for the next page
    provider.get_by_role("button", name="Send for checking").click()
    expect(provider.locator("body")).to_contain_text("Sent for checking")  # waits for the next page
    assert axe_violations(provider) == []

    coordinator = browser.new_context(bypass_csp=True, viewport={"width": 1024, "height": 800}).new_page()
    browser_sign_in(coordinator, live_server, "coordinator@demo.example.gov.uk")
    coordinator.goto(f"{live_server}/moderation/")
    assert axe_violations(coordinator) == []
    coordinator.get_by_role("link", name="Moorlands Otters Kingfisher Sessions", exact=True).click()
    expect(coordinator.get_by_role("button", name="Approve and publish")).to_be_visible()
    expect(coordinator.locator("h1")).to_have_text("Moorlands Otters Kingfisher Sessions")
    assert "Kingfisher Sessions" in coordinator.locator(".lo-change ins").last.inner_text()  # the words added
    assert axe_violations(coordinator) == []
    coordinator.get_by_role("button", name="Approve and publish").click()
    expect(coordinator.locator("body")).to_contain_text("Families can find")  # waits for the next page

    parent = browser.new_context(java_script_enabled=False).new_page()
    parent.goto(f"{live_server}/search?q=kingfisher")
    assert "Moorlands Otters Kingfisher Sessions" in parent.content()
    for context in (provider.context, coordinator.context, parent.context):
        context.close()


def test_feedback_published_and_reported_in_a_real_browser(live_server, browser):
    """A parent leaves feedback (errors first); the coordinator redacts and publishes it; report and pages pass axe."""
    parent = browser.new_context(bypass_csp=True, viewport={"width": 390, "height": 844}).new_page()
    parent.goto(f"{live_server}/feedback")
    parent.get_by_role("button", name="Send your comment").click()
    summary = parent.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter your comment")
    assert axe_violations(parent) == []
    parent.get_by_label("What is in the Local Offer, or missing from it").check()
    parent.get_by_label("Your comment").fill("Nothing for autistic teenagers in Biddulph; my son Alfie Grant is bored.")
    parent.get_by_label("Parent or carer").check()
    parent.get_by_role("button", name="Send your comment").click()
    expect(parent.locator("body")).to_contain_text("We have your comment")  # waits for the next page
    assert axe_violations(parent) == []

    staff = browser.new_context(bypass_csp=True, viewport={"width": 1024, "height": 800}).new_page()
    browser_sign_in(staff, live_server, "coordinator@demo.example.gov.uk")
    staff.goto(f"{live_server}/coordinators/feedback/")
    assert axe_violations(staff) == []
    staff.get_by_role("link", name="Nothing for autistic teenagers in Biddulph").click()
    expect(staff.get_by_role("heading", name="A comment", exact=True)).to_be_visible()
    assert axe_violations(staff) == []
    staff.get_by_label("What the public will read").fill("Nothing for autistic teenagers in Biddulph; my son [removed] is bored.")
    staff.get_by_label("I have checked that this identifies no one").check()
    staff.get_by_role("button", name="Publish", exact=True).click()
    expect(staff.locator("body")).to_contain_text("It is on the 'You said, we did' page")
    staff.goto(f"{live_server}/coordinators/feedback/report")
    assert staff.locator("figure.lo-chart").count() == 4
    assert axe_violations(staff) == []
    parent.goto(f"{live_server}/you-said-we-did")
    content = parent.content()
    assert "my son [removed] is bored" in content and "Alfie" not in content
    for context in (parent.context, staff.context):
        context.close()


def test_scheduled_jobs_in_a_real_browser(live_site, live_server, browser):
    """An administrator is warned on the admin index and sees each job's outcome; both pages pass axe."""
    site, _address = live_site
    now = datetime.now(timezone.utc)
    with site.app.app_context():
        db.session.add_all([
            ScheduledJob(name=jobs.BY_NAME["index"].row_name, runs=1, last_started_at=now, last_finished_at=now,
                         last_success_at=now,
                         last_seconds=0.4, last_outcome=JobOutcome.SUCCESS, last_summary="Indexed 2 changed documents."),
            ScheduledJob(name="demand-prune", runs=1, last_started_at=now - timedelta(minutes=5), last_seconds=0.1,
                         last_finished_at=now, last_outcome=JobOutcome.FAILED, last_error="OSError: disk full"),
            ScheduledJob(name="feedback-purge", runs=1, running_since=now, last_started_at=now),
        ])
        db.session.commit()
        db.session.remove()
    admin = browser.new_context(bypass_csp=True, viewport={"width": 1024, "height": 800}).new_page()
    browser_sign_in(admin, live_server, "admin@demo.example.gov.uk")
    admin.goto(f"{live_server}/admin/")
    expect(admin.locator(".govuk-warning-text")).to_contain_text("scheduled jobs are overdue or failing")
    assert axe_violations(admin) == []
    admin.get_by_role("link", name="See the scheduled jobs").click()
    expect(admin.get_by_role("heading", name="Scheduled jobs")).to_be_visible()
    table = admin.locator("table.govuk-table").inner_text()
    assert "OSError: disk full" in table and "Succeeded" in table and "Running" in table and "Never run" in table
    assert axe_violations(admin) == []
    admin.context.close()


def test_related_terms_page_on_a_phone(live_server, browser):
    """A coordinator on a 390px phone adds an everyday phrase (errors first): no sideways scrolling, axe passes."""
    context = browser.new_context(bypass_csp=True, viewport={"width": 390, "height": 844})
    page = context.new_page()
    browser_sign_in(page, live_server, "coordinator@demo.example.gov.uk")
    page.goto(f"{live_server}/admin/related-terms")
    expect(page.get_by_role("heading", name="Everyday words families use")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter at least one thing families say")
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the page scrolls sideways on a phone"
    page.get_by_label("What families say", exact=True).fill("scared of the dark, night terrors")
    page.get_by_label("Words search should also look for", exact=True).fill("sleep, anxiety, sleep clinic")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("body")).to_contain_text("scared of the dark, night terrors")  # waits for the next page
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the page scrolls sideways on a phone"
    page.get_by_role("link", name="Change scared of the dark, night terrors").click()
    expect(page.get_by_role("heading", name="Change an entry")).to_be_visible()
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the page scrolls sideways on a phone"
    context.close()


def test_term_dates_page_on_a_phone(live_server, browser):
    """A coordinator on a 390px phone adds a term (an impossible date first): messages by the field, axe passes."""
    context = browser.new_context(bypass_csp=True, viewport={"width": 390, "height": 844})
    page = context.new_page()
    browser_sign_in(page, live_server, "coordinator@demo.example.gov.uk")
    page.goto(f"{live_server}/admin/")
    page.get_by_role("link", name="School term dates").click()
    expect(page.get_by_role("heading", name="School term dates", level=1)).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("Name").fill("Summer term 3")
    for box, value in zip(page.locator("input[name=starts]").all(), ("30", "2", "2031")):
        box.fill(value)
    for box, value in zip(page.locator("input[name=ends]").all(), ("20", "3", "2031")):
        box.fill(value)
    page.get_by_role("button", name="Add term").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a real date")
    assert axe_violations(page) == []
    page.locator("input[name=starts]").first.fill("3")
    page.locator("input[name=starts]").nth(1).fill("3")
    page.get_by_role("button", name="Add term").click()
    expect(page.get_by_role("heading", name="School year 2030 to 2031")).to_be_visible()
    expect(page.locator("dl[aria-labelledby=year-2030]")).to_contain_text("Summer term 3")
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the page scrolls sideways on a phone"
    page.get_by_role("button", name="Remove Summer term 3, 3 March 2031").click()
    expect(page.locator("body")).to_contain_text("Term removed.")
    context.close()


def _save_three(page, base: str, javascript: bool) -> list[str]:
    """Save the first three results for "swimming" and return their names (checking the header count)."""
    page.goto(f"{base}/search?q=swimming")
    names = []
    for n in range(3):
        button = page.locator(".lo-result").nth(n).locator("button.lo-save__button")
        names.append(page.locator(".lo-result").nth(n).locator(".lo-result__title a").inner_text())
        button.click()
        if javascript:
            expect(button).to_contain_text("Saved – remove from shortlist")
            assert page.evaluate("document.activeElement.classList.contains('lo-save__button')"), "focus was lost"
            expect(page.locator("#lo-shortlist-status")).to_contain_text("saved to your shortlist")
        else:
            page.wait_for_load_state()
            assert "/search?q=swimming" in page.url  # back on the same results
        expect(page.locator("[data-shortlist-count]")).to_have_text(str(n + 1))
    return names


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_shortlist_on_a_phone(live_server, browser, tmp_path, javascript):
    """On a 390px phone: save three results, open the shortlist, share it to a new browser, print it, keep it on
    the phone past closing the browser; axe passes."""
    import os
    from urllib.parse import urlsplit

    shots = Path(os.environ.get("LOCAL_OFFER_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    suffix = "js" if javascript else "nojs"
    context = browser.new_context(bypass_csp=True, viewport={"width": 390, "height": 844},
                                  java_script_enabled=javascript)
    page = context.new_page()
    names = _save_three(page, live_server, javascript)
    assert axe_violations(page) == [] if javascript else True
    page.screenshot(path=str(shots / f"results-{suffix}.png"))
    page.get_by_role("link", name="Your shortlist").click()
    expect(page.get_by_role("heading", name="Your shortlist", level=1)).to_be_visible()
    assert page.locator(".lo-shortlist__title a").all_inner_texts() == names, page.locator("main").inner_text()[:500]
    page.get_by_role("button", name=f"Move up – {names[2]}").click()
    assert page.locator(".lo-shortlist__title a").all_inner_texts() == [names[0], names[2], names[1]]
    page.get_by_label(f"Your note – {names[0]}").fill("Ask about quiet sessions")
    page.get_by_role("button", name=f"Save note – {names[0]}").click()
    expect(page.locator(".lo-note-text").first).to_have_text("Ask about quiet sessions")
    if javascript:
        assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the page scrolls sideways on a phone"
    page.screenshot(path=str(shots / f"shortlist-{suffix}.png"), full_page=True)
    # The link is on the site's public address (LOCAL_OFFER_PUBLIC_URL); this test's server has its own port.
    link = live_server + urlsplit(page.locator("#share-url").inner_text()).path

    page.emulate_media(media="print")
    page.screenshot(path=str(shots / f"shortlist-print-{suffix}.png"), full_page=True)
    assert page.locator(".lo-shortlist__actions").first.is_hidden()
    assert page.locator(".lo-shortlist-link").is_hidden() and page.locator(".govuk-button").first.is_hidden()
    printed = page.locator("main").inner_text()
    assert "Phone" in printed and "/listings/" not in printed
    page.emulate_media(media="screen")

    stranger = browser.new_context(bypass_csp=True, viewport={"width": 390, "height": 844},
                                   java_script_enabled=javascript)
    shared = stranger.new_page()
    shared.goto(link)
    expect(shared.get_by_role("heading", name="A shared shortlist")).to_be_visible()
    assert shared.locator(".lo-shortlist__title a").all_inner_texts() == [names[0], names[2], names[1]]
    assert "Ask about quiet sessions" not in shared.content()
    if javascript:
        assert axe_violations(shared) == []
    shared.screenshot(path=str(shots / f"shared-{suffix}.png"), full_page=True)
    shared.goto(link[:-1] + ("A" if link[-1] != "A" else "B"))
    expect(shared.get_by_role("heading", name="Page not found")).to_be_visible()
    stranger.close()

    page.goto(f"{live_server}/search?q=swimming")
    page.emulate_media(media="print")
    page.screenshot(path=str(shots / f"results-print-{suffix}.png"), full_page=True)
    assert page.locator(".lo-save").first.is_hidden()
    assert page.locator(".lo-print-only").first.is_visible()
    assert page.js_errors == [] if hasattr(page, "js_errors") else True
    page.emulate_media(media="screen")

    # Keep it on this phone, close the browser (only cookies with an expiry survive), open it again.
    page.goto(f"{live_server}/shortlist")
    page.get_by_role("button", name="Keep on this device").click()
    expect(page.get_by_text("This device keeps your shortlist")).to_be_visible()
    kept = [cookie for cookie in context.cookies() if cookie["expires"] > 0]
    context.close()
    reopened = browser.new_context(bypass_csp=True, viewport={"width": 390, "height": 844},
                                   java_script_enabled=javascript)
    reopened.add_cookies(kept)
    again = reopened.new_page()
    again.goto(f"{live_server}/shortlist")
    assert again.locator(".lo-shortlist__title a").all_inner_texts() == [names[0], names[2], names[1]]
    expect(again.locator(".lo-note-text").first).to_have_text("Ask about quiet sessions")
    reopened.close()
