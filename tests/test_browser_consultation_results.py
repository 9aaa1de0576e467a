"""Consultation results in Chromium: a coordinator reads them, publishes a written answer through the guard and
publishes the results; a parent reads them on a phone. axe on every page."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.sync_api import expect

from local_offer.extensions import db
from local_offer.feedback.council_responses import local_today
from local_offer.models import (
    Consultation,
    ConsultationAnswer,
    ConsultationQuestion,
    ConsultationResponse,
    ConsultationStatus,
    QuestionKind,
)

from test_browser import (PHONE, axe_violations, browser, browser_sign_in, live_server,  # noqa: F401
                          live_site)  # fixtures

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/consultation-results-shots")
SLUG = "results-in-a-browser"
WRITTEN = "The Saturday club changed our weekends. Ring me on 07700 900123 if you want to know more."


def add_consultation(site) -> str:
    """Add a consultation that closed yesterday, with 15 sent answers (9 parents, 3 young people, 3 professionals)."""
    with site.app.app_context():
        today = local_today()
        consultation = Consultation(slug=SLUG, title="Short breaks in the holidays",
                                    audience="Families of children with SEND", opens_on=today - timedelta(days=30),
                                    closes_on=today - timedelta(days=1), status=ConsultationStatus.OPEN)
        consultation.questions = [
            ConsultationQuestion(position=1, kind=QuestionKind.AGREEMENT,
                                 text="Holiday short breaks should be the partnership's first priority"),
            ConsultationQuestion(position=2, kind=QuestionKind.MULTIPLE, text="Which have you used?",
                                 options=["Holiday clubs", "Overnight stays", "Sitting service"]),
            ConsultationQuestion(position=3, kind=QuestionKind.TEXT, text="What else should we know?"),
            ConsultationQuestion(position=4, kind=QuestionKind.SINGLE, text="Who are you?", about_you=True,
                                 options=["Parent or carer", "Young person", "Professional"]),
        ]
        db.session.add(consultation)
        db.session.flush()
        first, multiple, text, who = consultation.questions
        scale = ["strongly_agree", "agree", "agree", "strongly_agree", "agree", "agree", "disagree", "agree",
                 "strongly_agree", "dont_know", "agree", "agree", "agree", "agree", "disagree"]
        for number, choice in enumerate(scale):
            response = ConsultationResponse(consultation_id=consultation.id, browser_key=f"{number:064d}",
                                            submitted_at=datetime.now(timezone.utc) - timedelta(days=3),
                                            simple=9 <= number < 12)
            response.answers = [
                ConsultationAnswer(question_id=first.id, choices=[choice]),
                ConsultationAnswer(question_id=multiple.id, choices=["Holiday clubs"] + (
                    ["Overnight stays"] if number % 3 == 0 else [])),
                ConsultationAnswer(question_id=who.id, choices=[
                    "Parent or carer" if number < 9 else "Young person" if number < 12 else "Professional"]),
            ]
            if number in (0, 4):
                response.answers.append(ConsultationAnswer(question_id=text.id, text=WRITTEN if number == 0 else
                                                           "More clubs near Leek, please."))
            db.session.add(response)
        db.session.commit()
        consultation_id = consultation.id
        db.session.remove()
    return consultation_id


def test_a_coordinator_publishes_an_answer_and_the_results_and_a_parent_reads_them_on_a_phone(
        live_site, live_server, browser):  # noqa: F811
    SHOTS.mkdir(exist_ok=True)
    site, _address = live_site
    consultation_id = add_consultation(site)
    context = browser.new_context(bypass_csp=True, viewport={"width": 1024, "height": 800})
    staff = context.new_page()
    browser_sign_in(staff, live_server, "coordinator@demo.example.gov.uk")
    results_address = f"{live_server}/coordinators/consultations/{consultation_id}/results"
    staff.goto(results_address)
    expect(staff.get_by_role("heading", name="Short breaks in the holidays")).to_be_visible()
    main = staff.locator("main")
    expect(main).to_contain_text("80% strongly agreed or agreed (12 of 15)")
    expect(main).to_contain_text("2 written answers are waiting to be checked.")
    expect(staff.locator("figure.lo-chart")).to_have_count(3)
    assert axe_violations(staff) == []
    staff.screenshot(path=str(SHOTS / "staff-results.png"), full_page=True)

    staff.get_by_role("link", name="Check the written answers").click()
    expect(staff.get_by_role("heading", name="Written answers")).to_be_visible()
    assert axe_violations(staff) == []
    staff.screenshot(path=str(SHOTS / "answers-queue.png"), full_page=True)
    staff.get_by_role("link", name=WRITTEN[:40], exact=False).click()
    expect(staff.get_by_role("heading", name="A written answer")).to_be_visible()
    expect(staff.locator("#answer-text mark")).to_contain_text("07700 900123")
    assert axe_violations(staff) == []

    staff.get_by_role("checkbox", name="I have checked that this identifies no one").check()
    staff.get_by_role("button", name="Publish", exact=True).click()  # the phone number is not decided yet: refused
    expect(staff.locator(".govuk-error-summary")).to_contain_text("Choose whether to remove or keep 07700 900123")
    assert axe_violations(staff) == []
    staff.screenshot(path=str(SHOTS / "answer-refused.png"), full_page=True)
    staff.get_by_label("Remove it").check()
    staff.get_by_role("checkbox", name="I have checked that this identifies no one").check()
    staff.get_by_role("button", name="Publish", exact=True).click()
    expect(staff.locator(".govuk-notification-banner")).to_contain_text("Published.")

    staff.goto(results_address)
    expect(main).to_contain_text("1 written answer is waiting to be checked.")
    staff.get_by_label("What we will do next (optional)").fill("We will fund two more holiday clubs from April.")
    staff.get_by_role("button", name="Publish the results").click()
    expect(staff.locator(".govuk-notification-banner")).to_contain_text("The results are published.")
    expect(staff.get_by_role("button", name="Withdraw the results")).to_be_visible()
    assert axe_violations(staff) == []
    context.close()

    phone = browser.new_context(bypass_csp=True, viewport=PHONE).new_page()
    phone.goto(f"{live_server}/have-your-say/{SLUG}/results")
    body = phone.locator("main")
    expect(body).to_contain_text("80% strongly agreed or agreed (12 of 15)")
    expect(body).to_contain_text("We will fund two more holiday clubs from April.")
    expect(body).to_contain_text("Ring me on [phone number removed]")
    assert "More clubs near Leek" not in body.inner_text() and "07700" not in phone.content()
    phone.get_by_text("By answer to “Who are you?”").first.click()
    expect(body).to_contain_text("fewer than 5: not shown")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "sideways scroll on a phone"
    assert axe_violations(phone) == []
    phone.screenshot(path=str(SHOTS / "public-results-phone.png"), full_page=True)
    for number, section in enumerate(phone.locator("section.lo-consultation-question").all()[:3], start=1):
        section.screenshot(path=str(SHOTS / f"public-results-phone-question-{number}.png"))
    phone.context.close()
