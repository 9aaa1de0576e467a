"""Easy Read pages in Chromium: reached from the full page on a phone, accessible, no sideways scroll at 320px."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from test_browser import PHONE, axe_violations, browser, live_server, live_site  # noqa: F401  # fixtures

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/easy-read-shots")
NARROW = {"width": 320, "height": 640}


def no_sideways_scroll(page) -> bool:
    """Say whether the page fits the screen's width."""
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def wider_than_the_screen(page) -> list[str]:
    """Name the first few elements that reach past the screen's right edge (for the failure message)."""
    return page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(element => element.getBoundingClientRect().right > innerWidth + 1)
        .slice(0, 5).map(element => element.tagName + '.' + element.className)""")


def check_lines(page) -> None:
    """Every line has its picture, at least 48px square, beside (not above) its sentence."""
    lines = page.locator(".lo-easy-read__line")
    assert lines.count() > 10
    for index in range(lines.count()):
        line = lines.nth(index)
        picture, text = line.locator("img").bounding_box(), line.locator(".lo-easy-read__text").bounding_box()
        assert picture["width"] >= 48 and picture["height"] >= 48, picture
        assert picture["x"] + picture["width"] <= text["x"] + 1, (picture, text)  # a two-column row
    loaded = page.evaluate("() => [...document.querySelectorAll('.lo-easy-read__picture')].every(i => i.naturalWidth > 0)")
    assert loaded, "a picture did not load"


@pytest.mark.parametrize("slug", ["ehc-needs-assessment", "help-without-the-internet"])
def test_an_easy_read_page_on_a_phone_and_a_small_phone(live_server, browser, slug):  # noqa: F811
    SHOTS.mkdir(exist_ok=True)
    context = browser.new_context(bypass_csp=True, viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server}/information/{slug}")
    page.get_by_role("link", name="Easy Read version of this page").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/information/{slug}/easy-read")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Easy Read")
    expect(page.locator(".lo-easy-read__credit")).to_contain_text("Pictures: OpenMoji")
    check_lines(page)
    assert axe_violations(page) == []
    assert no_sideways_scroll(page), wider_than_the_screen(page)
    page.screenshot(path=str(SHOTS / f"{slug}-390.png"), full_page=True)

    page.set_viewport_size(NARROW)
    page.reload()
    check_lines(page)
    assert no_sideways_scroll(page), f"the page scrolls sideways at 320px: {wider_than_the_screen(page)}"
    assert axe_violations(page) == []
    page.screenshot(path=str(SHOTS / f"{slug}-320.png"), full_page=True)
    page.locator(".lo-easy-read__section").nth(1).scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"{slug}-320-screen.png"))

    page.get_by_role("link", name="Full version of this page").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/information/{slug}")
    context.close()


def test_an_easy_read_page_in_a_right_to_left_interface(live_server, browser):  # noqa: F811
    """In Arabic the page reads right to left around it; the English content stays left to right."""
    context = browser.new_context(bypass_csp=True, viewport=NARROW)
    host = live_server.split("//", 1)[1].split(":", 1)[0]
    context.add_cookies([{"name": "lo_lang", "value": "ar", "domain": host, "path": "/"}])
    page = context.new_page()
    page.goto(f"{live_server}/information/short-breaks/easy-read")
    assert page.locator(".lo-easy-read").get_attribute("lang") == "en"
    assert page.locator(".lo-easy-read").get_attribute("dir") == "ltr"
    check_lines(page)
    assert no_sideways_scroll(page), wider_than_the_screen(page)
    assert axe_violations(page) == []
    page.screenshot(path=str(SHOTS / "short-breaks-ar-320.png"), full_page=True)
    page.screenshot(path=str(SHOTS / "short-breaks-ar-320-screen.png"))
    context.close()
