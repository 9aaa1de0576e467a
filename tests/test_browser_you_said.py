"""'You said, we did' on a phone, with and without JavaScript: the public page, and a coordinator's responses."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from test_browser import PHONE, axe_violations, browser, browser_sign_in, live_server, live_site  # noqa: F401

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/phone-shots")


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def javascript(request):
    return request.param


def axe_as_shown(browser, page) -> list[str]:  # noqa: F811
    """Run axe on the page as it is now; without JavaScript, on its very HTML in a page whose scripts are blocked."""
    if page.javascript:
        return axe_violations(page)
    html, address = page.content(), page.url.split("#")[0]
    context = browser.new_context(bypass_csp=True, viewport=PHONE, storage_state=page.context.storage_state())
    copy = context.new_page()
    copy.route("**/*.js", lambda route: route.abort())
    copy.route(lambda url: url.split("#")[0] == address,
               lambda route: route.fulfill(body=html, content_type="text/html; charset=utf-8"))
    copy.goto(address)
    try:
        return axe_violations(copy)
    finally:
        context.close()


def open_page(browser, javascript):  # noqa: F811
    """A phone's page with JavaScript on or off."""
    page = browser.new_context(java_script_enabled=javascript, bypass_csp=True, viewport=PHONE).new_page()
    page.javascript = javascript
    return page


def test_a_parent_reads_the_latest_responses_then_filters_comments(live_server, browser, javascript):  # noqa: F811
    """Explanation first, the latest responses by theme with each promise's progress, then filters and comments."""
    SHOTS.mkdir(exist_ok=True)
    page = open_page(browser, javascript)
    context = page.context
    page.goto(f"{live_server}/you-said-we-did")
    assert axe_as_shown(browser, page) == []
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 10_000, height  # it was 14,000 px
    explanation = page.get_by_text("Families, young people and professionals tell us").bounding_box()
    latest = page.get_by_role("heading", name="Our latest responses").bounding_box()
    filters = page.get_by_role("heading", name="Find comments").bounding_box()
    assert explanation["y"] < latest["y"] < filters["y"]
    expect(page.locator(".lo-theme-group").first.locator(".govuk-tag").first).to_be_visible()
    assert page.locator(".lo-promise .govuk-tag").filter(has_text="Done").count() >= 1
    assert page.locator(".lo-promise .govuk-tag").filter(has_text="Late").count() >= 1
    page.screenshot(path=str(SHOTS / f"you-said-top-{'js' if javascript else 'nojs'}.png"))
    page.get_by_label("Theme").select_option(label="Gaps for teenagers")
    page.get_by_role("button", name="Show comments").click()
    expect(page.locator("#comments [role=status]")).to_contain_text("published comment")
    assert "theme=gaps-teenagers" in page.url
    assert page.locator(".lo-theme-group").count() == 0
    page.locator(".lo-comment details summary").first.click()
    expect(page.locator(".lo-comment details .lo-promise").first).to_be_visible()
    assert axe_as_shown(browser, page) == []
    page.screenshot(path=str(SHOTS / f"you-said-filtered-{'js' if javascript else 'nojs'}.png"), full_page=True)
    context.close()


def test_a_coordinator_finds_comments_writes_a_promise_and_marks_it_done(live_server, browser,  # noqa: F811
                                                                        javascript):
    """Find comments by words and theme (ticked ones stay ticked), publish a promise, then mark it done."""
    page = open_page(browser, javascript)
    context = page.context
    browser_sign_in(page, live_server, "coordinator@demo.example.gov.uk")
    page.goto(f"{live_server}/coordinators/feedback/responses")
    assert axe_as_shown(browser, page) == []
    expect(page.locator("table")).to_contain_text("Late")
    page.screenshot(path=str(SHOTS / f"responses-{'js' if javascript else 'nojs'}.png"), full_page=True)

    page.get_by_role("link", name="Write a response").click()
    for legend in ("By when (optional)", "How far has it got?", "Published on or after", "Published on or before"):
        expect(page.get_by_role("group", name=legend)).to_be_visible()
    assert page.locator("input[name=feedback]").count() == 20  # a page of comments, not all 48
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose the comments it answers, or a theme")
    assert axe_as_shown(browser, page) == []

    page.get_by_label("Title").fill("Swimming for disabled children")
    page.get_by_label("You said").fill("You told us changing rooms need hoists.")
    page.get_by_label("We did, or we will").fill("We will fit a hoist at Leek pool.")
    page.get_by_label("Words in the comment").fill("swim")
    page.get_by_role("button", name="Find comments").click()
    expect(page.locator(".lo-finder [role=status]")).to_contain_text("found")
    results = page.locator("input[name=feedback]")
    assert results.count() >= 1
    first = results.first.get_attribute("value")
    results.first.check()
    page.get_by_label("Words in the comment").fill("")
    page.locator("#find-theme").select_option(label="Gaps for teenagers")
    page.get_by_role("button", name="Find comments").click()
    expect(page.get_by_text("1 comment chosen")).to_be_visible()
    expect(page.locator(f"input[name=feedback][value='{first}']")).to_be_checked()
    assert page.get_by_label("Title").input_value() == "Swimming for disabled children"
    assert axe_as_shown(browser, page) == []
    page.screenshot(path=str(SHOTS / f"response-finder-{'js' if javascript else 'nojs'}.png"), full_page=True)
    page.locator("input[name=feedback]").nth(1).check()
    page.locator("#action_due-day").fill("1")
    page.locator("#action_due-month").fill("1")
    page.locator("#action_due-year").fill("2026")
    page.get_by_role("radio", name="In progress", exact=True).check()
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("body")).to_contain_text("Published on 'You said, we did'")
    row = page.locator("tr", has_text="Swimming for disabled children")
    expect(row).to_contain_text("Late")

    row.get_by_role("link").click()
    assert axe_as_shown(browser, page) == []
    assert page.get_by_text("2 comments chosen").count() == 1
    page.get_by_role("radio", name="Done", exact=True).check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("tr", has_text="Swimming for disabled children")).to_contain_text("Done")
    context.close()
