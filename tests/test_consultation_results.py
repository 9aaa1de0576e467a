"""Consultation results: counts and percentages, breakdowns with small numbers hidden, the guard, exports, retention."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone

import docx
import pytest
from docx.oxml.ns import qn
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from local_offer import jobs
from local_offer.consultation_rules import free_text, results, retention
from local_offer.consultation_rules.results import percent
from local_offer.extensions import db
from local_offer.feedback.council_responses import local_today
from local_offer.feedback.guard import digest, find
from local_offer.models import (
    AnswerStatus,
    AuditEvent,
    Consultation,
    ConsultationAnswer,
    ConsultationQuestion,
    ConsultationResponse,
    ConsultationStatus,
    QuestionKind,
    Role,
)

from support import make_user, sign_in, text_of

PRIVATE = "My son Tom loves it. Call me on 07700 900123"
COUNTER = {"n": 0}


def make_consultation(closed: bool = True, slug: str = "short-breaks", status=ConsultationStatus.OPEN) -> Consultation:
    """A consultation with every kind of question and two "about you" questions."""
    today = local_today()
    consultation = Consultation(
        slug=slug, title="Short breaks: our priorities", audience="Parents, carers and young people",
        opens_on=today - timedelta(days=40), status=status,
        closes_on=today - timedelta(days=1) if closed else today + timedelta(days=9))
    consultation.questions = [
        ConsultationQuestion(position=1, kind=QuestionKind.AGREEMENT, text="Short breaks should be a priority"),
        ConsultationQuestion(position=2, kind=QuestionKind.SINGLE, text="When do you most need a break?",
                             options=["Weekends", "Holidays", "=After school"]),
        ConsultationQuestion(position=3, kind=QuestionKind.MULTIPLE, text="Which have you used?",
                             options=["Clubs", "Overnight stays", "Sitting service"]),
        ConsultationQuestion(position=4, kind=QuestionKind.TEXT, text="Anything else?"),
        ConsultationQuestion(position=5, kind=QuestionKind.AGREEMENT, text="Nobody answers this"),
        ConsultationQuestion(position=6, kind=QuestionKind.SINGLE, text="Who are you?", about_you=True,
                             options=["Parent or carer", "Young person", "Professional"]),
    ]
    db.session.add(consultation)
    db.session.commit()
    return consultation


def respond(consultation: Consultation, answers: dict[int, object], submitted: bool = True,
            simple: bool = False) -> ConsultationResponse:
    """Add one browser's response: {question position: choice, [choices] or text}."""
    COUNTER["n"] += 1
    by_position = {question.position: question for question in consultation.questions}
    response = ConsultationResponse(consultation_id=consultation.id, browser_key=f"{COUNTER['n']:064d}",
                                    submitted_at=datetime.now(timezone.utc) if submitted else None, simple=simple)
    for position, value in answers.items():
        question = by_position[position]
        if question.kind is QuestionKind.TEXT:
            response.answers.append(ConsultationAnswer(question_id=question.id, text=value))
        else:
            response.answers.append(ConsultationAnswer(question_id=question.id,
                                                       choices=value if isinstance(value, list) else [value]))
    db.session.add(response)
    db.session.commit()
    return response


@pytest.fixture
def filled(app):
    """A closed consultation with 8 sent responses (6 parents, 2 young people) and one half-finished."""
    consultation = make_consultation()
    for choice in ("strongly_agree", "strongly_agree", "agree", "agree", "agree", "disagree"):
        respond(consultation, {1: choice, 2: "Weekends", 3: ["Clubs", "Overnight stays"], 6: "Parent or carer"})
    respond(consultation, {1: "agree", 2: "Holidays", 3: ["Clubs"], 6: "Young person", 4: PRIVATE}, simple=True)
    respond(consultation, {1: "dont_know", 2: "Not an option", 6: "Young person", 4: "More clubs please"}, simple=True)
    respond(consultation, {1: "strongly_disagree", 4: "Half finished words"}, submitted=False)
    return consultation


@pytest.fixture
def coordinator(app):
    """A signed-in coordinator's client."""
    make_user("coordinator@example.gov.uk", Role.COORDINATOR)
    client = app.test_client()
    assert sign_in(client, "coordinator@example.gov.uk").status_code == 302
    return client


@pytest.fixture
def words(app):
    """Translations need a request (English)."""
    with app.test_request_context("/"):
        yield


def by_text(tally, text):
    return next(item for item in tally.questions if item.question.text == text)


# --- counting ----------------------------------------------------------------------------------------


def test_percentages_round_half_up_consistently():
    assert (percent(2, 3), percent(1, 8), percent(1, 3), percent(0, 0), percent(7, 8)) == (67, 13, 33, 0, 88)


@given(st.integers(0, 10**6), st.integers(1, 10**6))
def test_a_percentage_is_a_whole_number_between_0_and_100_near_the_exact_share(count, whole):
    count = min(count, whole)
    value = percent(count, whole)
    assert 0 <= value <= 100 and abs(value - 100 * count / whole) <= 0.5


def test_only_sent_responses_count_and_dont_know_is_said(filled, words):
    tally = results.tally(filled)
    assert (tally.responses, tally.simple_responses) == (8, 2)
    agreement = by_text(tally, "Short breaks should be a priority")
    assert agreement.answered == 8
    assert [(choice.label, choice.count, choice.percent) for choice in agreement.choices] == [
        ("Strongly agree", 2, 25), ("Agree", 4, 50), ("Neither agree nor disagree", 0, 0), ("Disagree", 1, 13),
        ("Strongly disagree", 0, 0), ("Don't know", 1, 13)]
    assert agreement.headline.startswith("75% strongly agreed or agreed (6 of 8). 8 people answered this question.")
    assert "1 said \u201cDon't know\u201d: counted among those who answered, not as agreeing." in agreement.headline
    single = by_text(tally, "When do you most need a break?")
    assert single.answered == 7  # "Not an option" is not a choice: not an answer
    assert [choice.count for choice in single.choices] == [6, 1, 0]
    assert single.headline.startswith("The most chosen: \u201cWeekends\u201d, 86% (6 of 7).")
    multiple = by_text(tally, "Which have you used?")
    assert [(choice.count, choice.percent) for choice in multiple.choices] == [(7, 100), (6, 86), (0, 0)]
    assert "more than 100" in multiple.headline
    assert by_text(tally, "Nobody answers this").headline == "No one answered this question."
    written = by_text(tally, "Anything else?")
    assert (written.answered, written.waiting, written.quotes) == (2, 2, [])


@pytest.fixture
def groups(app):
    """A closed consultation answered by 6 parents, 5 professionals and 2 young people, and 1 who did not say."""
    consultation = make_consultation(slug="groups")
    for choice in ("strongly_agree", "strongly_agree", "agree", "agree", "agree", "disagree"):
        respond(consultation, {1: choice, 6: "Parent or carer"})
    for _number in range(5):
        respond(consultation, {1: "neither", 6: "Professional"})
    respond(consultation, {1: "agree", 6: "Young person"})
    respond(consultation, {1: "agree", 6: ["Young person", "Not a choice"]})
    respond(consultation, {1: "agree"})
    return consultation


def test_breakdowns_hide_groups_of_fewer_than_5_and_the_next_smallest_while_needed(groups, words):
    agreement = by_text(results.tally(groups), "Short breaks should be a priority")
    assert len(agreement.breakdowns) == 1
    found = {group.label: group for group in agreement.breakdowns[0].groups}
    assert list(found) == ["Parent or carer", "Young person", "Professional", "Did not say"]
    parents = found["Parent or carer"]
    assert (parents.answered, parents.hidden) == (6, False)
    assert (parents.agreed, parents.agreed_percent) == (5, 83)
    assert [choice.count for choice in parents.choices] == [2, 3, 0, 1, 0, 0]
    assert found["Young person"].small and found["Young person"].choices == []
    assert found["Did not say"].small and found["Did not say"].answered == 1
    # 3 hidden people could be worked out from everyone's figures: the 5 professionals are withheld too.
    professionals = found["Professional"]
    assert professionals.withheld and professionals.hidden and not professionals.small and professionals.choices == []


@given(st.lists(st.integers(0, 40), min_size=1, max_size=8))
def test_no_group_shown_lets_anyone_work_out_fewer_than_5_people(sizes):
    groups = results.suppress([results.Group(f"Group {index}", size, [results.Choice("x", "x", size, 100)])
                               for index, size in enumerate(sizes)])
    hidden = sum(group.answered for group in groups if group.hidden)
    assert all(group.answered >= 5 for group in groups if not group.hidden and group.answered)
    assert hidden == 0 or hidden >= 5 or all(group.hidden for group in groups if group.answered)
    assert all(group.choices == [] for group in groups if group.hidden)
    assert [group.answered for group in groups] == sizes


def test_one_small_group_beside_one_big_one_hides_both(filled, words):
    agreement = by_text(results.tally(filled), "Short breaks should be a priority")
    found = {group.label: group for group in agreement.breakdowns[0].groups}
    assert found["Young person"].small and found["Parent or carer"].withheld
    assert found["Professional"].answered == 0 and not found["Professional"].hidden
    about_you = by_text(results.tally(filled), "Who are you?")
    assert about_you.breakdowns == []


def test_the_staff_page_shows_figures_charts_tables_and_waiting_answers(filled, coordinator):
    response = coordinator.get(f"/coordinators/consultations/{filled.id}/results")
    assert response.status_code == 200
    page = text_of(response)
    assert "75% strongly agreed or agreed (6 of 8)" in page
    assert "2 written answers are waiting to be checked." in page
    assert "fewer than 5: not shown" in page
    html = response.get_data(as_text=True)
    assert html.count('<figure class="lo-chart"') == 4 and "govuk-table__header--numeric" in html
    assert PRIVATE not in html and "More clubs please" not in html
    assert "Publish the results" in page


def test_bad_addresses_and_people_are_refused(filled, coordinator, app):
    assert coordinator.get("/coordinators/consultations/00000000-0000-0000-0000-000000000000/results"
                           ).status_code == 404
    assert coordinator.get("/coordinators/consultations/not-an-id/results").status_code == 404
    draft = make_consultation(slug="draft", status=ConsultationStatus.DRAFT)
    assert coordinator.get(f"/coordinators/consultations/{draft.id}/results").status_code == 409
    anonymous = app.test_client()
    assert "/account/sign-in" in anonymous.get(f"/coordinators/consultations/{filled.id}/results").headers["Location"]
    for name in ("staff_results", "staff_results_publish", "staff_results_csv", "staff_results_docx",
                 "staff_answers", "staff_answer", "staff_answer_publish", "staff_answer_exclude"):
        assert app.view_functions[f"consultations.{name}"].required_role is Role.COORDINATOR
    assert anonymous.get("/have-your-say/nothing-here/results").status_code == 404


# --- publishing the results --------------------------------------------------------------------------


def test_results_are_public_only_once_closed_and_published(filled, coordinator, app):
    public = app.test_client()
    assert public.get(f"/have-your-say/{filled.slug}/results").status_code == 404
    response = coordinator.post(f"/coordinators/consultations/{filled.id}/results/publish",
                                data={"outcome": "We will fund <b>two</b> more Saturday clubs."})
    assert response.status_code == 302
    db.session.refresh(filled)
    assert filled.results_published_at is not None and filled.outcome == "We will fund two more Saturday clubs."
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "consultation.results_published")
                              ).scalar_one().entity_id == filled.id
    page = public.get(f"/have-your-say/{filled.slug}/results")
    assert page.status_code == 200
    words = text_of(page)
    assert "75% strongly agreed or agreed (6 of 8)" in words and "We will fund two more Saturday clubs." in words
    assert "waiting" not in words and PRIVATE not in words and "More clubs please" not in words
    assert public.get(f"/have-your-say/{filled.slug}/results.csv").status_code == 200

    assert coordinator.post(f"/coordinators/consultations/{filled.id}/results/withdraw").status_code == 302
    assert public.get(f"/have-your-say/{filled.slug}/results").status_code == 404
    assert coordinator.post(f"/coordinators/consultations/{filled.id}/results/withdraw").status_code == 409


def test_an_open_consultations_results_cannot_be_published(coordinator):
    consultation = make_consultation(closed=False, slug="open-one")
    response = coordinator.post(f"/coordinators/consultations/{consultation.id}/results/publish",
                                data={"outcome": "Too soon"})
    assert response.status_code == 409 and "still open" in text_of(response)
    db.session.refresh(consultation)
    assert consultation.results_published_at is None and consultation.outcome == ""
    assert coordinator.get(f"/coordinators/consultations/{consultation.id}/results").status_code == 200


@given(outcome=st.text(max_size=6000), closed=st.booleans(), extra=st.dictionaries(
    st.sampled_from(["publish", "csrf_token", "withdraw-withdraw", "x"]), st.text(max_size=20), max_size=3))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_publish_results_form_is_answered_and_refusals_change_nothing(coordinator, outcome, closed, extra):
    db.session.execute(Consultation.__table__.delete())
    db.session.commit()
    consultation = make_consultation(closed=closed, slug="any")
    response = coordinator.post(f"/coordinators/consultations/{consultation.id}/results/publish",
                                data={**extra, "outcome": outcome})
    assert response.status_code in (302, 400, 409)
    db.session.expire_all()
    stored = db.session.get(Consultation, consultation.id)
    if response.status_code != 302:
        assert stored.results_published_at is None and stored.outcome == ""
    else:
        assert closed and stored.results_published_at is not None and len(stored.outcome) <= results.OUTCOME_MAX


@given(published=st.booleans(), data=st.dictionaries(st.sampled_from(["withdraw-withdraw", "csrf_token", "x"]),
                                                     st.text(max_size=20), max_size=3))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_withdraw_form_is_answered_and_refusals_change_nothing(coordinator, published, data):
    db.session.execute(Consultation.__table__.delete())
    db.session.commit()
    consultation = make_consultation(slug="withdraw")
    if published:
        consultation.results_published_at = datetime.now(timezone.utc)
        db.session.commit()
    response = coordinator.post(f"/coordinators/consultations/{consultation.id}/results/withdraw", data=data)
    assert response.status_code == (302 if published else 409)
    db.session.expire_all()
    assert db.session.get(Consultation, consultation.id).results_published_at is None


# --- exports -----------------------------------------------------------------------------------------


def test_the_csv_has_a_row_per_choice_breakdowns_and_no_private_words(filled, groups, coordinator):
    response = coordinator.get(f"/coordinators/consultations/{filled.id}/results.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "no-store" in response.headers["Cache-Control"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:7] == ["section", "question", "broken_down_by", "group", "answer", "people", "percent"]
    assert ["responses", "", "", "", "", "8", "", ""] in rows
    assert ["result", "Short breaks should be a priority", "", "", "Strongly agree", "2", "25", "8"] in rows
    assert ["result", "When do you most need a break?", "", "", "'=After school", "0", "0", "7"] in rows
    assert ["breakdown", "Short breaks should be a priority", "Who are you?", "Young person", "Agree",
            "fewer than 5", "", "fewer than 5"] in rows
    assert ["breakdown", "Short breaks should be a priority", "Who are you?", "Parent or carer", "Agree",
            "not shown, so a smaller group cannot be worked out", "",
            "not shown, so a smaller group cannot be worked out"] in rows
    assert ["result", "Short breaks should be a priority", "", "", "Strongly agreed or agreed", "6", "75", "8"] in rows
    shown = list(csv.reader(io.StringIO(coordinator.get(f"/coordinators/consultations/{groups.id}/results.csv")
                                        .get_data(as_text=True))))
    assert ["breakdown", "Short breaks should be a priority", "Who are you?", "Parent or carer", "Agree",
            "3", "50", "6"] in shown
    assert ["breakdown", "Short breaks should be a priority", "Who are you?", "Parent or carer",
            "Strongly agreed or agreed", "5", "83", "6"] in shown
    body = response.get_data(as_text=True)
    assert "07700" not in body and "More clubs please" not in body and "Half finished" not in body


def test_the_word_document_has_headings_tables_and_properties(filled, groups, coordinator):
    response = coordinator.get(f"/coordinators/consultations/{filled.id}/results.docx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    document = docx.Document(io.BytesIO(response.data))
    assert document.core_properties.title == "Consultation results: Short breaks: our priorities"
    assert document.core_properties.language == "en-GB" and document.core_properties.author
    headings = [(p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[0] == ("Heading 1", "Consultation results: Short breaks: our priorities")
    assert ("Heading 2", "Short breaks should be a priority") in headings
    assert ("Heading 3", "By answer to \u201cWho are you?\u201d") in headings
    text = "\n".join(p.text for p in document.paragraphs)
    assert "75% strongly agreed or agreed (6 of 8)." in text and "8 responses." in text
    first = document.tables[0]
    assert first.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert [cell.text for cell in first.rows[0].cells] == ["Answer", "People", "Percentage"]
    assert [cell.text for cell in first.rows[1].cells] == ["Strongly agree", "2", "25%"]
    assert first._tbl.tblPr.find(qn("w:tblCaption")) is not None
    breakdown = document.tables[1]
    assert [cell.text for cell in breakdown.rows[2].cells][:2] == ["Young person", "fewer than 5"]
    assert [cell.text for cell in breakdown.rows[0].cells][:3] == ["Group", "Answered", "Strongly agreed or agreed"]
    assert [cell.text for cell in breakdown.rows[1].cells][:2] == [
        "Parent or carer", "not shown, so a smaller group cannot be worked out"]
    shown = docx.Document(io.BytesIO(coordinator.get(f"/coordinators/consultations/{groups.id}/results.docx").data))
    assert [cell.text for cell in shown.tables[1].rows[1].cells][:4] == ["Parent or carer", "6", "83%", "33%"]
    assert "07700" not in text


# --- written answers ---------------------------------------------------------------------------------


def waiting_answer(consultation, text=PRIVATE) -> ConsultationAnswer:
    return next(answer for answer in free_text.waiting(consultation) if answer.text == text)


def test_the_queue_lists_sent_written_answers_only(filled, coordinator):
    page = text_of(coordinator.get(f"/coordinators/consultations/{filled.id}/answers"))
    assert "2 answers waiting, oldest first" in page and "More clubs please" in page
    assert "Half finished words" not in page
    assert free_text.waiting_count(filled) == 2


def test_publishing_needs_every_personal_detail_decided(filled, coordinator):
    answer = waiting_answer(filled)
    address = f"/coordinators/consultations/{filled.id}/answers/{answer.id}"
    page = coordinator.get(address)
    assert page.status_code == 200 and "Phone number" in text_of(page)
    refused = coordinator.post(f"{address}/publish", data={"public_text": PRIVATE, "confirm": "y"})
    assert refused.status_code == 400 and "Choose whether to remove or keep" in text_of(refused)
    db.session.refresh(answer)
    assert answer.status is AnswerStatus.NEW and answer.public_text == ""
    decisions = {f"pd-{digest(finding)}": "remove" for finding in find(PRIVATE)}
    done = coordinator.post(f"{address}/publish", data={"public_text": PRIVATE, "confirm": "y", **decisions})
    assert done.status_code == 302, text_of(done)
    db.session.refresh(answer)
    assert answer.status is AnswerStatus.PUBLISHED and answer.redacted
    assert "07700" not in answer.public_text and "[phone number removed]" in answer.public_text
    assert answer.text == PRIVATE  # what they wrote stays as written, privately
    audit = db.session.execute(select(AuditEvent).where(AuditEvent.action == "consultation_answer.published")
                               ).scalar_one()
    assert audit.changes["personal_details_removed"]["phone"] == 1 and "07700" not in str(audit.changes)
    assert by_text(results.tally(filled, public=True), "Anything else?").quotes == [answer.public_text]
    document = docx.Document(io.BytesIO(coordinator.get(f"/coordinators/consultations/{filled.id}/results.docx").data))
    quotes = [p.text for p in document.paragraphs if p.style.name == "Quote"]
    assert quotes == [answer.public_text]
    assert answer.public_text in coordinator.get(f"/coordinators/consultations/{filled.id}/results.csv"
                                                 ).get_data(as_text=True)


def test_remove_everything_found_only_shows_the_text_again(filled, coordinator):
    answer = waiting_answer(filled)
    address = f"/coordinators/consultations/{filled.id}/answers/{answer.id}"
    shown = coordinator.post(f"{address}/publish", data={"public_text": PRIVATE, "remove_all": "1"})
    assert shown.status_code == 200 and "[phone number removed]" in shown.get_data(as_text=True)
    db.session.refresh(answer)
    assert answer.status is AnswerStatus.NEW


def test_excluding_needs_a_note_and_keeps_it_counted(filled, coordinator):
    answer = waiting_answer(filled, "More clubs please")
    address = f"/coordinators/consultations/{filled.id}/answers/{answer.id}"
    assert coordinator.post(f"{address}/exclude", data={"exclude-note": "  "}).status_code == 400
    db.session.refresh(answer)
    assert answer.status is AnswerStatus.NEW
    assert coordinator.post(f"{address}/exclude", data={"exclude-note": "About one child's case"}).status_code == 302
    db.session.refresh(answer)
    assert answer.status is AnswerStatus.EXCLUDED and answer.exclusion_note == "About one child's case"
    written = by_text(results.tally(filled), "Anything else?")
    assert (written.answered, written.waiting, written.quotes) == (2, 1, [])


def test_an_answer_of_another_consultation_or_a_choice_is_a_404(filled, coordinator):
    other = make_consultation(slug="other")
    answer = waiting_answer(filled)
    assert coordinator.get(f"/coordinators/consultations/{other.id}/answers/{answer.id}").status_code == 404
    choice = db.session.execute(select(ConsultationAnswer).where(ConsultationAnswer.text == "")
                                .order_by(ConsultationAnswer.id)).scalars().first()
    assert coordinator.get(f"/coordinators/consultations/{filled.id}/answers/{choice.id}").status_code == 404


@given(text=st.text(max_size=5200), confirm=st.booleans(),
       decisions=st.dictionaries(st.from_regex(r"pd-[0-9a-f]{12}", fullmatch=True),
                                 st.sampled_from(["remove", "keep", "other"]), max_size=3))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_publish_answer_form_is_answered_and_refusals_change_nothing(filled, coordinator, text, confirm,
                                                                         decisions):
    answer = db.session.execute(select(ConsultationAnswer).where(ConsultationAnswer.text == PRIVATE)).scalar_one()
    before = (answer.status, answer.public_text)
    data = {"public_text": text, **decisions}
    if confirm:
        data["confirm"] = "y"
    response = coordinator.post(f"/coordinators/consultations/{filled.id}/answers/{answer.id}/publish", data=data)
    assert response.status_code in (302, 400)
    db.session.refresh(answer)
    if response.status_code == 400:
        assert (answer.status, answer.public_text) == before
    else:
        assert answer.status is AnswerStatus.PUBLISHED and "07700 900123" not in answer.public_text
        answer.status, answer.public_text = before
        db.session.commit()


@given(note=st.text(max_size=2200))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_exclude_form_is_answered_and_refusals_change_nothing(filled, coordinator, note):
    answer = db.session.execute(select(ConsultationAnswer).where(ConsultationAnswer.text == PRIVATE)).scalar_one()
    answer.status, answer.exclusion_note = AnswerStatus.NEW, ""
    db.session.commit()
    response = coordinator.post(f"/coordinators/consultations/{filled.id}/answers/{answer.id}/exclude",
                                data={"exclude-note": note})
    assert response.status_code in (302, 400)
    db.session.refresh(answer)
    if response.status_code == 400:
        assert (answer.status, answer.exclusion_note) == (AnswerStatus.NEW, "")
    else:
        assert answer.status is AnswerStatus.EXCLUDED and answer.exclusion_note.strip()


# --- retention ---------------------------------------------------------------------------------------


def counts(tally):
    return [(item.answered, [choice.count for choice in item.choices]) for item in tally.questions]


def test_retention_removes_half_finished_then_unpublished_words_and_keeps_counts(filled, words):
    published = waiting_answer(filled)
    free_text.publish(published, "My son loves it.", make_user("c@example.gov.uk", Role.COORDINATOR))
    before = counts(results.tally(filled))
    closed = filled.closes_on
    noon = datetime(closed.year, closed.month, closed.day, 12, tzinfo=timezone.utc)

    assert retention.purge(noon + timedelta(days=29)).half_finished == 0
    report = retention.purge(noon + timedelta(days=31))
    assert (report.half_finished, report.texts) == (1, 0)
    assert db.session.execute(select(func.count()).select_from(ConsultationResponse)).scalar_one() == 8
    assert retention.purge(noon + timedelta(days=364)).texts == 0

    report = retention.purge(noon + timedelta(days=367))
    assert (report.texts, report.originals) == (1, 1)
    db.session.expire_all()
    texts = {answer.text for answer in db.session.execute(select(ConsultationAnswer)).scalars()}
    assert "More clubs please" not in texts and PRIVATE not in texts and "My son loves it." in texts
    after = results.tally(filled)
    assert counts(after) == before
    assert by_text(after, "Anything else?").quotes == ["My son loves it."] and after.waiting == 0
    assert db.session.execute(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "consultation.retention")).scalar_one() == 4


def test_retention_leaves_open_consultations_alone_and_is_a_daily_job(app, words):
    consultation = make_consultation(closed=False, slug="open-one")
    respond(consultation, {1: "agree"}, submitted=False)
    assert retention.purge(datetime.now(timezone.utc) + timedelta(days=3)).half_finished == 0
    job = jobs.BY_NAME["consultation-retention"]
    assert job.every == timedelta(days=1)
    assert "Deleted 0 half-finished" in job.run(None)


def test_twelve_months_after_closing_is_the_same_day_a_year_later():
    assert retention.months_after(date(2025, 12, 5), 12) == date(2026, 12, 5)
    assert retention.months_after(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert retention.months_after(date(2025, 1, 31), 1) == date(2025, 2, 28)


def test_a_consultation_opening_later_has_an_empty_results_page(coordinator):
    consultation = make_consultation(closed=False, slug="later")
    consultation.opens_on = local_today() + timedelta(days=2)
    db.session.commit()
    page = text_of(coordinator.get(f"/coordinators/consultations/{consultation.id}/results"))
    assert "The consultation opens on" in page and "0 responses." in page
    assert page.count("No one answered this question.") == 6
