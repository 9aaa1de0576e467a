"""Search alerts in a real browser on a 390 x 844 phone, with and without JavaScript; axe on every new page.

From a results page: the link, the form, the "check your email" page, then the
emailed confirm and unsubscribe links, each a page with one button.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from local_offer import mail
from test_browser import (CHROMIUM_ARGS, PHONE, axe_violations, browser, live_server, live_site,  # noqa: F401
                          phone)  # fixtures

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/alert-shots")


def check(page, name: str, full_page: bool = True) -> None:
    """Keep a screenshot to look at, and run axe (it needs JavaScript: with it off, skip it)."""
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{'js' if page.javascript else 'nojs'}.png"), full_page=full_page)
    if page.javascript:
        assert axe_violations(page) == []


def emailed_link(site, to: str, kind: str) -> str:
    """Return the path of the confirm or unsubscribe link in the last email to ``to``."""
    with site.app.app_context():
        body = [message for message in mail.sent_messages() if message["To"] == to][-1].get_content()
    return re.search(rf"http://[^/\s]+(/alerts/{kind}/\S+)", body).group(1)


def test_from_results_to_confirmed_to_unsubscribed(live_site, live_server, phone):  # noqa: F811
    site, _address = live_site
    to = f"parent-{'js' if phone.javascript else 'nojs'}@home.example"
    phone.goto(f"{live_server}/search?q=swimming&free=1")
    link = phone.get_by_role("link", name="Get emails about new results for this search")
    link.scroll_into_view_if_needed()
    check(phone, "1-results", full_page=False)
    link.click()
    assert "/alerts/new?" in phone.url
    assert "Words: “swimming”" in phone.locator("#alert-search").inner_text()
    assert "Free only" in phone.locator("#alert-search").inner_text()
    check(phone, "2-form")
    phone.get_by_role("button", name="Send me a confirmation email").click()  # empty: the error summary
    assert "There is a problem" in phone.content() and "Enter your email address" in phone.content()
    check(phone, "3-form-error")
    phone.get_by_label("Email address").fill(to)
    phone.get_by_role("button", name="Send me a confirmation email").click()
    assert phone.url.endswith("/alerts/sent")
    check(phone, "4-sent")

    phone.goto(live_server + emailed_link(site, to, "confirm"))
    check(phone, "5-confirm")
    phone.get_by_role("button", name="Confirm and start emails").click()
    assert "Your search alert is on" in phone.content()
    check(phone, "6-confirmed")

    unsubscribe = live_server + emailed_link(site, to, "unsubscribe")
    phone.goto(unsubscribe)
    check(phone, "7-unsubscribe")
    phone.get_by_role("button", name="Unsubscribe").click()
    assert "You have unsubscribed" in phone.content()
    check(phone, "8-unsubscribed")
    response = phone.goto(unsubscribe)
    assert response.status == 410 and "already unsubscribed" in phone.content()
    check(phone, "9-again")
