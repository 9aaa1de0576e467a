"""The personal-details guard tried in Chromium: a coordinator cannot publish a phone number until it is removed.

With JavaScript, "Why keep it?" shows only once "Keep it" is chosen; without
JavaScript every box shows and "Remove everything found" does the work.  The
journey's page loads and seconds are printed (``pytest -s``).
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from local_offer.extensions import db
from local_offer.models import Feedback, FeedbackStatus, FeedbackTopic, Respondent

from test_browser import PHONE, axe_violations, browser, browser_sign_in, live_server, live_site  # noqa: F401

pytestmark = pytest.mark.browser

COMMENT = "Contact me on 07700 900123, my name is Sarah Jones. There is nothing for teenagers near Leek."


def add_comment(site) -> str:
    with site.app.app_context():
        feedback = Feedback(topic=FeedbackTopic.CONTENT, respondent=Respondent.PARENT_CARER, comment=COMMENT)
        db.session.add(feedback)
        db.session.commit()
        feedback_id = feedback.id
        db.session.remove()
    return feedback_id


def check_axe(page, javascript: bool) -> None:
    """Run axe (a script: with JavaScript only; the same markup is served either way)."""
    if javascript:
        assert axe_violations(page) == []


def stored(site, feedback_id) -> Feedback:
    with site.app.app_context():
        row = db.session.get(Feedback, feedback_id)
        db.session.expunge(row)
        db.session.remove()
    return row


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_coordinator_is_stopped_until_the_phone_number_is_removed(live_site, live_server, browser,  # noqa: F811
                                                                    javascript):
    site, _address = live_site
    feedback_id = add_comment(site)
    context = browser.new_context(bypass_csp=True, viewport=PHONE, java_script_enabled=javascript)
    page = context.new_page()
    browser_sign_in(page, live_server, "coordinator@demo.example.gov.uk")
    loads, started = 0, time.monotonic()
    page.goto(f"{live_server}/coordinators/feedback/{feedback_id}")
    loads += 1
    marks = page.locator("#comment-text mark.lo-personal")
    expect(marks).to_have_count(2)
    expect(marks.first).to_contain_text("07700 900123")
    check_axe(page, javascript)
    page.screenshot(path=f"/tmp/phone-shots/guard-marked-{'js' if javascript else 'nojs'}.png", full_page=True)

    page.get_by_label("I have checked that this identifies no one").check()
    page.get_by_role("button", name="Publish", exact=True).click()
    loads += 1
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose whether to remove or keep 07700 900123")
    assert stored(site, feedback_id).status is FeedbackStatus.NEW
    check_axe(page, javascript)
    page.screenshot(path=f"/tmp/phone-shots/guard-refused-{'js' if javascript else 'nojs'}.png", full_page=True)

    if javascript:
        phone_group = page.locator(".govuk-form-group", has_text="Phone number:")
        name_group = page.locator(".govuk-form-group", has_text="Person's name:")
        phone_group.get_by_label("Remove it", exact=True).check()
        expect(name_group.get_by_label("Why keep it?")).to_be_hidden()
        name_group.get_by_label("Keep it", exact=True).check()
        expect(name_group.get_by_label("Why keep it?")).to_be_visible()
        name_group.get_by_label("Why keep it?").fill("She asked to be named")
        check_axe(page, javascript)
    else:
        page.get_by_role("button", name="Remove everything found").click()
        loads += 1
        expect(page.get_by_label("What the public will read")).to_have_value(
            "Contact me on [phone number removed], my name is [name removed]. "
            "There is nothing for teenagers near Leek.")
        assert stored(site, feedback_id).status is FeedbackStatus.NEW
    page.get_by_label("I have checked that this identifies no one").check()
    page.get_by_role("button", name="Publish", exact=True).click()
    loads += 1
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Published")
    seconds = time.monotonic() - started
    row = stored(site, feedback_id)
    assert row.status is FeedbackStatus.PUBLISHED and "07700" not in row.published_text
    assert ("Sarah Jones" in row.published_text) is javascript
    print(f"\nguard journey ({'JavaScript' if javascript else 'no JavaScript'}): {loads} page loads, "
          f"{seconds:.1f} s")
    context.close()
