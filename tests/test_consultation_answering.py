"""Have your say: the list, the introduction, answering one question a page, checking, sending, once per browser.

Consultations and questions are made here with the ORM, as a coordinator's
pages would leave them.  Every refusal (closed, draft, already answered, a
value not among the choices, 20,000 characters) is a clear 4xx and stores
nothing; Hypothesis posts anything at every form.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from local_offer import create_app
from local_offer.consultation_rules import answering
from local_offer.consultations import common
from local_offer.extensions import db, limiter
from local_offer.models import (
    Consultation,
    ConsultationAnswer,
    ConsultationQuestion,
    ConsultationResponse,
    ConsultationStatus,
    QuestionKind,
)

from support import make_test_config, text_of

WHO = ["Parent or carer", "Young person", "Professional"]
DAYS = ["Saturdays", "Sundays", "School holidays"]


def today():
    return common.local_today()


def long(day) -> str:
    """A date as the pages write it: 22 November 2026."""
    return f"{day.day} {day:%B %Y}"


def make_consultation(slug="short-breaks", status=ConsultationStatus.OPEN, opens=-5, closes=20, questions=None,
                      **fields) -> Consultation:
    """A consultation opening ``opens`` days from today and closing ``closes`` days from today."""
    consultation = Consultation(
        slug=slug, title=fields.pop("title", "Short breaks for 2027"),
        introduction=fields.pop("introduction", "<p>We want to know what you think of <strong>short breaks</strong>.</p>"),
        simple_introduction=fields.pop("simple_introduction", "<p>Tell us about clubs and breaks.</p>"),
        audience=fields.pop("audience", "Parents and carers of children with SEND"),
        opens_on=today() + timedelta(days=opens), closes_on=today() + timedelta(days=closes), status=status,
        **fields)
    for position, question in enumerate(questions if questions is not None else default_questions()):
        question.position = position
        consultation.questions.append(question)
    db.session.add(consultation)
    db.session.commit()
    return consultation


def default_questions():
    return [
        ConsultationQuestion(kind=QuestionKind.AGREEMENT, text="Do you agree with the refreshed priority?",
                             simple_text="Do you like this idea?", required=True),
        ConsultationQuestion(kind=QuestionKind.SINGLE, text="Who are you?", options=list(WHO), required=True,
                             about_you=True),
        ConsultationQuestion(kind=QuestionKind.MULTIPLE, text="When would you use short breaks?",
                             hint="Think about the next year.", options=list(DAYS)),
        ConsultationQuestion(kind=QuestionKind.TEXT, text="Anything else?", simple_text="Anything more to say?"),
    ]


def questions_of(consultation):
    return [question.id for question in consultation.questions]


def url(consultation, *parts, simple=False):
    return "/".join([f"/have-your-say/{consultation.slug}"] + (["young-people"] if simple else []) + list(parts))


def answer(client, consultation, index, simple=False, **data):
    question_id = questions_of(consultation)[index]
    return client.post(url(consultation, "questions", question_id, simple=simple), data=data)


def answer_all(client, consultation, simple=False):
    """Answer the four default questions and send; return the last response."""
    assert answer(client, consultation, 0, simple, answer="agree").status_code == 302
    assert answer(client, consultation, 1, simple, answer="Young person").status_code == 302
    assert answer(client, consultation, 2, simple, answer=["Sundays", "Saturdays"]).status_code == 302
    assert answer(client, consultation, 3, simple, answer="More in the holidays, please").status_code == 302
    return client.post(url(consultation, "check-your-answers", simple=simple))


def counts():
    """Rows of responses and answers, and how many are sent: what a refusal must never change."""
    return (db.session.execute(select(func.count()).select_from(ConsultationResponse)).scalar_one(),
            db.session.execute(select(func.count()).select_from(ConsultationAnswer)).scalar_one(),
            db.session.execute(select(func.count()).select_from(ConsultationResponse).where(
                ConsultationResponse.submitted_at.is_not(None))).scalar_one())


def stored_answers():
    db.session.expire_all()
    return db.session.execute(select(ConsultationAnswer).order_by(ConsultationAnswer.id)).scalars().all()


def cookie_of(client, consultation):
    return client.get_cookie(answering.cookie_name(consultation), path="/have-your-say")


# --- the list and the introduction ---------------------------------------------------------------------


def test_the_list_shows_open_then_closed_never_drafts_or_scheduled(app):
    client = app.test_client()
    make_consultation("open-one", title="Short breaks for 2027")
    make_consultation("closed-one", title="Transport survey", opens=-60, closes=-10)
    make_consultation("published-one", title="Preparing for adulthood", opens=-90, closes=-40,
                      results_published_at=datetime.now(timezone.utc))
    make_consultation("early", title="Closed early", status=ConsultationStatus.CLOSED,
                      closed_at=datetime.now(timezone.utc) - timedelta(days=2))
    make_consultation("draft-one", title="A draft nobody sees", status=ConsultationStatus.DRAFT)
    make_consultation("later", title="Opens next month", opens=20, closes=40)
    response = client.get("/have-your-say")
    page, html = text_of(response), response.get_data(as_text=True)
    assert response.status_code == 200
    assert "A draft nobody sees" not in page and "Opens next month" not in page
    open_at, closed_at = page.index("Open consultations"), page.index("Closed consultations")
    assert open_at < page.index("Short breaks for 2027") < closed_at
    assert page.index("Transport survey") > closed_at and page.index("Closed early") > closed_at
    assert "Parents and carers of children with SEND" in page and "Answer now" in page
    assert f"Closes on {long(today() + timedelta(days=20))}" in page
    assert 'href="/have-your-say/published-one/results"' in html
    assert 'href="/have-your-say/closed-one/results"' not in html
    assert page.count("Results will be published here") == 2
    assert f"Closed early Who it was for: Parents and carers of children with SEND Closed on {long(today() - timedelta(days=2))}" in page


def test_home_page_and_footer_link_to_have_your_say(demo):
    html = demo.test_client().get("/").get_data(as_text=True)
    assert html.count('href="/have-your-say"') == 2  # the home page's paragraph and the footer


def test_introduction_says_who_how_long_anonymous_and_starts_at_the_first_question(app):
    consultation = make_consultation()
    response = app.test_client().get(url(consultation))
    page, html = text_of(response), response.get_data(as_text=True)
    assert response.status_code == 200
    assert "We want to know what you think of short breaks" in page and "<strong>short breaks</strong>" in html
    assert "Parents and carers of children with SEND" in page
    assert "About 3 minutes (4 questions)" in page
    assert "Your answers are anonymous" in page
    assert 'href="/information/privacy-notice#if-you-answer-a-consultation"' in html
    assert f'href="{url(consultation, "questions", questions_of(consultation)[0])}"' in html
    assert f'href="{url(consultation, simple=True)}"' in html
    assert response.headers["Cache-Control"] == "no-store"
    assert '<span lang="en">' not in html and '<div lang="en">' not in html  # in English: nothing to mark


def test_the_privacy_notice_has_the_section_the_introduction_links_to(app):
    html = app.test_client().get("/information/privacy-notice").get_data(as_text=True)
    assert 'id="if-you-answer-a-consultation"' in html
    page = re.sub(r"\s+", " ", html)
    for words in ("we do not ask for your name, email address or home address", "scrambled form of the key",
                  "deleted 30 days after the consultation closes", "deleted 12 months after the consultation closes"):
        assert words in page


def test_the_young_peoples_version_uses_the_simpler_words(app):
    consultation = make_consultation()
    client = app.test_client()
    page = text_of(client.get(url(consultation, simple=True)))
    assert "Tell us about clubs and breaks." in page and "short breaks</strong>" not in page
    question = client.get(url(consultation, "questions", questions_of(consultation)[0], simple=True))
    page = text_of(question)
    assert "Do you like this idea?" in page and "Yes, a lot" in page and "Strongly agree" not in page
    # A question with no simpler words is asked in its own.
    assert "Who are you?" in text_of(client.get(url(consultation, "questions", questions_of(consultation)[1],
                                                     simple=True)))


@pytest.mark.parametrize("status,opens,closes", [(ConsultationStatus.DRAFT, -5, 20),
                                                 (ConsultationStatus.OPEN, 3, 20)])
def test_drafts_and_consultations_not_yet_open_are_not_found(app, status, opens, closes):
    consultation = make_consultation(status=status, opens=opens, closes=closes)
    client = app.test_client()
    for path in (url(consultation), url(consultation, simple=True),
                 url(consultation, "questions", questions_of(consultation)[0]), url(consultation, "check-your-answers"),
                 url(consultation, "thank-you")):
        assert client.get(path).status_code == 404, path
    assert answer(client, consultation, 0, answer="agree").status_code == 404
    assert client.post(url(consultation, "check-your-answers")).status_code == 404
    assert counts() == (0, 0, 0)
    assert app.test_client().get("/have-your-say/no-such-thing").status_code == 404


def test_a_closed_consultation_is_gone_and_says_when_it_closed_and_where_the_results_are(app):
    consultation = make_consultation(opens=-30, closes=-2)
    response = app.test_client().get(url(consultation))
    assert response.status_code == 410
    assert f"It closed on {long(today() - timedelta(days=2))}," in text_of(response)
    assert "We will publish the results" in text_of(response)
    consultation.results_published_at = datetime.now(timezone.utc)
    db.session.commit()
    response = app.test_client().get(url(consultation, simple=True))
    assert response.status_code == 410
    assert f'href="/have-your-say/{consultation.slug}/results"' in response.get_data(as_text=True)


# --- answering, end to end -----------------------------------------------------------------------------


def test_a_parent_answers_checks_changes_and_sends(app):
    consultation = make_consultation()
    client = app.test_client()
    ids = questions_of(consultation)
    first = client.get(url(consultation, "questions", ids[0]))
    assert first.status_code == 200 and "Question 1 of 4" in text_of(first)
    assert first.headers["Cache-Control"] == "no-store"
    assert counts() == (0, 0, 0)  # looking stores nothing
    response = answer(client, consultation, 0, answer="strongly_agree")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/questions/{ids[1]}")
    cookie = cookie_of(client, consultation)
    assert cookie is not None and cookie.http_only and cookie.path == "/have-your-say" and not cookie.secure
    assert cookie.same_site == "Lax"
    assert cookie.expires.date() == consultation.closes_on + timedelta(days=7)
    stored = db.session.execute(select(ConsultationResponse)).scalar_one()
    assert stored.browser_key == hashlib.sha256(cookie.value.encode()).hexdigest()
    assert stored.submitted_at is None and stored.language == "en" and stored.simple is False
    assert answer(client, consultation, 1, answer="Parent or carer").status_code == 302
    assert answer(client, consultation, 2, answer=["School holidays", "Saturdays"]).status_code == 302
    last = answer(client, consultation, 3, answer="<b>More</b> in the holidays\nplease")
    assert last.headers["Location"].endswith("/check-your-answers")
    check = client.get(url(consultation, "check-your-answers"))
    page = text_of(check)
    assert check.status_code == 200 and "Strongly agree" in page and "Parent or carer" in page
    assert page.index("Saturdays") < page.index("School holidays")  # in the question's order
    assert "More in the holidays" in page and "<b>" not in check.get_data(as_text=True).split("answers")[-1]
    # Change an answer from the check page: back there after Continue.
    change = client.get(url(consultation, "questions", ids[0]) + "?change=1")
    assert 'value="strongly_agree" checked' in change.get_data(as_text=True)
    assert 'href="/have-your-say/short-breaks/check-your-answers"' in change.get_data(as_text=True)
    changed = client.post(url(consultation, "questions", ids[0]) + "?change=1", data={"answer": "disagree"})
    assert changed.headers["Location"].endswith("/check-your-answers")
    sent = client.post(url(consultation, "check-your-answers"))
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/have-your-say/short-breaks/thank-you")
    assert "Your answers have been sent" in text_of(client.get(sent.headers["Location"]))
    by_question = {row.question_id: row for row in stored_answers()}
    assert by_question[ids[0]].choices == ["disagree"]
    assert by_question[ids[2]].choices == ["Saturdays", "School holidays"]
    assert by_question[ids[3]].text == "More in the holidays\nplease"
    assert counts() == (1, 4, 1)
    # Nothing of the token itself is stored anywhere.
    assert cookie.value not in repr([(row.browser_key, row.id) for row in
                                     db.session.execute(select(ConsultationResponse)).scalars()])


def test_half_finished_answers_carry_on_later_on_the_same_device(app):
    consultation = make_consultation()
    ids = questions_of(consultation)
    client = app.test_client()
    answer(client, consultation, 0, answer="agree")
    answer(client, consultation, 1, answer="Professional")
    # Later, the same browser (its cookie) comes back to the introduction.
    later = app.test_client()
    later.set_cookie(answering.cookie_name(consultation), cookie_of(client, consultation).value,
                     path="/have-your-say")
    page = later.get(url(consultation))
    assert "Carry on where you left off" in text_of(page)
    assert f'href="{url(consultation, "questions", ids[2])}"' in page.get_data(as_text=True)
    assert 'value="Professional" checked' in later.get(url(consultation, "questions", ids[1])).get_data(as_text=True)
    # Another browser starts afresh.
    assert "Start now" in text_of(app.test_client().get(url(consultation)))
    answer(later, consultation, 2, answer="Sundays")
    assert later.post(url(consultation, "check-your-answers")).status_code == 302
    assert counts() == (1, 3, 1)


def test_once_sent_the_same_browser_is_told_it_has_already_answered(app):
    consultation = make_consultation()
    client = app.test_client()
    assert answer_all(client, consultation).status_code == 302
    before = counts()
    assert "You have already answered this consultation on this device" in text_of(client.get(url(consultation)))
    for response in (client.get(url(consultation, "questions", questions_of(consultation)[0])),
                     answer(client, consultation, 0, answer="disagree"),
                     answer(client, consultation, 3, simple=True, answer="again"),
                     client.get(url(consultation, "check-your-answers")),
                     client.post(url(consultation, "check-your-answers"))):
        assert response.status_code == 409 and "You have already answered" in text_of(response)
    assert counts() == before
    assert [row.choices for row in stored_answers() if row.choices == ["disagree"]] == []


def test_young_people_answer_the_simpler_version_in_polish_with_english_questions_marked(app):
    consultation = make_consultation()
    client = app.test_client()
    client.set_cookie("lo_lang", "pl")
    page = client.get(url(consultation, "questions", questions_of(consultation)[1], simple=True))
    html = page.get_data(as_text=True)
    assert '<html lang="pl"' in html
    assert '<span lang="en" dir="ltr">Who are you?</span>' in html and 'lang="en" for="answer-2"' in html  # "Young person"
    assert answer_all(client, consultation, simple=True).status_code == 302
    stored = db.session.execute(select(ConsultationResponse)).scalar_one()
    assert stored.simple is True and stored.language == "pl" and stored.submitted_at is not None


def test_the_cookie_is_secure_when_the_site_runs_with_secure_cookies(app):
    app.config["SESSION_COOKIE_SECURE"] = True
    consultation = make_consultation()
    client = app.test_client()
    answer(client, consultation, 0, answer="agree")
    assert cookie_of(client, consultation).secure


def test_a_made_up_or_overlong_cookie_never_finds_anyone_elses_answers(app):
    consultation = make_consultation()
    first = app.test_client()
    answer(first, consultation, 0, answer="agree")
    stranger = app.test_client()
    stranger.set_cookie(answering.cookie_name(consultation), "x" * 500, path="/have-your-say")
    assert "Start now" in text_of(stranger.get(url(consultation)))
    assert answer(stranger, consultation, 0, answer="disagree").status_code == 302
    assert cookie_of(stranger, consultation).value != "x" * 500
    assert counts() == (2, 2, 0)


# --- bad input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("index,data,message", [
    (0, {"answer": "maybe"}, "Choose one of the answers shown"),
    (0, {"answer": ["agree", "disagree"]}, "Choose only one answer"),
    (0, {}, "Choose an answer"),
    (1, {"answer": "Alien"}, "Choose one of the answers shown"),
    (1, {"answer": ["Young person", "Professional"]}, "Choose only one answer"),
    (1, {"answer": "strongly_agree"}, "Choose one of the answers shown"),
    (2, {"answer": ["Saturdays", "Mondays"]}, "Choose one of the answers shown"),
    (3, {"answer": "x" * 20_000}, "Your answer must be 5,000 characters or fewer"),
    (3, {"answer": "a" * 5001}, "Your answer must be 5,000 characters or fewer"),
])
def test_answers_not_among_the_choices_or_too_long_are_a_clear_400_and_nothing_is_stored(app, index, data, message):
    consultation = make_consultation()
    client = app.test_client()
    response = answer(client, consultation, index, **data)
    assert response.status_code == 400
    page = text_of(response)
    assert "There is a problem" in page and message in page and "Error:" in page.split("There is a problem")[0]
    assert counts() == (0, 0, 0)
    assert cookie_of(client, consultation) is None


def test_a_bad_answer_from_a_browser_half_way_through_changes_nothing(app):
    consultation = make_consultation()
    client = app.test_client()
    answer(client, consultation, 3, answer="Saturday clubs")
    before, kept = counts(), [(row.text, row.choices) for row in stored_answers()]
    assert answer(client, consultation, 3, answer="y" * 20_000).status_code == 400
    assert counts() == before and [(row.text, row.choices) for row in stored_answers()] == kept


def test_an_optional_question_may_be_left_out_and_an_empty_answer_takes_an_earlier_one_back(app):
    consultation = make_consultation()
    client = app.test_client()
    assert answer(client, consultation, 3, answer="   <i></i> ").status_code == 302
    assert counts() == (1, 0, 0)
    answer(client, consultation, 2, answer=["Sundays"])
    assert counts() == (1, 1, 0)
    answer(client, consultation, 2)
    assert counts() == (1, 0, 0)


def test_the_rules_for_each_kind_of_answer(app):
    """Checked in the rules module, whichever page sends the answer."""
    agreement, single, multiple, text = default_questions()
    text.required = True
    assert answering.clean_answer(agreement, ["dont_know"], None) == (["dont_know"], "")
    assert answering.clean_answer(single, ["Professional"], None) == (["Professional"], "")
    assert answering.clean_answer(multiple, ["School holidays", "Saturdays", "Saturdays"], None) == (
        ["Saturdays", "School holidays"], "")  # once each, in the question's order
    assert answering.clean_answer(multiple, [], None) == ([], "")  # not required: may be left out
    assert answering.clean_answer(text, [], " <p>Clubs on <b>Saturdays</b></p> ") == ([], "Clubs on Saturdays")
    for question, values, words, message in (
            (text, [], "<b> </b>", "Write your answer"),
            (text, [], "a" * (common.MAX_TEXT + 1), "5,000 characters or fewer"),
            (agreement, ["Agree"], None, "Choose one of the answers shown"),  # the label, not the value
            (single, ["Parent or carer", "Parent or carer"], None, "Choose only one answer"),
            (multiple, ["saturdays"], None, "Choose one of the answers shown")):
        with pytest.raises(answering.BadAnswer, match=message):
            answering.clean_answer(question, values, words)


def test_carry_on_goes_to_check_your_answers_once_the_last_question_is_answered(app):
    consultation = make_consultation()
    client = app.test_client()
    answer(client, consultation, 0, answer="agree")
    answer(client, consultation, 3, answer="Words")
    html = client.get(url(consultation)).get_data(as_text=True)
    assert "Carry on where you left off" in html and f'href="{url(consultation, "check-your-answers")}"' in html


def test_sending_without_the_required_answers_is_refused_and_says_which(app):
    consultation = make_consultation()
    client = app.test_client()
    assert client.get(url(consultation, "check-your-answers")).status_code == 302  # nothing answered yet
    assert client.post(url(consultation, "check-your-answers")).status_code == 400
    answer(client, consultation, 0, answer="agree")
    answer(client, consultation, 3, answer="Words")
    response = client.post(url(consultation, "check-your-answers"))
    assert response.status_code == 400
    page = text_of(response)
    assert "Answer every question marked as needing an answer" in page and "Answer question 2" in page
    assert "Needs an answer" in page
    assert counts() == (1, 2, 0)


def test_answers_after_closing_are_gone_even_half_finished_and_nothing_is_stored(app):
    consultation = make_consultation()
    client = app.test_client()
    answer(client, consultation, 0, answer="agree")
    consultation.closes_on = today() - timedelta(days=1)
    db.session.commit()
    before = counts()
    response = answer(client, consultation, 1, answer="Young person")
    assert response.status_code == 410 and "This consultation has closed" in text_of(response)
    assert client.post(url(consultation, "check-your-answers")).status_code == 410
    assert counts() == before
    # Closed early by a coordinator: the same.
    consultation.closes_on = today() + timedelta(days=5)
    consultation.status = ConsultationStatus.CLOSED
    consultation.closed_at = datetime.now(timezone.utc)
    db.session.commit()
    response = answer(client, consultation, 1, answer="Young person")
    assert response.status_code == 410 and f"It closed on {long(today())}," in text_of(response)
    assert counts() == before


def test_unknown_or_other_consultations_question_ids_are_not_found(app):
    consultation = make_consultation()
    other = make_consultation("other", title="Other")
    client = app.test_client()
    for question_id in ("no-such-question", questions_of(other)[0], "../../etc", "1" * 300):
        assert client.get(url(consultation, "questions", question_id)).status_code == 404
        assert client.post(url(consultation, "questions", question_id), data={"answer": "agree"}).status_code == 404
    assert counts() == (0, 0, 0)


def test_every_form_needs_its_csrf_token(app):
    app.config["WTF_CSRF_ENABLED"] = True
    consultation = make_consultation()
    client = app.test_client()
    response = answer(client, consultation, 0, answer="agree")
    assert response.status_code == 400 and "This form had expired" in text_of(response)
    assert client.post(url(consultation, "check-your-answers")).status_code == 400
    assert counts() == (0, 0, 0)
    page = client.get(url(consultation, "questions", questions_of(consultation)[0])).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert answer(client, consultation, 0, answer="agree", csrf_token=token).status_code == 302


def test_answer_posts_are_rate_limited_by_a_setting_with_a_default_for_thirty_questions(app, migrated_database):
    thirty = [ConsultationQuestion(kind=QuestionKind.AGREEMENT, text=f"Question {n}", required=True)
              for n in range(30)]
    consultation = make_consultation(questions=thirty)
    ids = questions_of(consultation)
    limited = create_app(make_test_config(migrated_database, RATELIMIT_ENABLED=True))
    limiter.reset()
    try:
        client = limited.test_client()
        with limited.app_context():
            statuses = {client.post(url(consultation, "questions", question_id), data={"answer": "agree"}).status_code
                        for question_id in ids}
            statuses.add(client.post(url(consultation, "check-your-answers")).status_code)
        assert statuses == {302}
        limited.config["CONSULTATION_ANSWER_LIMIT"] = "2 per minute"
        limiter.reset()
        other = make_consultation("other", title="Other")
        with limited.app_context():
            statuses = [limited.test_client().post(url(other, "questions", questions_of(other)[0]),
                                                   data={"answer": "agree"}).status_code for _ in range(4)]
        assert statuses == [302, 302, 429, 429]
    finally:
        limiter.reset()


def test_sending_is_limited_apart_from_answering_so_one_address_cannot_send_hundreds(app, migrated_database):
    consultations = [make_consultation(f"send-{n}", title=f"Send {n}") for n in range(3)]
    limited = create_app(make_test_config(migrated_database, RATELIMIT_ENABLED=True,
                                          CONSULTATION_SEND_LIMIT="2 per hour"))
    limiter.reset()
    try:
        with limited.app_context():
            sent = [answer_all(limited.test_client(), consultation).status_code for consultation in consultations]
        assert sent == [302, 302, 429]
    finally:
        limiter.reset()


def test_a_sent_response_keeps_only_the_day_so_no_log_of_addresses_can_be_matched_to_it(client):
    consultation = make_consultation()
    assert answer_all(client, consultation).status_code == 302
    response = db.session.execute(select(ConsultationResponse)).scalar_one()
    for moment in (response.submitted_at, response.started_at, response.updated_at):
        assert (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0)
        assert moment.date() == datetime.now(timezone.utc).date()


def test_a_later_closing_date_moves_the_cookie_s_end_with_it(client):
    consultation = make_consultation(closes=3)
    assert answer(client, consultation, 0, answer="agree").status_code == 302
    consultation.closes_on = today() + timedelta(days=60)
    db.session.commit()
    answered = answer(client, consultation, 1, answer="Young person")
    cookie = next(header for header in answered.headers.getlist("Set-Cookie")
                  if header.startswith(answering.cookie_name(consultation)))
    assert f"{(consultation.closes_on + timedelta(days=answering.COOKIE_DAYS_AFTER_CLOSING)):%d %b %Y}" in cookie


def test_an_answer_arriving_after_the_same_browser_sent_changes_nothing(client):
    """A Continue from another tab, checked before the Send landed, is refused when it tries to store."""
    consultation = make_consultation()
    assert answer(client, consultation, 0, answer="agree").status_code == 302
    token = cookie_of(client, consultation).value
    response = db.session.execute(select(ConsultationResponse)).scalar_one()
    question = consultation.questions[1]
    real_check = answering.check_answerable

    def checked_before_the_send(consultation_, response_):
        real_check(consultation_, response_)
        db.session.execute(ConsultationResponse.__table__.update().where(
            ConsultationResponse.__table__.c.id == response.id).values(submitted_at=answering.the_day()))

    answering.check_answerable = checked_before_the_send
    try:
        with pytest.raises(answering.AlreadyAnswered):
            answering.save_answer(consultation, question, token, ["Young person"], None, simple=False,
                                  language="en")
    finally:
        answering.check_answerable = real_check
    db.session.rollback()
    assert [row.question_id for row in stored_answers()] == [consultation.questions[0].id]


# --- anything posted at any form ---------------------------------------------------------------------

ANSWERS = st.one_of(st.none(), st.text(max_size=30), st.sampled_from(list(common.AGREEMENT) + WHO + DAYS),
                    st.lists(st.one_of(st.text(max_size=10), st.sampled_from(list(common.AGREEMENT) + WHO + DAYS)),
                             max_size=5),
                    st.text(min_size=4990, max_size=5010, alphabet="ab <>&\x00\n"))


def _valid(question: ConsultationQuestion, row: ConsultationAnswer) -> bool:
    """An answer kept is one the question accepts."""
    if question.kind == QuestionKind.TEXT:
        return row.choices == [] and 0 < len(row.text) <= common.MAX_TEXT and row.text == row.text.strip() \
            and not any(ord(ch) < 32 and ch not in "\n\t" for ch in row.text)
    if question.kind == QuestionKind.AGREEMENT:
        return len(row.choices) == 1 and row.choices[0] in common.AGREEMENT and row.text == ""
    if question.kind == QuestionKind.SINGLE:
        return len(row.choices) == 1 and row.choices[0] in question.options and row.text == ""
    return 0 < len(row.choices) == len(set(row.choices)) and set(row.choices) <= set(question.options)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(index=st.integers(0, 3), value=ANSWERS, simple=st.booleans(), change=st.booleans(),
       extra=st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3))
def test_anything_posted_to_any_question_is_a_redirect_or_a_4xx_and_only_valid_answers_are_kept(
        app, index, value, simple, change, extra):
    consultation = db.session.execute(select(Consultation)).scalar_one_or_none() or make_consultation()
    question = consultation.questions[index]
    data = {**extra}
    if value is not None:
        data["answer"] = value
    before = counts()
    path = url(consultation, "questions", question.id, simple=simple) + ("?change=1" if change else "")
    response = app.test_client().post(path, data=data)
    assert response.status_code in (302, 400), response.status_code
    after = counts()
    if response.status_code == 400:
        assert after == before
    questions = {row.id: row for row in consultation.questions}
    invalid = [(questions[row.question_id].kind, row.choices, row.text[:40]) for row in stored_answers()
               if not _valid(questions[row.question_id], row)]
    assert invalid == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.integers(0, 3), ANSWERS), max_size=4),
       form=st.dictionaries(st.text(max_size=10), st.one_of(st.text(max_size=10), st.lists(st.text(max_size=5))),
                            max_size=4),
       simple=st.booleans())
def test_anything_posted_to_send_is_a_redirect_or_a_4xx_and_sends_only_complete_answers(app, steps, form, simple):
    consultation = make_consultation(f"send-{uuid.uuid4().hex[:12]}")
    client = app.test_client()
    for index, value in steps:
        client.post(url(consultation, "questions", consultation.questions[index].id),
                    data={} if value is None else {"answer": value})
    response = client.post(url(consultation, "check-your-answers", simple=simple), data=form)
    assert response.status_code in (302, 400)
    mine = answering.response_for(consultation, cookie_of(client, consultation) and
                                  cookie_of(client, consultation).value)
    if response.status_code == 302:
        assert mine.submitted_at is not None and not answering.missing(consultation, mine)
        assert client.post(url(consultation, "check-your-answers"), data=form).status_code == 409
    else:
        assert mine is None or mine.submitted_at is None
