"""The partnership report and the coordinators' home in Chromium: legible charts, an A4 print, a phone, axe."""

from __future__ import annotations

import io
import re
from pathlib import Path

import docx
import pytest
from playwright.sync_api import expect

from test_browser import (PHONE, axe_violations, browser, browser_sign_in, live_server,  # noqa: F401
                          live_site)  # fixtures

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/report-shots")

#: Every piece of text in the report's charts and tables, with its size and whether it fits its box.
MEASURE = """() => {
  const found = [];
  for (const element of document.querySelectorAll('.lo-report .lo-chart *, .lo-report table *')) {
    const own = [...element.childNodes].some(node => node.nodeType === 3 && node.textContent.trim());
    if (!own || element.closest('[aria-hidden=true], .govuk-visually-hidden')) continue;
    const box = element.getBoundingClientRect(), figure = element.closest('figure, table').getBoundingClientRect();
    found.push({text: element.textContent.trim().slice(0, 40), size: parseFloat(getComputedStyle(element).fontSize),
                cut: element.scrollWidth > element.clientWidth + 1 && getComputedStyle(element).display !== 'inline',
                outside: box.left < figure.left - 1 || box.right > figure.right + 1});
  }
  return found;
}"""


def check_legible(page) -> int:
    """Every chart and table word at least 14px, inside its chart or table, none cut off; return how many."""
    texts = page.evaluate(MEASURE)
    assert texts, "no chart text found"
    small = [text for text in texts if text["size"] < 14]
    assert small == [], small[:5]
    cut = [text for text in texts if text["cut"] or text["outside"]]
    assert cut == [], cut[:5]
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"], "sideways scroll"
    return len(texts)


def test_the_report_is_legible_prints_as_a4_and_downloads_as_a_document(live_server, browser):  # noqa: F811
    SHOTS.mkdir(exist_ok=True)
    context = browser.new_context(bypass_csp=True, viewport={"width": 1024, "height": 800}, accept_downloads=True)
    staff = context.new_page()
    browser_sign_in(staff, live_server, "coordinator@demo.example.gov.uk")
    staff.goto(f"{live_server}/coordinators/feedback/report")
    expect(staff.locator("figure.lo-chart")).to_have_count(4)
    assert check_legible(staff) > 40
    body = "\n".join(staff.locator(".lo-report figure, .lo-report table").all_inner_texts())
    assert re.search(r"\d+ \((none|\d+) last year\)", body) and "vs" not in body and "+" not in body
    assert axe_violations(staff) == []
    staff.screenshot(path=str(SHOTS / "report-desktop.png"), full_page=True)

    with staff.expect_download() as download:
        staff.get_by_role("link", name="Download the report as a Word document").click()
    document = docx.Document(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert document.core_properties.title == "Feedback on the Local Offer: report to the SEND partnership"
    assert len(document.tables) == 4

    staff.emulate_media(media="print")
    hidden = staff.evaluate("""() => ['.lo-header__tools', '.govuk-footer', '.lo-report-form', '.govuk-breadcrumbs',
        '.govuk-service-navigation', '.govuk-button'].filter(selector => [...document.querySelectorAll(selector)]
        .some(element => getComputedStyle(element).display !== 'none'))""")
    assert hidden == [], f"printed although it should not be: {hidden}"
    expect(staff.locator("figure.lo-chart").first).to_be_visible()
    staff.screenshot(path=str(SHOTS / "report-print.png"), full_page=True)
    pdf = staff.pdf(prefer_css_page_size=True, print_background=False)
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert boxes and all(abs(float(w) - 595.3) < 2 and abs(float(h) - 841.9) < 2 for w, h in boxes), boxes[:3]
    (SHOTS / "report.pdf").write_bytes(pdf)
    assert 2 <= len(boxes) <= 12, f"{len(boxes)} A4 pages"  # 8 with the demo year of feedback
    context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_report_on_a_phone(live_server, browser, javascript):  # noqa: F811
    context = browser.new_context(bypass_csp=True, viewport=PHONE, java_script_enabled=javascript)
    page = context.new_page()
    browser_sign_in(page, live_server, "coordinator@demo.example.gov.uk")
    page.goto(f"{live_server}/coordinators/feedback/report")
    check_legible(page)
    assert axe_violations(page) == [] if javascript else True  # axe needs JavaScript; the js run checks the page
    page.screenshot(path=str(SHOTS / f"report-phone-{'js' if javascript else 'nojs'}.png"), full_page=True)
    context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_coordinators_home_on_a_phone(live_server, browser, javascript):  # noqa: F811
    SHOTS.mkdir(exist_ok=True)
    context = browser.new_context(bypass_csp=True, viewport=PHONE, java_script_enabled=javascript)
    page = context.new_page()
    browser_sign_in(page, live_server, "coordinator@demo.example.gov.uk")
    page.goto(f"{live_server}/admin/")
    expect(page.get_by_role("heading", name="What needs doing today")).to_be_visible()
    counts = page.locator(".lo-todo__count").all_inner_texts()
    assert len(counts) >= 4 and all(count.isdigit() for count in counts)
    assert "scheduled job" not in page.locator("main").inner_text().lower()
    assert axe_violations(page) == [] if javascript else True
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the page scrolls sideways on a phone"
    page.screenshot(path=str(SHOTS / f"home-phone-{'js' if javascript else 'nojs'}.png"), full_page=True)
    for name in ("Feedback to moderate", "Changes to check", "Reviews overdue", "Failed imports and feeds"):
        page.goto(f"{live_server}/admin/")
        page.get_by_role("link", name=name, exact=True).click()
        page.wait_for_load_state()
        assert page.url != f"{live_server}/admin/" and "Sorry" not in page.title()
        assert axe_violations(page) == [] if javascript else True
    context.close()
