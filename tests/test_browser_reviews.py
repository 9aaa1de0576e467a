"""The review queue in Chromium on a phone: a coordinator reminds and marks checked ten overdue listings at once;
a provider confirms a listing from the "Still accurate" link in their email. axe on every page."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from local_offer import review_links
from local_offer.extensions import db
from local_offer.models import AuditEvent, Listing

from test_browser import (PHONE, axe_violations, browser, browser_sign_in, live_server,  # noqa: F401
                          live_site)  # fixtures

pytestmark = pytest.mark.browser


def _documents(page) -> list[str]:
    """Count every page the browser loads (the main frame's documents), as a person would wait for them."""
    loads: list[str] = []
    page.on("response", lambda response: loads.append(response.url)
            if response.request.resource_type == "document" and response.frame == page.main_frame else None)
    return loads


def _tick(page, ids: list[str]) -> None:
    for listing_id in ids:
        page.locator(f'input[name="listing"][value="{listing_id}"]').check(force=True)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_coordinator_reminds_and_marks_checked_ten_overdue_listings_at_once(live_site, live_server,  # noqa: F811
                                                                              browser, javascript):  # noqa: F811
    site, _address = live_site
    context = browser.new_context(bypass_csp=True, viewport=PHONE, java_script_enabled=javascript)
    page = context.new_page()
    browser_sign_in(page, live_server, "coordinator@demo.example.gov.uk")
    loads = _documents(page)
    started = time.perf_counter()

    page.goto(f"{live_server}/admin/reviews?state=overdue")
    expect(page.get_by_role("heading", name="Listings due for review")).to_be_visible()
    boxes = page.locator('input[name="listing"]')
    assert boxes.count() >= 10, "the demo directory has fewer than ten overdue listings"
    ids = [boxes.nth(n).get_attribute("value") for n in range(10)]
    paused = time.perf_counter()
    if javascript:
        assert axe_violations(page) == []
    started += time.perf_counter() - paused  # axe is the test's, not the coordinator's
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the page scrolls sideways on a phone"

    _tick(page, ids)
    page.get_by_label("Remind the provider now").check(force=True)
    page.get_by_role("button", name="Apply to the chosen listings").click()
    page.wait_for_load_state()
    banner = page.locator(".govuk-notification-banner")
    expect(banner).to_contain_text("Reminded the providers of")
    reminded_banner = banner.inner_text()

    _tick(page, ids)
    page.get_by_label("Mark as checked").check(force=True)
    if javascript:
        expect(page.get_by_label("By phone")).to_be_visible()
        expect(page.get_by_label("6 months")).to_be_hidden()  # only the chosen action's follow-up shows
    page.get_by_label("By phone").check(force=True)
    page.get_by_label("Note for the listing's history (optional)").fill("Rang each provider")
    page.get_by_role("button", name="Apply to the chosen listings").click()
    page.wait_for_load_state()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Marked 10 listings as checked")
    seconds = time.perf_counter() - started
    journey_loads = len(loads)
    suffix = "js" if javascript else "nojs"
    page.screenshot(path=f"/tmp/review-queue-{suffix}.png")
    page.locator("#queue-actions").screenshot(path=f"/tmp/review-queue-actions-{suffix}.png")
    table = page.locator(".lo-scroll").bounding_box()
    page.screenshot(path=f"/tmp/review-queue-table-{suffix}.png", full_page=True,
                    clip={"x": 0, "y": table["y"] + page.evaluate("window.scrollY") - 20, "width": 390, "height": 760})
    if javascript:
        assert axe_violations(page) == []
    still_listed = {box.get_attribute("value") for box in page.locator('input[name="listing"]').all()}
    assert not still_listed & set(ids), "checked listings are still listed as overdue"
    print(f"\nreview queue ({'js' if javascript else 'no-js'}): remind + mark checked 10 overdue listings: "
          f"{journey_loads} page loads, {seconds:.1f} s; {reminded_banner.splitlines()[-1]}")

    with site.app.app_context():
        checked = db.session.execute(select(AuditEvent).where(AuditEvent.action == "listing.confirmed",
                                                              AuditEvent.entity_id.in_(ids))).scalars().all()
        assert len(checked) == 10
        assert all(event.actor == "coordinator@demo.example.gov.uk" and event.changes["how"] == "phone"
                   and event.changes["note"] == "Rang each provider" for event in checked)
        db.session.remove()

    # Nothing ticked: a clear error, linked from the summary, and axe still passes.
    page.get_by_label("Give more time").check(force=True)
    page.get_by_role("button", name="Apply to the chosen listings").click()
    page.wait_for_load_state()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Tick the listings to change")
    if javascript:
        assert axe_violations(page) == []
    context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_provider_confirms_from_the_emailed_link_once(live_site, live_server, browser, javascript):  # noqa: F811
    site, _address = live_site
    with site.app.app_context():
        listing = db.session.execute(select(Listing).where(Listing.review_due.is_not(None))
                                     .order_by(Listing.review_due)).scalars().first()
        name, token = listing.name, review_links.make_token(listing)
        db.session.remove()
    context = browser.new_context(bypass_csp=True, viewport=PHONE, java_script_enabled=javascript)
    page = context.new_page()
    page.goto(f"{live_server}/portal/still-accurate/{token}")
    expect(page.get_by_role("heading", name="Is this listing still accurate?")).to_be_visible()
    expect(page.locator("main")).to_contain_text(name)
    if javascript:
        assert axe_violations(page) == []
    page.screenshot(path=f"/tmp/still-accurate-{'js' if javascript else 'nojs'}.png", full_page=True)
    page.get_by_role("button", name="Yes, it is still accurate").click()
    expect(page.get_by_role("heading", name="Thank you: listing confirmed")).to_be_visible()
    if javascript:
        assert axe_violations(page) == []
    response = page.goto(f"{live_server}/portal/still-accurate/{token}")
    assert response.status == 410
    expect(page.get_by_role("heading", name="This link has already been used")).to_be_visible()
    if javascript:
        assert axe_violations(page) == []
    context.close()
