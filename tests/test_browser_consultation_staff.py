"""A coordinator writes a consultation in Chromium: details, questions, "about you", preview, open, close early; axe."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo
from pathlib import Path

import pytest
from playwright.sync_api import expect

from test_browser import (PHONE, axe_violations, browser, browser_sign_in, live_server,  # noqa: F401
                          live_site)  # fixtures

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/consultation-shots")


def fill_date(page, name: str, day: date) -> None:
    """Type a date into a GOV.UK date input's three boxes."""
    page.locator(f"#{name}-day").fill(str(day.day))
    page.locator(f"#{name}-month").fill(str(day.month))
    page.locator(f"#{name}-year").fill(str(day.year))


def check(page, name: str) -> None:
    """No axe violations, no sideways scrolling; keep a screenshot to look at."""
    assert axe_violations(page) == [], page.url
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"], page.url
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.screenshot(path=str(SHOTS / f"{name}-top.png"))


def test_a_coordinator_writes_previews_opens_and_closes_a_consultation(live_server, browser):  # noqa: F811
    SHOTS.mkdir(exist_ok=True)
    context = browser.new_context(bypass_csp=True, viewport={"width": 1024, "height": 800})
    page = context.new_page()
    browser_sign_in(page, live_server, "coordinator@demo.example.gov.uk")
    page.goto(f"{live_server}/admin/")
    page.get_by_role("link", name="Consultations: ask families what they think").click()
    expect(page.get_by_role("heading", name="Consultations", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Refreshing our SEND strategy priorities", exact=True)).to_be_visible()
    check(page, "list")

    page.get_by_role("button", name="Start a new consultation").click()
    page.get_by_role("button", name="Save and add questions").click()  # nothing typed: every problem listed
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a title")
    page.get_by_label("Title").fill("Travel to school and college")
    page.get_by_label("Who it is for (optional)").fill("Families of children who use school transport")
    page.get_by_label("Introduction", exact=True).fill("We are reviewing travel support.\n\nTell us what works.")
    page.get_by_label("Introduction for young people (optional)").fill("How do you get to school? Tell us.")
    today = datetime.now(ZoneInfo("Europe/London")).date()
    fill_date(page, "opens_on", today)
    fill_date(page, "closes_on", today + timedelta(days=30))
    page.get_by_role("button", name="Save and add questions").click()
    expect(page.get_by_role("heading", name="Travel to school and college")).to_be_visible()
    expect(page.get_by_text("No questions yet.")).to_be_visible()

    page.get_by_role("button", name="Add a question").click()
    page.get_by_label("Agreement scale (strongly agree to strongly disagree, and don't know)").check()
    page.get_by_label("Question", exact=True).fill("Travel support should start the week a child starts school")
    page.get_by_label("The question for young people (optional)").fill("Help getting to school should start on day one")
    page.get_by_label("People must answer this question").check()
    page.get_by_role("button", name="Save question").click()
    page.get_by_role("button", name="Add a question").click()
    page.get_by_label("Any number of choices from a list").check()
    page.get_by_label("Question", exact=True).fill("How does your child get to school?")
    page.get_by_role("textbox", name="Choices").fill("Taxi\nMinibus\nBus pass\nWe drive them")
    page.get_by_role("button", name="Save question").click()
    page.get_by_role("button", name='Add the "about you" questions').click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text('"about you" questions added')
    expect(page.get_by_role("heading", name="4 questions")).to_be_visible()
    expect(page.get_by_role("heading", name="4. Which district do you live in?")).to_be_visible()
    page.get_by_role("button", name="Move up question 2").click()
    expect(page.locator(".lo-question h3").first).to_have_text("1. How does your child get to school?")
    check(page, "questions")

    page.get_by_role("link", name="Change the details").click()
    expect(page.get_by_label("Title")).to_have_value("Travel to school and college")
    check(page, "edit")
    page.get_by_role("link", name="Travel to school and college", exact=True).click()
    page.get_by_role("link", name="Change question 1").click()
    check(page, "question")
    page.go_back()

    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Preview: as a parent or carer sees it")).to_be_visible()
    expect(page.get_by_text("Travel support should start the week a child starts school")).to_be_visible()
    check(page, "preview-parent")
    page.get_by_role("link", name="See it as a young person does (simpler words)").click()
    expect(page.get_by_text("Help getting to school should start on day one")).to_be_visible()
    expect(page.get_by_text("Yes, a lot").first).to_be_visible()
    check(page, "preview-young-person")
    page.get_by_role("link", name="Back to the consultation").click()

    page.get_by_role("button", name="Open the consultation").click()
    page.get_by_role("button", name="Open the consultation").click()  # not confirmed yet
    expect(page.locator(".govuk-error-summary")).to_contain_text("Tick the box to confirm")
    page.get_by_label("I have checked the questions and dates").check()
    check(page, "open-confirm")
    page.get_by_role("button", name="Open the consultation").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The consultation is open.")
    expect(page.get_by_role("button", name="Add a question")).to_have_count(0)

    page.get_by_role("button", name="Close early").click()
    page.get_by_label("I understand nobody can answer it after this").check()
    check(page, "close-confirm")
    page.get_by_role("button", name="Close it now").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The consultation is closed.")
    expect(page.locator(".govuk-tag").filter(has_text="Closed").first).to_be_visible()

    phone = browser.new_context(bypass_csp=True, viewport=PHONE, storage_state=context.storage_state()).new_page()
    phone.goto(f"{live_server}/coordinators/consultations/")
    check(phone, "phone-list")
    phone.get_by_role("link", name="Refreshing our SEND strategy priorities", exact=True).click()
    check(phone, "phone-closed")
    phone.get_by_role("button", name="Preview").click()
    check(phone, "phone-preview")
    phone.get_by_role("link", name="Back to the consultation").click()
    results = phone.get_by_role("link", name="See the results")
    if results.count():  # the results pages are built alongside: the demo's headline figure shows there
        results.click()
        expect(phone.get_by_text("88% strongly agreed or agreed").first).to_be_visible()
        phone.screenshot(path=str(SHOTS / "phone-demo-results-top.png"))
    phone.goto(f"{live_server}/coordinators/consultations/")
    phone.get_by_role("link", name="Short breaks: what would help your family?", exact=True).click()
    phone.get_by_role("link", name="Change the details").click()
    check(phone, "phone-edit")
    phone.context.close()
    context.close()
