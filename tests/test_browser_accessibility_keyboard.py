"""Keyboard-only journeys in Chromium (WCAG 2.1.1, 2.4.7, 2.4.11): Tab to move, Enter or Space to act, typing
only into text boxes; never a click.  On every stop the focus is visible (an outline or a box-shadow, and the
element looks different from unfocused) and not hidden: the element is inside the window (of a text box, which
the browser scrolls to its caret, at least 24px) and nothing covers it.

A parent searches, filters, opens a listing, saves it to the shortlist and leaves feedback; a provider signs in,
edits a listing and sends it for checking; a coordinator signs in and approves it.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from support import SWIM
from test_browser import browser, live_server, live_site  # noqa: F401  (fixtures)
from test_browser_accessibility import COORDINATOR, PROVIDER, open_page

pytestmark = pytest.mark.browser

#: The focused element: its name, whether its focus shows, whether it is in the window and uncovered.
FOCUS = r"""() => {
  const e = document.activeElement;
  if (!e || e === document.body) return {name: '(nothing)', shown: false, changed: false, inside: false, hit: ''};
  const squash = text => (text || '').replace(/\s+/g, ' ').trim();
  const name = squash(e.getAttribute('aria-label') || (e.labels && e.labels.length ? e.labels[0].textContent
               : (e.type === 'submit' && e.tagName === 'INPUT' ? e.value : e.textContent)));
  const look = () => {
    const parts = [getComputedStyle(e)];
    if (e.labels && e.labels.length) parts.push(getComputedStyle(e.labels[0], '::before'),
                                                getComputedStyle(e.labels[0], '::after'));
    return parts.map(s => [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow, s.backgroundColor,
                           s.color, s.borderWidth]);
  };
  const indicator = s => s[3] !== 'none' || (s[0] !== 'none' && parseFloat(s[1]) >= 1
                                              && !/transparent|rgba\(.*,\s*0\)/.test(s[2]));
  const focused = look();
  // GOV.UK draws a radio's or a checkbox's focus ring on its label's ::before; the input itself is invisible.
  const shown = (e.type === 'radio' || e.type === 'checkbox') ? focused.slice(1).some(indicator)
                                                             : indicator(focused[0]);
  e.blur();
  const unfocused = look();
  e.focus({preventScroll: true});
  const changed = JSON.stringify(focused) !== JSON.stringify(unfocused);
  // The part of it in the window: all of it, or (a tall text box, scrolled to its caret) at least 24px of it.
  const box = e.getBoundingClientRect(), width = document.documentElement.clientWidth;
  const top = Math.max(box.top, 0), bottom = Math.min(box.bottom, window.innerHeight);
  const whole = top <= box.top + 1 && bottom >= box.bottom - 1;
  const tall = e.tagName === 'TEXTAREA' || box.height > window.innerHeight;
  const inside = box.width > 0 && box.height > 0 && box.left >= -1 && box.right <= width + 1
                 && (whole || (tall && bottom - top >= 24));
  // A link across two lines: test the middle of its first line, not the gap between its lines.
  const line = e.getClientRects()[0] || box;
  const hit = document.elementFromPoint(line.left + line.width / 2,
                                        (Math.max(line.top, top) + Math.min(line.bottom, bottom)) / 2);
  const uncovered = !!hit && (hit === e || e.contains(hit) || (e.labels && [...e.labels].some(l => l.contains(hit))));
  return {name, shown, changed, inside: inside && uncovered,
          hit: hit ? hit.outerHTML.slice(0, 80) : '(none)', tag: e.tagName};
}"""


def tab_to(page, name: str, limit: int = 150) -> dict:
    """Press Tab until the element called ``name`` (or matching it, for a pattern) has focus; check every stop."""
    pattern, trail = re.compile(name) if name.startswith("^") else None, []
    for _ in range(limit):
        page.keyboard.press("Tab")
        state = page.evaluate(FOCUS)
        trail.append(state["name"])
        where = f"{state['name']!r} on {page.url} (after {trail[-4:-1]}, looking for {name!r})"
        assert state["shown"] and state["changed"], f"focus is not visible on {where}"
        assert state["inside"], f"focus is hidden on {where}: {state['hit']} is on top, or it is off screen"
        if (pattern.search(state["name"]) if pattern else state["name"] == name):
            return state
    raise AssertionError(f"Tab never reached {name!r} on {page.url}")


def press(page, key: str) -> None:
    """Press Enter or Space and wait for any page it loads."""
    page.keyboard.press(key)
    page.wait_for_load_state()


def sign_in_by_keyboard(page, base: str, email: str) -> None:
    page.goto(f"{base}/account/sign-in")
    tab_to(page, "Email address")
    page.keyboard.type(email)
    tab_to(page, "Password")
    page.keyboard.type("local-offer-demo")
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_a_parent_searches_filters_opens_a_listing_and_saves_it_with_the_keyboard(live_server, browser):  # noqa: F811
    page = open_page(browser, live_server)
    page.goto(f"{live_server}/")
    assert tab_to(page, "Skip to main content", limit=1)
    tab_to(page, "What are you looking for?")
    page.keyboard.type("swimming")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "q=swimming" in page.url

    tab_to(page, "Day")  # a filter group, closed: Enter opens it
    press(page, "Enter")
    tab_to(page, "^Saturday")
    press(page, "Space")
    assert page.locator("#f-day-SA").is_checked()
    tab_to(page, "Apply filters")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "day=SA" in page.url

    tab_to(page, "Otters calm swim sessions")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/listings/" in page.url
    expect(page.locator("h1")).to_have_text("Otters calm swim sessions")

    tab_to(page, "^Save to shortlist")
    press(page, "Enter")
    expect(page.locator("[data-shortlist-count]")).to_have_text("1")
    assert page.evaluate("document.activeElement.classList.contains('lo-save__button')"), "focus was lost on saving"
    page.reload()
    tab_to(page, "^Your shortlist")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".lo-shortlist__title a")).to_have_text(["Otters calm swim sessions"])
    tab_to(page, "Otters calm swim sessions")  # the saved listing can be reached from the shortlist
    page.context.close()


def test_a_parent_leaves_feedback_with_the_keyboard(live_server, browser):  # noqa: F811
    page = open_page(browser, live_server, viewport={"width": 390, "height": 844})
    page.goto(f"{live_server}/feedback")
    tab_to(page, "Send your comment")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter your comment")
    assert page.evaluate("document.activeElement.classList.contains('govuk-error-summary')")
    tab_to(page, "What is in the Local Offer, or missing from it")
    press(page, "Space")
    tab_to(page, "Your comment")
    page.keyboard.type("Please list more quiet swimming sessions on Saturdays.")
    tab_to(page, "Parent or carer")
    press(page, "Space")
    tab_to(page, "Send your comment")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("body")).to_contain_text("We have your comment")
    page.context.close()


def test_a_provider_edits_and_sends_and_a_coordinator_approves_with_the_keyboard(live_server, browser):  # noqa: F811
    provider = open_page(browser, live_server)
    sign_in_by_keyboard(provider, live_server, PROVIDER)
    assert provider.url.endswith("/portal/")
    tab_to(provider, "Otters calm swim sessions")
    with provider.expect_navigation():
        provider.keyboard.press("Enter")
    assert provider.url.endswith(f"/portal/listings/{SWIM}")
    tab_to(provider, "About the listing")
    with provider.expect_navigation():
        provider.keyboard.press("Enter")
    tab_to(provider, "Listing name")  # tabbing into a box selects its words: typing replaces them
    provider.keyboard.type("Moorlands Otters Kingfisher Sessions")
    tab_to(provider, "Save and continue")
    with provider.expect_navigation():
        provider.keyboard.press("Enter")
    expect(provider.locator("body")).to_contain_text("What you have changed")
    tab_to(provider, "Send for checking")
    with provider.expect_navigation():
        provider.keyboard.press("Enter")
    expect(provider.locator("body")).to_contain_text("Sent for checking")

    coordinator = open_page(browser, live_server)
    sign_in_by_keyboard(coordinator, live_server, COORDINATOR)
    coordinator.goto(f"{live_server}/moderation/")
    tab_to(coordinator, "Moorlands Otters Kingfisher Sessions")
    with coordinator.expect_navigation():
        coordinator.keyboard.press("Enter")
    expect(coordinator.locator("h1")).to_have_text("Moorlands Otters Kingfisher Sessions")
    tab_to(coordinator, "Approve and publish")
    with coordinator.expect_navigation():
        coordinator.keyboard.press("Enter")
    expect(coordinator.locator("body")).to_contain_text("Families can find")
    for page in (provider, coordinator):
        page.context.close()
