"""Coordinators write a consultation: details, questions, "about you", preview, open and close early; bad input refused."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from local_offer.consultation_rules import authoring
from local_offer.consultations.common import state
from local_offer.extensions import db
from local_offer.models import (
    AuditEvent,
    Consultation,
    ConsultationQuestion,
    ConsultationResponse,
    ConsultationStatus,
    District,
    Role,
    User,
    utcnow,
)

from support import make_user, sign_in, text_of

TODAY = datetime.now(ZoneInfo("Europe/London")).date()  # the council's day, as the rules count it
BASE = "/coordinators/consultations"


@pytest.fixture
def staff(app):
    """A signed-in coordinator's browser."""
    make_user("coordinator@example.gov.uk", Role.COORDINATOR)
    client = app.test_client()
    assert sign_in(client, "coordinator@example.gov.uk").status_code == 302
    return client


def actor() -> User:
    return db.session.execute(select(User).where(User.email == "coordinator@example.gov.uk")).scalar_one()


def details(**overrides) -> dict:
    opens, closes = overrides.pop("opens", TODAY), overrides.pop("closes", TODAY + timedelta(days=42))
    data = {"title": "Short breaks: what would help your family?",
            "introduction": "We are planning short breaks for the next three years.\n\nTell us what would help.",
            "simple_introduction": "Tell us what you like to do.", "audience": "Parents, carers and young people",
            "opens_on": [str(opens.day), str(opens.month), str(opens.year)],
            "closes_on": [str(closes.day), str(closes.month), str(closes.year)]}
    data.update(overrides)
    return data


def create(staff, **overrides) -> Consultation:
    response = staff.post(f"{BASE}/new", data=details(**overrides))
    assert response.status_code == 302, text_of(response)
    return db.session.execute(select(Consultation).order_by(Consultation.created_at.desc())).scalars().first()


def add_question(staff, consultation, **overrides):
    data = {"kind": "agreement", "text": "Short breaks should be our first priority", **overrides}
    return staff.post(f"{BASE}/{consultation.id}/questions/new", data=data)


def snapshot() -> tuple:
    """Everything a refused request must leave alone."""
    rows = db.session.execute(select(Consultation.id, Consultation.title, Consultation.status, Consultation.opens_on,
                                     Consultation.closes_on, Consultation.introduction)
                              .order_by(Consultation.id)).all()
    questions = db.session.execute(select(ConsultationQuestion.id, ConsultationQuestion.position,
                                          ConsultationQuestion.text, ConsultationQuestion.options)
                                   .order_by(ConsultationQuestion.id)).all()
    audits = db.session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    db.session.expire_all()
    return [tuple(row) for row in rows], [tuple(row) for row in questions], audits


def test_a_coordinator_writes_a_consultation_adds_questions_and_opens_it(staff):
    consultation = create(staff)
    assert consultation.status is ConsultationStatus.DRAFT and consultation.slug == "short-breaks-what-would-help-your-family"
    assert "<p>We are planning" in consultation.introduction
    assert add_question(staff, consultation).status_code == 302
    assert add_question(staff, consultation, kind="multiple", text="Which of these would help your family most?",
                        simple_text="What would help you?",
                        options="Clubs after school\nHoliday schemes\n\nOvernight breaks\n").status_code == 302
    assert add_question(staff, consultation, kind="text", text="Anything else?", required="y").status_code == 302
    db.session.expire_all()
    kinds = [question.kind.value for question in consultation.questions]
    assert kinds == ["agreement", "multiple", "text"]
    assert consultation.questions[1].options == ["Clubs after school", "Holiday schemes", "Overnight breaks"]
    assert consultation.questions[2].required is True
    page = text_of(staff.get(f"{BASE}/{consultation.id}"))
    assert "3 questions" in page and "Holiday schemes" in page and "Open the consultation" in page
    form = staff.get(f"{BASE}/{consultation.id}/details").get_data(as_text=True)
    assert "We are planning short breaks" in form and "&lt;p&gt;" not in form
    assert staff.get(f"{BASE}/{consultation.id}/open").status_code == 200
    assert staff.post(f"{BASE}/{consultation.id}/open", data={}).status_code == 400  # not confirmed
    assert staff.post(f"{BASE}/{consultation.id}/open", data={"confirm": "y"}).status_code == 302
    db.session.expire_all()
    assert consultation.status is ConsultationStatus.OPEN and consultation.opened_at is not None
    assert state(consultation, TODAY) == "open"
    listing = text_of(staff.get(f"{BASE}/"))
    assert "Short breaks: what would help your family?" in listing and "Open" in listing
    actions = set(db.session.execute(select(AuditEvent.action).where(
        AuditEvent.entity_id == consultation.id)).scalars())
    assert {"consultation.created", "consultation.question_added", "consultation.opened"} <= actions


def test_the_slug_is_unique_and_follows_the_title_while_a_draft(staff):
    first, second = create(staff), create(staff)
    assert (first.slug, second.slug) == ("short-breaks-what-would-help-your-family",
                                         "short-breaks-what-would-help-your-family-2")
    assert staff.post(f"{BASE}/{second.id}/details", data=details(title="Travel to school")).status_code == 302
    db.session.expire_all()
    assert second.slug == "travel-to-school"


def test_two_coordinators_saving_the_same_title_at_once_get_a_409_not_a_500(staff, monkeypatch):
    first = create(staff)
    before = snapshot()
    monkeypatch.setattr(authoring, "unique_slug", lambda title, consultation=None: first.slug)  # the race's loser
    response = staff.post(f"{BASE}/new", data=details())
    assert response.status_code == 409
    assert "Save again" in text_of(response)
    assert snapshot() == before


def test_about_you_adds_who_you_are_and_the_districts_once(staff):
    db.session.add_all([District(name="Moorlands", outward_codes=["ST13"], position=1),
                        District(name="Cannock Chase", outward_codes=["WS11"], position=0)])
    db.session.commit()
    consultation = create(staff)
    assert staff.post(f"{BASE}/{consultation.id}/about-you").status_code == 302
    assert staff.post(f"{BASE}/{consultation.id}/about-you").status_code == 302  # nothing more to add
    db.session.expire_all()
    assert [question.text for question in consultation.questions] == ["Are you:", "Which district do you live in?"]
    who, where = consultation.questions
    assert who.options == list(authoring.RESPONDENT_OPTIONS) and who.about_you and where.about_you
    assert where.options == ["Cannock Chase", "Moorlands", "Outside the area", "Prefer not to say"]


def test_without_districts_about_you_asks_only_who_you_are(staff):
    consultation = create(staff)
    staff.post(f"{BASE}/{consultation.id}/about-you")
    db.session.expire_all()
    assert [question.text for question in consultation.questions] == ["Are you:"]


def test_questions_move_change_and_are_removed_in_a_draft(staff):
    consultation = create(staff)
    for text in ("First", "Second", "Third"):
        add_question(staff, consultation, text=text)
    db.session.expire_all()
    third = consultation.questions[2]
    assert staff.post(f"{BASE}/{consultation.id}/questions/{third.id}/move", data={"direction": "up"}).status_code == 302
    assert staff.post(f"{BASE}/{consultation.id}/questions/{third.id}/move",
                      data={"direction": "sideways"}).status_code == 400
    db.session.expire_all()
    assert [question.text for question in consultation.questions] == ["First", "Third", "Second"]
    first = consultation.questions[0]
    assert staff.post(f"{BASE}/{consultation.id}/questions/{first.id}/move", data={"direction": "up"}).status_code == 302
    assert staff.get(f"{BASE}/{consultation.id}/questions/{first.id}").status_code == 200
    assert staff.post(f"{BASE}/{consultation.id}/questions/{first.id}", data={
        "kind": "single", "text": "First, changed", "options": "Yes\nNo"}).status_code == 302
    assert staff.post(f"{BASE}/{consultation.id}/questions/{third.id}/remove").status_code == 302
    db.session.expire_all()
    assert [(question.text, question.position) for question in consultation.questions] == [
        ("First, changed", 0), ("Second", 1)]
    assert consultation.questions[0].options == ["Yes", "No"]


def test_preview_shows_the_parents_and_the_young_peoples_version(staff):
    consultation = create(staff)
    add_question(staff, consultation, kind="single", text="How often do you use short breaks?",
                 simple_text="How often do you go?", options="Every week\nSometimes")
    standard = text_of(staff.get(f"{BASE}/{consultation.id}/preview"))
    simple = text_of(staff.get(f"{BASE}/{consultation.id}/preview", query_string={"version": "young-people"}))
    assert "How often do you use short breaks?" in standard and "We are planning short breaks" in standard
    assert "How often do you go?" in simple and "Tell us what you like to do." in simple
    assert "We are planning" not in simple
    assert staff.get(f"{BASE}/{consultation.id}/preview", query_string={"version": "x"}).status_code == 400


def test_a_consultation_without_questions_cannot_open(staff):
    consultation = create(staff)
    before = snapshot()
    page = staff.get(f"{BASE}/{consultation.id}/open")
    assert "Add at least one question" in text_of(page)
    response = staff.post(f"{BASE}/{consultation.id}/open", data={"confirm": "y"})
    assert response.status_code == 409 and "Add at least one question" in text_of(response)
    assert snapshot() == before


def test_closing_before_opening_is_refused(staff, app):
    response = staff.post(f"{BASE}/new", data=details(closes=TODAY - timedelta(days=1)))
    assert response.status_code == 400
    assert "The closing date must be on or after the opening date" in text_of(response)
    assert snapshot()[0] == []
    consultation = create(staff, opens=TODAY - timedelta(days=30), closes=TODAY - timedelta(days=2))
    add_question(staff, consultation)
    before = snapshot()
    response = staff.post(f"{BASE}/{consultation.id}/open", data={"confirm": "y"})
    assert response.status_code == 409 and "closing date has already passed" in text_of(response)
    assert snapshot() == before
    with app.test_request_context("/"), pytest.raises(authoring.Refused):
        authoring.save_details(consultation, title="x", introduction="", simple_introduction="", audience="",
                               opens_on=TODAY, closes_on=TODAY - timedelta(days=1), actor=actor())


def test_very_long_fields_are_refused_with_a_message(staff):
    response = staff.post(f"{BASE}/new", data=details(introduction="a" * 20_000))
    assert response.status_code == 400 and "Use 10,000 characters or fewer" in text_of(response)
    assert "There is a problem" in text_of(response)
    consultation = create(staff)
    before = snapshot()
    response = add_question(staff, consultation, text="q" * 20_000)
    assert response.status_code == 400 and "Use 500 characters or fewer" in text_of(response)
    response = add_question(staff, consultation, kind="single", options="Yes\n" + "n" * 20_000)
    assert response.status_code == 400
    assert snapshot() == before


@pytest.mark.parametrize("options, message", [
    ("Only one", "Give at least 2 choices"),
    ("Yes\nyes", "Each choice must be different"),
    ("\n".join(f"Choice {n}" for n in range(21)), "Give 20 choices or fewer"),
    ("Yes\n" + "n" * 201, "Each choice must be 200 characters or fewer"),
    ("<b></b>\nYes", "Give at least 2 choices"),
])
def test_choice_questions_need_two_to_twenty_different_choices(staff, options, message):
    consultation = create(staff)
    before = snapshot()
    response = add_question(staff, consultation, kind="multiple", options=options)
    assert response.status_code == 400 and message in text_of(response)
    assert snapshot() == before


def test_once_opened_questions_stay_and_only_the_words_and_a_later_closing_date_change(staff):
    consultation = create(staff)
    add_question(staff, consultation)
    staff.post(f"{BASE}/{consultation.id}/open", data={"confirm": "y"})
    db.session.expire_all()
    question = consultation.questions[0]
    before = snapshot()
    assert add_question(staff, consultation).status_code == 409
    assert staff.post(f"{BASE}/{consultation.id}/questions/{question.id}", data={
        "kind": "text", "text": "Changed"}).status_code == 409
    assert staff.post(f"{BASE}/{consultation.id}/questions/{question.id}/remove").status_code == 409
    assert staff.post(f"{BASE}/{consultation.id}/about-you").status_code == 409
    assert staff.post(f"{BASE}/{consultation.id}/questions/{question.id}/move",
                      data={"direction": "down"}).status_code == 409
    assert staff.post(f"{BASE}/{consultation.id}/details", data=details(
        opens=TODAY + timedelta(days=1))).status_code == 409
    assert staff.post(f"{BASE}/{consultation.id}/details", data=details(
        closes=TODAY - timedelta(days=1), opens=TODAY - timedelta(days=5))).status_code == 409
    assert staff.post(f"{BASE}/{consultation.id}/open", data={"confirm": "y"}).status_code == 409
    assert snapshot() == before
    assert staff.post(f"{BASE}/{consultation.id}/details", data=details(
        title="Short breaks: tell us", closes=TODAY + timedelta(days=60))).status_code == 302
    db.session.expire_all()
    assert consultation.title == "Short breaks: tell us" and consultation.closes_on == TODAY + timedelta(days=60)
    assert consultation.slug == "short-breaks-what-would-help-your-family"  # links already shared keep working


def test_close_early_asks_first_then_closes_for_good(staff):
    consultation = create(staff)
    add_question(staff, consultation)
    assert staff.post(f"{BASE}/{consultation.id}/close", data={"confirm": "y"}).status_code == 409  # a draft
    staff.post(f"{BASE}/{consultation.id}/open", data={"confirm": "y"})
    db.session.add(ConsultationResponse(consultation_id=consultation.id, browser_key="a" * 64,
                                        submitted_at=utcnow()))
    db.session.commit()
    page = text_of(staff.get(f"{BASE}/{consultation.id}/close"))
    assert "1 person has sent their answers so far" in page and "cannot be opened again" in page
    assert staff.post(f"{BASE}/{consultation.id}/close", data={}).status_code == 400
    db.session.expire_all()
    assert consultation.status is ConsultationStatus.OPEN
    assert staff.post(f"{BASE}/{consultation.id}/close", data={"confirm": "y"}).status_code == 302
    db.session.expire_all()
    assert consultation.status is ConsultationStatus.CLOSED and consultation.closed_at is not None
    assert state(consultation, TODAY) == "closed"
    assert staff.post(f"{BASE}/{consultation.id}/close", data={"confirm": "y"}).status_code == 409
    assert staff.post(f"{BASE}/{consultation.id}/open", data={"confirm": "y"}).status_code == 409
    assert staff.post(f"{BASE}/{consultation.id}/details", data=details(
        closes=TODAY + timedelta(days=90))).status_code == 409  # never reopened by a later date
    listing = text_of(staff.get(f"{BASE}/"))
    assert "Closed" in listing


def test_unknown_ids_are_404_and_the_pages_are_for_coordinators_only(staff, app):
    consultation = create(staff)
    other = create(staff)
    add_question(staff, other)
    db.session.expire_all()
    foreign = other.questions[0].id
    unknown = "00000000-0000-0000-0000-000000000000"
    for path in (f"{BASE}/{unknown}", f"{BASE}/{unknown}/details", f"{BASE}/{unknown}/preview",
                 f"{BASE}/{unknown}/open", f"{BASE}/{consultation.id}/questions/{foreign}", f"{BASE}/nonsense"):
        assert staff.get(path).status_code == 404, path
    assert staff.post(f"{BASE}/{consultation.id}/questions/{foreign}/remove").status_code == 404
    assert staff.post(f"{BASE}/{consultation.id}/questions/{foreign}/move", data={"direction": "up"}).status_code == 404
    for endpoint in ("staff_list", "staff_details", "staff_questions", "staff_question", "staff_preview",
                     "staff_open", "staff_close", "staff_about_you", "staff_move_question", "staff_remove_question"):
        assert app.view_functions[f"consultations.{endpoint}"].required_role is Role.COORDINATOR
    assert "/account/sign-in" in app.test_client().get(f"{BASE}/").headers["Location"]


def test_the_coordinators_find_consultations_from_their_home_and_the_feedback_page(staff):
    assert f"{BASE}/" in staff.get("/admin/").get_data(as_text=True)
    assert f"{BASE}/" in staff.get("/coordinators/feedback/").get_data(as_text=True)


def test_the_results_link_appears_only_when_the_results_page_exists(staff, app):
    from local_offer.consultations.authoring_views import consultation_results_url

    consultation = create(staff)
    with app.test_request_context("/"):
        url = consultation_results_url(consultation)
    assert (url is None) == ("consultations.staff_results" not in app.view_functions)
    assert staff.get(f"{BASE}/").status_code == 200


# --- any input: a page or a clear 4xx, never a 500; nothing stored on refusal ---------------------------

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40) | st.sampled_from(
    ["", " ", "<b></b>", "a" * 20_000, "Yes\nNo", "Yes\nyes", "\n".join("x" * n for n in range(1, 25))])
DAY = st.lists(st.sampled_from(["", "1", "31", "2", "13", "0", "x", "2026", "1999", "2101", str(TODAY.year)]),
               max_size=4)


@given(title=TEXT, introduction=TEXT, audience=TEXT, opens=DAY, closes=DAY)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_details_give_a_draft_or_a_clear_400(staff, title, introduction, audience, opens, closes):
    before = snapshot()
    response = staff.post(f"{BASE}/new", data={"title": title, "introduction": introduction, "audience": audience,
                                               "opens_on": opens, "closes_on": closes})
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        assert "There is a problem" in text_of(response)
        assert snapshot() == before


@given(kind=st.sampled_from(["agreement", "single", "multiple", "text", "", "other"]), text=TEXT, simple=TEXT,
       hint=TEXT, options=TEXT, required=st.sampled_from(["", "y", "nonsense"]))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_question_gives_a_question_or_a_clear_400(staff, kind, text, simple, hint, options, required):
    consultation = db.session.execute(select(Consultation)).scalars().first() or create(staff)
    before = snapshot()
    response = staff.post(f"{BASE}/{consultation.id}/questions/new", data={
        "kind": kind, "text": text, "simple_text": simple, "hint": hint, "options": options, "required": required})
    assert response.status_code in (302, 400, 409)
    if response.status_code != 302:
        assert snapshot() == before


@given(which=st.sampled_from(["open", "close"]), confirm=st.sampled_from([None, "", "y", "no", "x" * 5000]),
       questions=st.booleans(), past=st.booleans())
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_confirmation_opens_or_closes_or_says_why_not(staff, which, confirm, questions, past):
    consultation = create(staff, opens=TODAY - timedelta(days=10),
                          closes=TODAY - timedelta(days=1) if past else TODAY + timedelta(days=10))
    if questions:
        add_question(staff, consultation)
    before = snapshot()
    response = staff.post(f"{BASE}/{consultation.id}/{which}", data={} if confirm is None else {"confirm": confirm})
    assert response.status_code in (302, 400, 409)
    if response.status_code != 302:
        assert snapshot() == before
    else:
        db.session.expire_all()
        assert consultation.status is ConsultationStatus.OPEN and questions and not past and which == "open"


def test_opened_before_its_opening_date_it_opens_later(staff):
    consultation = create(staff, opens=TODAY + timedelta(days=7), closes=TODAY + timedelta(days=30))
    add_question(staff, consultation)
    assert staff.post(f"{BASE}/{consultation.id}/open", data={"confirm": "y"}).status_code == 302
    db.session.expire_all()
    assert state(consultation) == "scheduled" and "Opens later" in text_of(staff.get(f"{BASE}/"))
    assert staff.get(f"{BASE}/{consultation.id}/close").status_code == 200  # it can still be closed early


@given(direction=TEXT, which=st.sampled_from(["move", "remove", "about-you"]), question=st.booleans())
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_button_post_changes_the_draft_or_says_why_not(staff, direction, which, question):
    consultation = db.session.execute(select(Consultation)).scalars().first() or create(staff)
    if not consultation.questions:
        add_question(staff, consultation, text="One")
        add_question(staff, consultation, text="Two")
        db.session.expire_all()
    target = consultation.questions[-1].id if question else "00000000-0000-0000-0000-000000000000"
    path = {"move": f"{BASE}/{consultation.id}/questions/{target}/move",
            "remove": f"{BASE}/{consultation.id}/questions/{target}/remove",
            "about-you": f"{BASE}/{consultation.id}/about-you"}[which]
    before = snapshot()
    response = staff.post(path, data={"direction": direction})
    assert response.status_code in (302, 400, 404)
    if response.status_code != 302:
        assert snapshot() == before
    elif which == "move":
        assert direction in ("up", "down")


# --- the demo ---------------------------------------------------------------------------------------------


def test_the_demo_has_one_open_and_one_closed_consultation_with_published_results(small_content, runner):
    from local_offer.config import PROJECT_ROOT
    from local_offer.consultation_rules import demo
    from local_offer.models import AnswerStatus, ConsultationAnswer

    (small_content / "districts.yaml").symlink_to(PROJECT_ROOT / "content" / "districts.yaml")
    for _ in range(2):  # loading twice adds nothing
        result = runner.invoke(args=["content", "load", "--demo"])
        assert result.exit_code == 0, result.output
    consultations = db.session.execute(select(Consultation).order_by(Consultation.slug)).scalars().all()
    assert [row.slug for row in consultations] == [demo.CLOSED_SLUG, demo.OPEN_SLUG]
    closed, open_ = consultations
    assert state(closed) == "closed" and closed.results_published_at is not None and closed.outcome
    assert state(open_) == "open"
    submitted = [row for row in closed.responses if row.submitted_at is not None]
    assert 360 <= len(submitted) <= 380
    assert any(row.simple for row in submitted) and any(row.submitted_at is None for row in closed.responses)
    assert len({row.submitted_at.date() for row in submitted}) > 20  # spread across the weeks it was open
    main = closed.questions[0]
    picks = db.session.execute(select(ConsultationAnswer.choices).join(ConsultationResponse).where(
        ConsultationAnswer.question_id == main.id, ConsultationResponse.submitted_at.is_not(None))).scalars().all()
    agreed = sum(1 for choices in picks if choices[0] in ("strongly_agree", "agree"))
    assert round(100 * agreed / len(picks)) == 88
    words = db.session.execute(select(ConsultationAnswer).where(ConsultationAnswer.text != "")
                               .order_by(ConsultationAnswer.id)).scalars().all()
    published = [row for row in words if row.status is AnswerStatus.PUBLISHED]
    assert len(published) >= 6 and all(row.public_text and row.moderated_at for row in published)
    assert any(row.redacted and "[school removed]" in row.public_text for row in published)
    assert sum(1 for row in words if row.status is AnswerStatus.NEW and row.question.consultation is closed) >= 3
    kinds = {question.kind.value for question in closed.questions}
    assert kinds == {"agreement", "single", "multiple", "text"}
    assert [question.text for question in closed.questions if question.about_you] == [
        "Are you:", "Which district do you live in?"]
    assert 5 <= sum(1 for row in open_.responses if row.submitted_at is not None) <= 12
