"""Moderation read in seconds, tried in Chromium on a phone, with and without JavaScript, axe on every page.

A provider previews their change as families will see it and sends it from the
preview; a coordinator reads it in words, opens "Preview as families will see
it" and decides from there (approves with JavaScript, sends back without).
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from local_offer.extensions import db
from local_offer.listings import workflow
from local_offer.listings.data import SECTION_FIELDS, new_listing_data
from local_offer.models import Listing, ListingRevision, RevisionStatus, User

from support import SWIM
from test_browser import PHONE, axe_violations, browser, browser_sign_in, live_server, live_site  # noqa: F401

pytestmark = pytest.mark.browser

SHOTS = "/tmp/moderation-shots"
#: A new listing as its provider filled it in (codes, times as stored, Markdown): read back in words.
NEW = {
    **new_listing_data("Kingfisher Canoe Club", "activity"),
    "level": "targeted", "categories": ["sport-and-swimming"], "summary": "Relaxed canoe sessions.",
    "description": "We paddle **slowly**.\n\n- Buoyancy aids provided\n- Changing rooms",
    "schedules": [{"days": ["FR"], "opens": "18:00", "closes": "19:00", "period": "all_year"}],
    "costs": [{"option": "Per session", "amount": "4.5", "description": "Carers free"}],
    "delivery_methods": ["venue"], "access_routes": ["booking"],
}


def draft_change(site) -> None:
    """The Otters' provider has changed their live listing (name, description, a session, the cost), not sent yet."""
    with site.app.app_context():
        listing = db.session.get(Listing, SWIM)
        provider = db.session.execute(select(User).where(User.email == "provider@demo.example.org")).scalar_one()
        revision = workflow.begin_change(listing, provider)
        data = dict(revision.data)
        data["name"] = "Otters quiet swim sessions"
        data["description"] = data["description"].replace("no more than eight swimmers", "no more than six swimmers")
        data["costs"] = [{**data["costs"][0], "amount": "5.00"}]
        data["schedules"] = data["schedules"] + [{**data["schedules"][0], "id": None, "days": ["FR"]}]
        workflow.save_section(listing, revision, "about", data, provider)
        db.session.remove()


def decision(site) -> RevisionStatus:
    with site.app.app_context():
        status = db.session.execute(select(ListingRevision.status).where(ListingRevision.listing_id == SWIM)
                                    .order_by(ListingRevision.created_at.desc())).scalars().first()
        db.session.remove()
    return status


def axe_clean(page) -> bool:
    """Run axe on the page; without JavaScript, on a copy of the page's own DOM in a page that runs scripts."""
    if getattr(page, "javascript", True):
        return axe_violations(page) == []
    checker = page.context.browser.new_context(bypass_csp=True, viewport=PHONE).new_page()
    checker.goto(page.url.split("#")[0])  # the same origin, so the page's styles load
    checker.set_content(re.sub(r"<script\b.*?</script>", "", page.content(), flags=re.S))  # as it was: no scripts
    violations = axe_violations(checker)
    checker.context.close()
    assert violations == []
    return True


def timed(label: str, loads: list, action) -> None:
    started = time.perf_counter()
    action()
    loads.append((label, round(time.perf_counter() - started, 3)))


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_provider_sends_from_the_preview_and_a_coordinator_moderates_from_it(live_site, live_server, browser,
                                                                                javascript):
    site, _address = live_site
    mode = "js" if javascript else "nojs"
    draft_change(site)

    provider = browser.new_context(java_script_enabled=javascript, bypass_csp=True, viewport=PHONE).new_page()
    provider.javascript = javascript
    browser_sign_in(provider, live_server, "provider@demo.example.org")
    provider.goto(f"{live_server}/portal/listings/{SWIM}")
    assert axe_clean(provider)
    provider.get_by_role("link", name="Preview it as families will see it").click()
    expect(provider.locator(".lo-preview-banner")).to_contain_text("Preview: not published")
    expect(provider.locator("h1")).to_have_text("Otters quiet swim sessions")
    assert "no more than six swimmers" in provider.locator(".lo-prose").inner_text()
    assert axe_clean(provider)
    provider.screenshot(path=f"{SHOTS}/provider-preview-{mode}.png", full_page=True)
    provider.get_by_label("Anything the Local Offer team should know? (optional)").fill("Smaller groups from May")
    provider.get_by_role("button", name="Send for checking").click()
    expect(provider.locator("body")).to_contain_text("Sent for checking")
    assert axe_clean(provider)

    coordinator = browser.new_context(java_script_enabled=javascript, bypass_csp=True, viewport=PHONE).new_page()
    coordinator.javascript = javascript
    browser_sign_in(coordinator, live_server, "coordinator@demo.example.gov.uk")
    loads = []
    timed("queue", loads, lambda: coordinator.goto(f"{live_server}/moderation/"))
    expect(coordinator.locator("body")).to_contain_text("Changes: Listing name, Description, Times, Costs")
    assert axe_clean(coordinator)
    coordinator.screenshot(path=f"{SHOTS}/queue-{mode}.png", full_page=True)
    assert coordinator.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]

    timed("change", loads, lambda: coordinator.get_by_role(
        "link", name="Otters quiet swim sessions", exact=True).click() or coordinator.wait_for_load_state())
    expect(coordinator.locator(".lo-change-summary")).to_have_text(
        "Changes 4 things: Listing name, Description, Times, Costs.")
    assert coordinator.locator("del.lo-diff-del", has_text="eight").count() == 1
    assert coordinator.locator("ins.lo-diff-ins", has_text="six").count() == 1
    assert "£5.00" in coordinator.locator(".lo-change").last.inner_text()
    unchanged = coordinator.locator("details.lo-unchanged")
    assert not unchanged.locator(".govuk-details__text").is_visible()  # folded away until asked for
    assert axe_clean(coordinator)
    coordinator.screenshot(path=f"{SHOTS}/change-{mode}.png", full_page=True)
    assert coordinator.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    unchanged.locator("summary").click()
    expect(unchanged.locator(".govuk-details__text")).to_be_visible()
    assert axe_clean(coordinator)

    timed("preview", loads, lambda: coordinator.get_by_role(
        "button", name="Preview as families will see it").click() or coordinator.wait_for_load_state())
    expect(coordinator.locator(".lo-preview-banner")).to_contain_text("Preview: not published")
    expect(coordinator.locator("h1")).to_have_text("Otters quiet swim sessions")
    assert coordinator.locator('meta[name="robots"]').get_attribute("content") == "noindex, nofollow"
    assert "Fridays" in coordinator.locator(".lo-sessions").inner_text()
    assert axe_clean(coordinator)
    coordinator.screenshot(path=f"{SHOTS}/preview-{mode}.png", full_page=True)
    assert coordinator.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]

    if javascript:
        timed("approve", loads, lambda: coordinator.locator(".lo-preview-banner").get_by_role(
            "button", name="Approve and publish").click() or coordinator.wait_for_load_state())
        expect(coordinator.locator("body")).to_contain_text("Families can find Otters quiet swim sessions now")
        assert decision(site) is RevisionStatus.APPROVED
    else:
        coordinator.get_by_role("button", name="Send back to the provider").click()
        expect(coordinator.locator(".govuk-error-summary")).to_contain_text("Tell the provider what needs to change")
        expect(coordinator.locator(".lo-preview-banner")).to_contain_text("Preview: not published")
        assert axe_clean(coordinator)
        coordinator.get_by_label("What needs to change?").fill("Say which Fridays, please.")
        timed("send back", loads, lambda: coordinator.get_by_role(
            "button", name="Send back to the provider").click() or coordinator.wait_for_load_state())
        expect(coordinator.locator("body")).to_contain_text("Sent back to the provider")
        assert decision(site) is RevisionStatus.RETURNED
    assert axe_clean(coordinator)
    print(f"\nmoderating a changed listing ({mode}):", loads, "seconds in all:", round(sum(s for _l, s in loads), 3))
    for context in (provider.context, coordinator.context):
        context.close()


def test_a_new_listing_reads_in_words_and_its_preview_on_a_phone(live_site, live_server, browser):
    """A new listing: every field once, in words (no empty "before" column), then its preview; axe on both."""
    site, _address = live_site
    with site.app.app_context():
        provider = db.session.execute(select(User).where(User.email == "provider@demo.example.org")).scalar_one()
        listing = workflow.start_listing(db.session.get(Listing, SWIM).organisation_id, "Kingfisher Canoe Club",
                                         "activity", provider)
        revision = workflow.open_revision(listing)
        for section, fields in SECTION_FIELDS.items():
            workflow.save_section(listing, revision, section, {key: NEW[key] for key in fields}, provider)
        workflow.submit(listing, revision, "New this spring", provider)
        revision_id = revision.id
        db.session.remove()
    page = browser.new_context(bypass_csp=True, viewport=PHONE).new_page()
    browser_sign_in(page, live_server, "coordinator@demo.example.gov.uk")
    page.goto(f"{live_server}/moderation/changes/{revision_id}")
    expect(page.locator("h2", has_text="The whole new listing")).to_be_visible()
    assert page.locator(".lo-change").count() == 0 and "Live now" not in page.locator("main").inner_text()
    words = page.locator("main").inner_text()
    for shown in ("Out-of-school activity", "Sport and swimming", "Targeted support", "Fridays, 6pm to 7pm", "£4.50"):
        assert shown in words, shown
    assert page.locator("main strong", has_text="slowly").count() == 1  # Markdown rendered
    assert axe_violations(page) == []
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=f"{SHOTS}/new-listing.png", full_page=True)
    page.get_by_role("button", name="Preview as families will see it").click()
    expect(page.locator(".lo-preview-banner")).to_contain_text("This new listing as families will see it")
    expect(page.locator("h1")).to_have_text("Kingfisher Canoe Club")
    assert axe_violations(page) == []
    page.context.close()
