"""What families looked for and did not find, in Chromium: the coordinator's page, its period, CSV and map; districts."""

from __future__ import annotations

import csv
import io
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from test_browser import (PHONE, axe_violations, browser, browser_sign_in, live_server,  # noqa: F401
                          live_site)  # fixtures

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/demand-shots")
#: A word nobody else would type: searched for on the live site, it must reach neither page nor download.
SECRET_WORD = "zorbulated"


def no_sideways_scroll(page) -> bool:
    """Say whether the page fits the screen's width (wide tables scroll inside their own box)."""
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_a_coordinator_reads_the_page_changes_the_period_downloads_it_and_opens_the_map(live_server, browser):  # noqa: F811
    SHOTS.mkdir(exist_ok=True)
    context = browser.new_context(bypass_csp=True, viewport={"width": 1024, "height": 800}, accept_downloads=True)
    parent = context.new_page()
    parent.goto(f"{live_server}/search?q={SECRET_WORD}+swimming+for+my+12+year+old&where=ST13")
    time.sleep(1)  # the search log's writer stores it within a fraction of a second
    staff = context.new_page()
    browser_sign_in(staff, live_server, "coordinator@demo.example.gov.uk")
    staff.goto(f"{live_server}/admin/")
    staff.get_by_role("link", name="What families looked for and did not find").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text("What families looked for and did not find")
    top = staff.locator("main ul.govuk-list--bullet li").first.inner_text()
    assert top.startswith("Holiday clubs and playschemes for 11 to 15 year olds in Staffordshire Moorlands:"), top
    assert "fewer than 5" in staff.locator("main table").first.inner_text()
    assert SECRET_WORD not in staff.content()
    assert axe_violations(staff) == []
    staff.screenshot(path=str(SHOTS / "demand-desktop.png"), full_page=True)
    staff.screenshot(path=str(SHOTS / "demand-top.png"))
    staff.locator(".lo-scroll").first.screenshot(path=str(SHOTS / "demand-table.png"))
    staff.locator("#trends").scroll_into_view_if_needed()
    staff.screenshot(path=str(SHOTS / "demand-trends.png"))

    this_month = date.today().replace(day=1)
    earlier = (this_month - timedelta(days=75)).replace(day=1)
    staff.get_by_label("From the start of").select_option(earlier.strftime("%Y-%m"))
    staff.get_by_label("To the end of").select_option(this_month.strftime("%Y-%m"))
    staff.get_by_role("button", name="Show these months").click()
    staff.wait_for_load_state()
    assert f"start={earlier:%Y-%m}" in staff.url and f"end={this_month:%Y-%m}" in staff.url
    expect(staff.locator("main")).to_contain_text(f"1 {earlier:%B %Y}")
    assert axe_violations(staff) == []

    with staff.expect_download() as download:
        staff.get_by_role("link", name="Download this table for a spreadsheet (CSV)").click()
    body = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:3] == ["Need or activity", "Ages", "District"] and len(rows) > 5
    assert SECRET_WORD not in body

    staff.get_by_role("button", name="Show the districts on a map").click()
    expect(staff.locator("#demand-map path.leaflet-interactive").first).to_be_attached()
    assert staff.locator("#demand-map path.leaflet-interactive").count() == 9
    assert axe_violations(staff, "{exclude: [['#demand-map']]}") == []
    staff.locator("#demand-map").scroll_into_view_if_needed()
    staff.screenshot(path=str(SHOTS / "demand-map.png"))

    future = (this_month + timedelta(days=40)).strftime("%Y-%m")
    refused = staff.goto(f"{live_server}/coordinators/demand?start={future}&end={future}")
    assert refused.status == 400
    expect(staff.locator(".govuk-error-summary")).to_contain_text("has not happened yet")
    assert axe_violations(staff) == []
    context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_page_on_a_phone(live_server, browser, javascript):  # noqa: F811
    SHOTS.mkdir(exist_ok=True)
    context = browser.new_context(bypass_csp=True, viewport=PHONE, java_script_enabled=javascript)
    page = context.new_page()
    browser_sign_in(page, live_server, "coordinator@demo.example.gov.uk")
    page.goto(f"{live_server}/coordinators/demand")
    expect(page.get_by_role("heading", name="Most searched for and not found")).to_be_visible()
    page.screenshot(path=str(SHOTS / f"demand-phone-top-{'js' if javascript else 'nojs'}.png"))
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')].filter(element => !element.closest('.lo-scroll')
        && element.getBoundingClientRect().right > innerWidth + 2).slice(0, 5).map(element => element.tagName)""")
    assert no_sideways_scroll(page), f"the page scrolls sideways on a phone: {wide}"
    assert page.get_by_role("button", name="Show the districts on a map").is_visible() is javascript
    assert axe_violations(page) == [] if javascript else True  # axe needs JavaScript; the js run checks the page
    page.screenshot(path=str(SHOTS / f"demand-phone-{'js' if javascript else 'nojs'}.png"), full_page=True)
    context.close()


@pytest.mark.parametrize("viewport", [{"width": 1024, "height": 800}, PHONE], ids=["desktop", "phone"])
def test_an_administrator_keeps_the_districts(live_server, browser, viewport):  # noqa: F811
    SHOTS.mkdir(exist_ok=True)
    context = browser.new_context(bypass_csp=True, viewport=viewport)
    page = context.new_page()
    browser_sign_in(page, live_server, "admin@demo.example.gov.uk")
    page.goto(f"{live_server}/admin/")
    page.get_by_role("link", name="Districts searches are counted in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Districts")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Staffordshire Moorlands")
    assert axe_violations(page) == [] and no_sideways_scroll(page)
    name = "desktop" if viewport["width"] > 400 else "phone"
    page.screenshot(path=str(SHOTS / f"districts-{name}.png"), full_page=True)

    page.get_by_label("Name").fill("Leek town")
    page.get_by_label("Outward codes").fill("st13")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("ST13 is already in Staffordshire Moorlands")
    assert axe_violations(page) == []
    page.screenshot(path=str(SHOTS / f"districts-error-{name}.png"), full_page=True)

    page.get_by_role("link", name="Change Tamworth").click()
    page.get_by_label("Outward codes").fill("B77, B78, B79, ws14x")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("WS14X is not an outward code")
    assert axe_violations(page) == []
    page.get_by_label("Outward codes").fill("b77 b78 b79")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("District saved")
    context.close()
