"""Provider forms tried as a provider would, in Chromium on a 390 x 844 phone, with and without JavaScript.

Changing the cost and the description of a listing and sending it; starting a new listing by
copying one; accessibility details that open only for a ticked feature.  Each journey prints its
page loads and seconds (the issue's closing note compares them with before).  axe runs on each
new page with JavaScript (it is a script).
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from support import SWIM
from test_browser import (shot, PHONE, axe_violations, browser, browser_sign_in, live_server,  # noqa: F401
                          live_site, phone)  # fixtures

pytestmark = pytest.mark.browser


def page_loads(page) -> list[str]:
    """Count the pages the browser loads from now on."""
    loads: list[str] = []
    page.on("load", lambda: loads.append(page.url))
    return loads


def clean(page) -> None:
    """axe finds nothing (with JavaScript; without it axe cannot run); its time is left out of the journey's."""
    if page.javascript:
        started = time.monotonic()
        assert axe_violations(page) == []
        page.axe_seconds = getattr(page, "axe_seconds", 0.0) + time.monotonic() - started


def go(page, action) -> None:
    """Click something that loads a page, and wait for it."""
    action()
    page.wait_for_load_state()


def test_a_provider_changes_the_cost_and_the_description(live_server, phone):  # noqa: F811
    """Sign in, lands on "Your listings"; description as plain text with a list; cost; sent with a timescale."""
    loads, started = page_loads(phone), time.monotonic()
    browser_sign_in(phone, live_server, "provider@demo.example.org")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Your listings")
    clean(phone)
    go(phone, lambda: phone.locator(f'a[href$="/portal/listings/{SWIM}"]').first.click())
    go(phone, lambda: phone.get_by_role("link", name="About the listing").click())
    clean(phone)
    phone.get_by_label("Description").scroll_into_view_if_needed()
    shot(phone, "about-description")
    description = phone.get_by_label("Description")
    assert "**" not in description.input_value()
    assert "Markdown" not in phone.locator("#description-hint").inner_text()
    description.fill("We swim on Saturdays. Bring *two* towels.\n\nWhat to bring:\n- a towel\n- goggles")
    go(phone, lambda: phone.get_by_role("button", name="Save and continue").click())
    expect(phone.locator("body")).to_contain_text("About the listing saved")
    go(phone, lambda: phone.get_by_role("link", name="Cost and funding").click())
    clean(phone)
    phone.get_by_label("Amount in pounds").first.fill("5.50")
    go(phone, lambda: phone.get_by_role("button", name="Save and send for checking").click())
    expect(phone.locator("body")).to_contain_text("A coordinator will look at it within 5 working days.")
    changes = phone.locator("body").inner_text()
    assert "Bring *two* towels" in changes and "£5.50" in changes
    clean(phone)
    shot(phone, "provider-changes", full=True)
    seconds = time.monotonic() - started - getattr(phone, "axe_seconds", 0.0)
    print(f"\nchange cost and description ({'js' if phone.javascript else 'no-js'}): {len(loads)} page loads "
          f"from the sign-in page, {seconds:.1f} s (before: 9 page loads, 6.1 s with JavaScript, 3.3 s without)")
    assert len(loads) <= 7


def test_a_provider_starts_a_new_listing_by_copying_one(live_server, phone):  # noqa: F811
    """Your listings -> Copy an existing listing -> the copy's page -> sent: four pages."""
    browser_sign_in(phone, live_server, "provider@demo.example.org")
    shot(phone, "your-listings")
    loads, started = page_loads(phone), time.monotonic()
    go(phone, lambda: phone.get_by_role("link", name="Copy an existing listing").click())
    expect(phone.get_by_role("heading", level=1)).to_have_text("Copy an existing listing")
    clean(phone)
    go(phone, lambda: phone.get_by_role("button", name="Copy it").click())  # nothing chosen or named yet
    expect(phone.locator(".govuk-error-summary")).to_contain_text("Enter the name of the new listing")
    clean(phone)
    errors = loads.pop()
    phone.locator(f'input[name="source"][value="{SWIM}"]').check()
    phone.get_by_label("Name of the new listing").fill("Otters junior squad")
    shot(phone, "copy-listing", full=True)
    go(phone, lambda: phone.get_by_role("button", name="Copy it").click())
    expect(phone.get_by_role("heading", level=1)).to_have_text("Otters junior squad")
    expect(phone.locator("body")).to_contain_text("Copy made")
    clean(phone)
    shot(phone, "copied-listing", full=True)
    go(phone, lambda: phone.get_by_role("button", name="Send for checking").click())
    expect(phone.locator("body")).to_contain_text("A coordinator will look at it within 5 working days.")
    clean(phone)
    seconds = time.monotonic() - started - getattr(phone, "axe_seconds", 0.0)
    pages = 1 + len(loads)  # "Your listings", where signing in lands, and each page after it
    print(f"\nnew listing by copying ({'js' if phone.javascript else 'no-js'}): {pages} pages from Your listings, "
          f"{2 + len(loads)} page loads from the sign-in page, {seconds:.1f} s (one error page left out: {errors}) "
          f"(before, a new listing from nothing: 18 page loads)")
    assert pages <= 4


def test_accessibility_details_open_only_for_a_ticked_feature(live_server, phone):  # noqa: F811
    """With JavaScript a feature's details box shows once ticked; without it every box shows."""
    browser_sign_in(phone, live_server, "provider@demo.example.org")
    phone.goto(f"{live_server}/portal/listings/{SWIM}/sections/access")
    clean(phone)
    height = phone.evaluate("document.documentElement.scrollHeight")
    code = phone.locator('input[name="accessibility"]:not(:checked)').first.get_attribute("value")
    unticked = phone.locator(f'input[name="accessibility"][value="{code}"]')
    details = phone.locator(f"#details-{code}")
    if phone.javascript:
        expect(details).to_be_hidden()
        unticked.check()
        expect(details).to_be_visible()
        details.fill("Ramp at the side door")
        clean(phone)
        unticked.uncheck()
        expect(details).to_be_hidden()
        unticked.check()
    else:
        expect(details).to_be_visible()
        unticked.check()
        details.fill("Ramp at the side door")
    shot(phone, "access-section", full=True)
    print(f"\naccessibility section ({'js' if phone.javascript else 'no-js'}): {height} px tall (before: 4,197 px)")
    phone.get_by_label("How to get a place").fill("Book by phone.")
    go(phone, lambda: phone.get_by_role("button", name="Save and continue").click())
    expect(phone.locator("body")).to_contain_text("Ramp at the side door")
