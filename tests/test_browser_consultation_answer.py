"""Have your say on a 390 x 844 phone in Chromium: a parent answers (leaving half-way and finishing later), with
and without JavaScript, and a young person answers the simpler version; axe finds nothing on any page."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from local_offer.consultations import common
from local_offer.extensions import db
from local_offer.models import (
    Consultation,
    ConsultationQuestion,
    ConsultationResponse,
    ConsultationStatus,
    QuestionKind,
)

from test_browser import PHONE, axe_violations, browser, live_server, live_site  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/consultation-answer-shots")
SLUG = "short-breaks-phone"


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def javascript(request):
    return request.param


@pytest.fixture
def consultation(live_site, live_server):  # noqa: F811
    """An open consultation of four questions, one of each kind, in the live site's database."""
    site, _address = live_site
    with site.app.app_context():
        today = common.local_today()
        row = Consultation(
            slug=SLUG, title="Short breaks for 2027", status=ConsultationStatus.OPEN,
            introduction="<p>We are planning short breaks for next year. Tell us what would help your family.</p>",
            simple_introduction="<p>We want to know which clubs and trips you would like.</p>",
            audience="Parents and carers, and young people aged 11 to 25",
            opens_on=today - timedelta(days=3), closes_on=today + timedelta(days=25))
        row.questions = [
            ConsultationQuestion(position=0, kind=QuestionKind.AGREEMENT, required=True,
                                 text="Short breaks should be offered in every district",
                                 simple_text="There should be clubs near where you live"),
            ConsultationQuestion(position=1, kind=QuestionKind.SINGLE, required=True, about_you=True,
                                 text="Are you answering as", options=["A parent or carer", "A young person",
                                                                       "A professional"]),
            ConsultationQuestion(position=2, kind=QuestionKind.MULTIPLE, text="When would you use short breaks?",
                                 simple_text="When would you go?", options=["Weekends", "After school",
                                                                            "School holidays"]),
            ConsultationQuestion(position=3, kind=QuestionKind.TEXT, text="What else should we know?",
                                 simple_text="Anything else?"),
        ]
        db.session.add(row)
        db.session.commit()
        db.session.remove()
    return site


def responses(site) -> list[tuple]:
    """Each response to the test's consultation: sent or not, which version, its answers (the demo has others)."""
    with site.app.app_context():
        rows = db.session.execute(select(ConsultationResponse).join(Consultation).where(Consultation.slug == SLUG)
                                  .order_by(ConsultationResponse.started_at)).scalars()
        found = [(row.submitted_at is not None, row.simple,
                  sorted((answer.question.position, tuple(answer.choices), answer.text) for answer in row.answers))
                 for row in rows]
        db.session.remove()
    return found


def phone_page(browser, javascript):  # noqa: F811
    page = browser.new_context(java_script_enabled=javascript, bypass_csp=True, viewport=PHONE).new_page()
    page.javascript = javascript
    return page


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{'js' if page.javascript else 'nojs'}.png"), full_page=True)


def axe_as_shown(page) -> list[str]:
    """Run axe on the page as it is; without JavaScript, on its very HTML in a page whose own scripts are blocked."""
    if page.javascript:
        return axe_violations(page)
    html, address = page.content(), page.url.split("#")[0]
    context = page.context.browser.new_context(bypass_csp=True, viewport=PHONE)
    copy = context.new_page()
    copy.route("**/*.js", lambda route: route.abort())
    copy.route(lambda url: url.split("#")[0] == address,
               lambda route: route.fulfill(body=html, content_type="text/html; charset=utf-8"))
    copy.goto(address)
    try:
        return axe_violations(copy)
    finally:
        context.close()


def looks_right(page, name: str) -> None:
    """No sideways scrolling on the phone, axe finds nothing (on the no-JavaScript HTML too), and a screenshot."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], f"{name} scrolls sideways"
    assert axe_as_shown(page) == [], name
    shot(page, name)


def cont(page) -> None:
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()


def test_a_parent_answers_on_a_phone_leaves_half_way_and_finishes_later(consultation, live_server, browser,  # noqa: F811
                                                                        javascript):
    page = phone_page(browser, javascript)
    page.goto(f"{live_server}/")
    page.get_by_role("link", name="Have your say").first.click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name="Have your say", level=1)).to_be_visible()
    looks_right(page, "list")
    page.get_by_role("link", name=re.compile(r"^Answer now\s*: Short breaks for 2027$")).click()
    page.wait_for_load_state()
    expect(page.get_by_text("Parents and carers, and young people aged 11 to 25")).to_be_visible()
    expect(page.get_by_role("link", name="How we keep your answers")).to_be_visible()
    looks_right(page, "intro")
    page.get_by_role("button", name="Start now").click()
    page.wait_for_load_state()

    # Continue without an answer: the error, linked from the summary at the top.
    expect(page.get_by_text("Question 1 of 4")).to_be_visible()
    cont(page)
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose an answer")
    assert page.title().startswith("Error:")
    looks_right(page, "question-error")
    page.get_by_label("Agree", exact=True).check()
    cont(page)
    page.get_by_label("A parent or carer").check()
    cont(page)
    expect(page.get_by_text("Question 3 of 4")).to_be_visible()
    shot(page, "question-3")

    # The parent puts the phone away; later, on the same phone, carries on where they left off.
    context = page.context
    page.close()
    later = context.new_page()
    later.javascript = javascript
    later.goto(f"{live_server}/have-your-say/{SLUG}")
    later.get_by_role("button", name="Carry on where you left off").click()
    later.wait_for_load_state()
    expect(later.get_by_text("Question 3 of 4")).to_be_visible()
    later.get_by_label("Weekends").check()
    later.get_by_label("School holidays").check()
    cont(later)
    later.get_by_label("What else should we know?").fill("Saturday clubs near Leek would help us most.")
    cont(later)

    expect(later.get_by_role("heading", name="Check your answers before sending them")).to_be_visible()
    expect(later.locator(".govuk-summary-list")).to_contain_text("Weekends")
    looks_right(later, "check")
    later.get_by_role("link", name="Change question 1").click()
    later.wait_for_load_state()
    later.get_by_label("Strongly agree").check()
    cont(later)
    expect(later.locator(".govuk-summary-list")).to_contain_text("Strongly agree")
    later.get_by_role("button", name="Send your answers").click()
    later.wait_for_load_state()
    expect(later.get_by_role("heading", name="Your answers have been sent")).to_be_visible()
    looks_right(later, "confirmation")

    # Once sent, this phone cannot answer again.
    later.goto(f"{live_server}/have-your-say/{SLUG}")
    expect(later.get_by_text("You have already answered this consultation on this device")).to_be_visible()
    expect(later.get_by_role("button", name="Start now")).to_have_count(0)
    assert responses(consultation) == [(True, False, [
        (0, ("strongly_agree",), ""), (1, ("A parent or carer",), ""), (2, ("Weekends", "School holidays"), ""),
        (3, (), "Saturday clubs near Leek would help us most.")])]
    context.close()


def test_a_young_person_answers_the_simpler_version(consultation, live_server, browser):  # noqa: F811
    page = phone_page(browser, True)
    page.goto(f"{live_server}/have-your-say")
    page.get_by_role("link", name=re.compile(r"^Version for young people\s*: Short breaks for 2027$")).click()
    page.wait_for_load_state()
    expect(page.get_by_text("We want to know which clubs and trips you would like.")).to_be_visible()
    looks_right(page, "young-intro")
    page.get_by_role("button", name="Start now").click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name="There should be clubs near where you live")).to_be_visible()
    page.get_by_label("Yes, a lot").check()
    looks_right(page, "young-question")
    cont(page)
    page.get_by_label("A young person").check()
    cont(page)
    page.get_by_label("After school").check()
    cont(page)
    expect(page.get_by_label("Anything else?")).to_be_visible()
    cont(page)  # free text may be left out
    expect(page.locator(".govuk-summary-list")).to_contain_text("Yes, a lot")
    looks_right(page, "young-check")
    page.get_by_role("button", name="Send your answers").click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name="Your answers have been sent")).to_be_visible()
    looks_right(page, "young-confirmation")
    assert responses(consultation) == [(True, True, [
        (0, ("strongly_agree",), ""), (1, ("A young person",), ""), (2, ("After school",), "")])]
    page.context.close()
