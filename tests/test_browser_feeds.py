"""A neighbour's feed tried in Chromium: a coordinator adds it; a parent on a phone finds its services, labelled."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from local_offer import feeds
from local_offer.extensions import db
from local_offer.models import Feed

from test_browser import (PHONE, axe_violations, browser, browser_sign_in, live_server,  # noqa: F401
                          live_site)  # fixtures
from test_feeds import neighbour  # noqa: F401  (a fixture: the fake feed on a local port)

pytestmark = pytest.mark.browser


def test_a_coordinator_adds_a_feed_and_a_parent_finds_its_services(live_site, live_server, browser,  # noqa: F811
                                                                   neighbour):
    site, _address = live_site
    staff = browser.new_context(bypass_csp=True, viewport={"width": 1024, "height": 800}).new_page()
    browser_sign_in(staff, live_server, "coordinator@demo.example.gov.uk")
    staff.goto(f"{live_server}/admin/feeds")
    assert axe_violations(staff) == []
    staff.get_by_label("Feed address").fill("not a web address")
    staff.get_by_role("button", name="Add feed").click()
    expect(staff.locator(".govuk-error-summary")).to_contain_text("Enter the licence")
    assert axe_violations(staff) == []
    staff.get_by_label("Feed address").fill(f"{neighbour.base}/api/v1/services")
    staff.get_by_label("Whose directory it is").fill("Neighbourshire's Local Offer")
    staff.get_by_label("Licence").fill("Open Government Licence v3.0")
    staff.get_by_role("button", name="Add feed").click()
    expect(staff.locator("h1")).to_have_text("Neighbourshire's Local Offer")
    with site.app.app_context():  # what the hourly job does
        feeds.pull(db.session.execute(select(Feed)).scalar_one())
        db.session.remove()
    staff.reload()
    expect(staff.locator("body")).to_contain_text("3 services read: 3 added")
    assert axe_violations(staff) == []

    parent = browser.new_context(bypass_csp=True, viewport=PHONE).new_page()
    parent.goto(f"{live_server}/search?q=neighbour+kayak")
    expect(parent.locator(".lo-result__title").first).to_contain_text("Neighbour Kayak Club")
    assert "Neighbourshire's Local Offer, checked" in parent.locator(".lo-result").first.inner_text()
    assert axe_violations(parent) == []
    parent.screenshot(path="/tmp/phone-shots/feed-results.png")
    parent.locator(".lo-result__title a").first.click()
    expect(parent.locator("body")).to_contain_text("Information used under the Open Government Licence v3.0")
    assert axe_violations(parent) == []
    for context in (staff.context, parent.context):
        context.close()
