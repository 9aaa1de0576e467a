"""Sessions tried as people would, in Chromium on a 390 x 844 phone, with and without JavaScript.

A provider says "Monday to Friday, 9am to 4pm" and "first Saturday of the month,
term time only" on one page; a parent reads it, adds it to a calendar, and finds
what is on this weekend.  axe runs on each new page (with JavaScript: it is a script).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from support import SWIM
from test_browser import (shot, PHONE, axe_violations, browser, browser_sign_in, live_server,  # noqa: F401
                          live_site, phone)  # fixtures

pytestmark = pytest.mark.browser


def test_a_provider_enters_sessions_on_one_page_on_a_phone(live_server, phone):  # noqa: F811
    """Monday to Friday ticked at once; "Add another session"; first Saturday of the month; both read back."""
    browser_sign_in(phone, live_server, "provider@demo.example.org")
    phone.goto(f"{live_server}/portal/listings/{SWIM}/sections/when_where")
    loads = 1
    if phone.javascript:
        assert axe_violations(phone) == []
    first = phone.locator("fieldset.lo-session").first
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        first.get_by_label(day, exact=True).check()
    for day in ("Saturday", "Sunday"):
        first.get_by_label(day, exact=True).uncheck()
    first.get_by_label("From", exact=True).fill("9am")
    first.get_by_label("To", exact=True).fill("4pm")
    first.get_by_label("Every week", exact=True).check()
    first.get_by_label("When in the year").select_option("all_year")
    count = phone.locator("fieldset.lo-session").count()
    phone.get_by_role("button", name="Add another session").click()
    phone.wait_for_load_state()
    loads += 1
    expect(phone.locator("fieldset.lo-session")).to_have_count(count + 1)
    added = phone.locator("fieldset.lo-session").last
    added.get_by_label("Saturday", exact=True).check()
    added.get_by_label("From", exact=True).fill("10am to noon")
    added.get_by_label("Once a month, on a weekday (for example, the first Saturday)").check()
    which = added.get_by_label("Which one in the month")
    expect(which).to_be_visible()  # revealed (with JavaScript) or always there (without)
    which.select_option("1")
    added.get_by_label("When in the year").select_option("term_time")
    shot(phone, "portal-sessions", full=True)
    # the other sessions this listing had: removed, so only the two above are kept
    for index in range(1, count):
        phone.locator("fieldset.lo-session").nth(index).get_by_label("Remove this session").check()
    phone.get_by_role("button", name="Save and continue").click()
    phone.wait_for_load_state()
    loads += 1
    expect(phone.locator("body")).to_contain_text("When and where saved")
    print(f"provider's page loads from the task list: {loads} (Monday to Friday alone: 2)")
    # What a sighted reader sees: the hidden "added:" words for screen readers left out, spaces collapsed.
    review = " ".join(phone.evaluate("""() => { const copy = document.body.cloneNode(true);
        copy.querySelectorAll('.govuk-visually-hidden').forEach(e => e.remove()); return copy.textContent; }""").split())
    assert "Monday to Friday, 9am to 4pm" in review
    assert "First Saturday of the month, 10am to midday, term time only" in review


def test_a_parent_reads_sessions_adds_them_to_a_calendar_and_finds_what_is_on(live_server, phone):  # noqa: F811
    """The listing says when in words with a calendar file; What's on lists this weekend's sessions."""
    phone.goto(f"{live_server}/listings/{SWIM}")
    text = phone.locator("body").inner_text()
    assert "Saturdays, 9am to 10am, term time only" in text
    calendar = phone.get_by_role("link", name="Add these sessions to your calendar")
    expect(calendar).to_be_visible()
    with phone.expect_download() as download:
        calendar.click()
    assert download.value.suggested_filename.endswith(".ics")
    assert "RRULE:FREQ=WEEKLY" in Path(download.value.path()).read_text()

    phone.goto(f"{live_server}/")
    phone.goto(f"{live_server}/whats-on")
    if phone.javascript:
        assert axe_violations(phone) == []
    phone.get_by_role("link", name="This weekend").click()
    phone.wait_for_load_state()
    assert "when=weekend" in phone.url
    expect(phone.get_by_role("heading", level=2).first).to_contain_text("session")
    assert phone.locator(".lo-whats-on__item").count() > 0
    shot(phone, "whats-on-weekend", full=True)
    if phone.javascript:
        assert axe_violations(phone) == []
    phone.get_by_text("Age, needs, cost and accessibility").click()
    phone.get_by_label("Child's age").fill("9")
    phone.get_by_role("button", name="Show what's on").click()
    phone.wait_for_load_state()
    assert "age=9" in phone.url and "when=weekend" in phone.url
    first = phone.locator(".lo-whats-on__name").first
    if first.count():
        first.click()
        phone.wait_for_load_state()
        assert "/listings/" in phone.url
