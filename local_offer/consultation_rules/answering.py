"""Answering a consultation anonymously, once per browser, one question at a time.

A browser that answers its first question gets a random token in a cookie of
its own for that consultation (``secrets.token_urlsafe``); only the token's
SHA-256 is stored, as the response's ``browser_key``, so nothing on the server
can name the browser or the person.  Each answer is saved as it is given, so a
half-finished response (no ``submitted_at``) can be finished later on the same
device; once submitted, that browser cannot answer again.

Every answer is checked here, never in a page: agreement answers must be on the
scale, a single choice exactly one of the question's options, a multiple choice
some of them, and free text is stripped of markup and at most ``MAX_TEXT``
characters.  A refusal stores nothing.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from markupsafe import Markup
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from local_offer.consultations import common
from local_offer.extensions import db
from local_offer.i18n import _
from local_offer.models import (
    Consultation,
    ConsultationAnswer,
    ConsultationQuestion,
    ConsultationResponse,
    ConsultationStatus,
    QuestionKind,
)
from local_offer.sanitise import clean_html, clean_text

#: The cookies live under this path only, so no other page of the site ever receives them.
COOKIE_PATH = "/have-your-say"
COOKIE_PREFIX = "lo_say_"
#: A browser keeps its key this many days after the closing date (the closing day itself is open until midnight).
COOKIE_DAYS_AFTER_CLOSING = 7
#: Answers (each Continue, and each Send) one address may post: several people answering 30 questions each.
DEFAULT_LIMIT = "300 per 10 minutes;3000 per day"
#: Sets of answers one address may send: a family or a busy office, not a script filling in hundreds.
DEFAULT_SEND_LIMIT = "20 per hour;100 per day"
#: Free text longer than this is refused before it is even cleaned.
_LONGEST_RAW_TEXT = common.MAX_TEXT * 4
#: A token sent back that is longer than this was not made here.
_LONGEST_TOKEN = 100


class Refused(Exception):
    """An answer that cannot be taken; ``status`` says why (400, 404, 409 or 410) and ``message`` what to do."""

    status = 400

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message


class BadAnswer(Refused):
    """The answer given is not one this question accepts (400)."""


class NotFound(Refused):
    """No such consultation or question for the public (404)."""

    status = 404


class AlreadyAnswered(Refused):
    """This browser has already sent its answers (409)."""

    status = 409


class Closed(Refused):
    """The consultation has closed (410)."""

    status = 410


@dataclass
class Missing:
    """A required question not yet answered, and its number in the consultation."""

    number: int
    question: ConsultationQuestion


# --- finding consultations ---------------------------------------------------------------------------


def listed() -> tuple[list[Consultation], list[Consultation]]:
    """Return the open consultations (closing soonest first) and the closed ones (latest first).

    Drafts and consultations opened ahead of their opening date are never listed.
    """
    rows = db.session.execute(select(Consultation).where(Consultation.status != ConsultationStatus.DRAFT)
                              .order_by(Consultation.closes_on, Consultation.title, Consultation.id)).scalars()
    today = common.local_today()
    open_now, closed = [], []
    for consultation in rows:
        state = common.state(consultation, today)
        if state == common.OPEN:
            open_now.append(consultation)
        elif state == common.CLOSED:
            closed.append(consultation)
    closed.sort(key=lambda row: (row.closes_on, row.title, row.id), reverse=True)
    return open_now, closed


def public_consultation(slug: str) -> Consultation:
    """Return the consultation the public may see at this address (open or closed), or raise NotFound."""
    consultation = db.session.execute(select(Consultation).where(Consultation.slug == str(slug)[:120])
                                      ).scalar_one_or_none()
    if consultation is None or common.state(consultation) in (common.DRAFT, common.SCHEDULED):
        raise NotFound(_("There is no consultation at this address."))
    return consultation


def question_of(consultation: Consultation, question_id: str) -> tuple[int, ConsultationQuestion]:
    """Return a question of this consultation and its number (from 1), or raise NotFound."""
    for number, question in enumerate(consultation.questions, start=1):
        if question.id == str(question_id):
            return number, question
    raise NotFound(_("This consultation has no such question."))


def neighbours(consultation: Consultation, question: ConsultationQuestion):
    """Return the questions before and after this one (None at either end)."""
    questions = consultation.questions
    index = questions.index(question)
    return (questions[index - 1] if index else None,
            questions[index + 1] if index + 1 < len(questions) else None)


def closed_on(consultation: Consultation):
    """Return the day a consultation closed: the day a coordinator closed it early, else its closing date."""
    if consultation.closed_at is not None:
        closed = consultation.closed_at.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()
        return min(closed, consultation.closes_on)
    return consultation.closes_on


def minutes_to_answer(consultation: Consultation) -> int:
    """Return about how many minutes answering takes: a quarter of a minute a choice, two a written answer."""
    seconds = sum(120 if question.kind == QuestionKind.TEXT else 15 for question in consultation.questions)
    return max(1, math.ceil(seconds / 60))


def introduction(consultation: Consultation, simple: bool) -> Markup:
    """Return the introduction (the simpler one for young people, when written), cleaned by the one allow-list."""
    text = consultation.simple_introduction if simple and consultation.simple_introduction.strip() else \
        consultation.introduction
    return Markup(clean_html(text or ""))


def question_text(question: ConsultationQuestion, simple: bool) -> str:
    """Return the question as asked: its simpler words in the young people's version, when written."""
    return question.simple_text if simple and (question.simple_text or "").strip() else question.text


def scale_labels(simple: bool) -> dict:
    """Return the agreement scale's labels, in simpler words for young people."""
    return common.AGREEMENT_SIMPLE_LABELS if simple else common.AGREEMENT_LABELS


def choices_for(question: ConsultationQuestion, simple: bool) -> list[tuple[str, str]]:
    """Return (value, label) for each choice a question offers, in order; none for free text."""
    if question.kind == QuestionKind.AGREEMENT:
        labels = scale_labels(simple)
        return [(value, str(labels[value])) for value in common.AGREEMENT]
    if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        return [(str(option), str(option)) for option in question.options or []]
    return []


# --- the browser's key -------------------------------------------------------------------------------


def cookie_name(consultation: Consultation) -> str:
    """Return the name of the cookie that holds this browser's key for one consultation."""
    return COOKIE_PREFIX + consultation.id.replace("-", "")


def cookie_expires(consultation: Consultation) -> datetime:
    """Return when the browser forgets its key: a week after the closing date."""
    return datetime.combine(consultation.closes_on + timedelta(days=COOKIE_DAYS_AFTER_CLOSING), time(),
                            tzinfo=timezone.utc)


def cookie_settings(consultation: Consultation) -> dict:
    """Return the cookie's attributes: HttpOnly, SameSite=Lax, Secure as the site's session cookie, one path."""
    return {"expires": cookie_expires(consultation), "path": COOKIE_PATH, "httponly": True, "samesite": "Lax",
            "secure": bool(current_app.config.get("SESSION_COOKIE_SECURE"))}


def browser_key(token: str) -> str:
    """Return the SHA-256 of a browser's token: all the server keeps of it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def response_for(consultation: Consultation, token: str | None) -> ConsultationResponse | None:
    """Return this browser's response to the consultation (half-finished or sent), or None."""
    if not token or len(token) > _LONGEST_TOKEN:
        return None
    return db.session.execute(select(ConsultationResponse).where(
        ConsultationResponse.consultation_id == consultation.id,
        ConsultationResponse.browser_key == browser_key(token))).scalar_one_or_none()


def limit() -> str:
    """Return how many answers one address may post (``CONSULTATION_ANSWER_LIMIT``, read per request)."""
    return current_app.config.get("CONSULTATION_ANSWER_LIMIT") or DEFAULT_LIMIT


def send_limit() -> str:
    """Return how many sets of answers one address may send (``CONSULTATION_SEND_LIMIT``, read per request)."""
    return current_app.config.get("CONSULTATION_SEND_LIMIT") or DEFAULT_SEND_LIMIT


def the_day() -> datetime:
    """Return the start of today (UTC): the only time an answer keeps, so no log's clock can be matched to it."""
    return datetime.combine(datetime.now(timezone.utc).date(), time(), tzinfo=timezone.utc)


def _hold(response: ConsultationResponse) -> None:
    """Lock a stored response that has not been sent, for this transaction, or refuse: it was sent meanwhile.

    Saving an answer and sending both take this lock first, so a Continue in one tab
    and a Send in another can never change a response after it was sent.
    """
    if response.id is None or response not in db.session or response in db.session.new:
        return
    held = db.session.execute(update(ConsultationResponse).where(
        ConsultationResponse.id == response.id, ConsultationResponse.submitted_at.is_(None))
        .values(updated_at=the_day()).execution_options(synchronize_session=False))
    if held.rowcount != 1:
        db.session.rollback()
        raise AlreadyAnswered(_("You have already answered this consultation on this device."))


# --- checking and keeping answers --------------------------------------------------------------------


def check_answerable(consultation: Consultation, response: ConsultationResponse | None) -> None:
    """Raise NotFound for a draft, Closed once closed, AlreadyAnswered once this browser has sent its answers."""
    state = common.state(consultation)
    if state in (common.DRAFT, common.SCHEDULED):
        raise NotFound(_("There is no consultation at this address."))
    if state == common.CLOSED:
        raise Closed(_("This consultation has closed."))
    if response is not None and response.submitted_at is not None:
        raise AlreadyAnswered(_("You have already answered this consultation on this device."))


def clean_answer(question: ConsultationQuestion, values: list[str], text: str | None) -> tuple[list[str], str]:
    """Return the choices and words to keep for an answer, or raise BadAnswer saying what to change.

    An empty answer is ([], ""): allowed for a question that is not required.
    """
    values = [str(value) for value in values if str(value) != ""]
    if question.kind == QuestionKind.TEXT:
        raw = text or ""
        if len(raw) > _LONGEST_RAW_TEXT:
            raise BadAnswer(_("Your answer must be %(count)s characters or fewer", count=f"{common.MAX_TEXT:,}"))
        words = clean_text(raw)
        if len(words) > common.MAX_TEXT:
            raise BadAnswer(_("Your answer must be %(count)s characters or fewer", count=f"{common.MAX_TEXT:,}"))
        if not words and question.required:
            raise BadAnswer(_("Write your answer"))
        return [], words
    if not values:
        if question.required:
            raise BadAnswer(_("Choose an answer") if question.kind != QuestionKind.MULTIPLE
                            else _("Choose at least one answer"))
        return [], ""
    offered = [value for value, _label in choices_for(question, simple=False)]
    if any(value not in offered for value in values):
        raise BadAnswer(_("Choose one of the answers shown"))
    if question.kind in (QuestionKind.AGREEMENT, QuestionKind.SINGLE):
        if len(values) != 1:
            raise BadAnswer(_("Choose only one answer"))
        return values, ""
    chosen = set(values)
    return [value for value in offered if value in chosen], ""


def _response_to_fill(consultation: Consultation, token: str | None) -> tuple[ConsultationResponse, str | None]:
    """Return this browser's half-finished response, or a new one and the new token to give the browser."""
    response = response_for(consultation, token)
    check_answerable(consultation, response)
    if response is not None:
        return response, None
    token = secrets.token_urlsafe(32)
    response = ConsultationResponse(consultation_id=consultation.id, browser_key=browser_key(token),
                                    started_at=the_day(), updated_at=the_day())
    db.session.add(response)
    return response, token


def save_answer(consultation: Consultation, question: ConsultationQuestion, token: str | None,
                values: list[str], text: str | None, *, simple: bool, language: str) -> str | None:
    """Keep one answer (replacing an earlier one; an empty answer removes it) and return a new token, if made.

    Raises a ``Refused`` before anything is stored: a draft (404), closed (410),
    already sent from this browser (409) or an answer the question does not accept (400).
    """
    check_answerable(consultation, response_for(consultation, token))
    if question.consultation_id != consultation.id:
        raise NotFound(_("This consultation has no such question."))
    choices, words = clean_answer(question, values, text)
    for attempt in (1, 2):
        try:
            response, new_token = _response_to_fill(consultation, token)
            _hold(response)
            _store(response, question, choices, words, simple=simple, language=language)
            db.session.commit()
            return new_token
        except IntegrityError:
            # The same browser sent twice at once: the other request made the row; use it.
            db.session.rollback()
            if attempt == 2:
                raise
    return None


def _store(response: ConsultationResponse, question: ConsultationQuestion, choices: list[str], words: str, *,
           simple: bool, language: str) -> None:
    """Put one cleaned answer on the response (or take it off, when empty) and note the version and language."""
    existing = None
    if response.id is not None:
        existing = db.session.execute(select(ConsultationAnswer).where(
            ConsultationAnswer.response_id == response.id,
            ConsultationAnswer.question_id == question.id)).scalar_one_or_none()
    if not choices and not words:
        if existing is not None:
            db.session.delete(existing)
    elif existing is None:
        response.answers.append(ConsultationAnswer(question_id=question.id, choices=choices, text=words))
    else:
        existing.choices, existing.text = choices, words
    response.simple, response.language, response.updated_at = simple, language[:10], the_day()


def answers_of(response: ConsultationResponse | None) -> dict[str, ConsultationAnswer]:
    """Return a response's answers by question id."""
    if response is None:
        return {}
    return {answer.question_id: answer for answer in response.answers}


def missing(consultation: Consultation, response: ConsultationResponse | None) -> list[Missing]:
    """Return the required questions this response has not answered, in order."""
    answered = answers_of(response)
    return [Missing(number, question) for number, question in enumerate(consultation.questions, start=1)
            if question.required and question.id not in answered]


def resume_at(consultation: Consultation, response: ConsultationResponse | None) -> ConsultationQuestion | None:
    """Return the question to carry on from: the one after the last answered (None: check the answers)."""
    questions = consultation.questions
    answered = answers_of(response)
    last = max((index for index, question in enumerate(questions) if question.id in answered), default=-1)
    if last + 1 < len(questions):
        return questions[last + 1]
    return None


def submit(consultation: Consultation, token: str | None, *, simple: bool, language: str) -> ConsultationResponse:
    """Send this browser's answers: every required question answered, at least one answer given.

    Raises NotFound, Closed, AlreadyAnswered, or BadAnswer (nothing answered yet, or
    a required question left) and then changes nothing.
    """
    response = response_for(consultation, token)
    check_answerable(consultation, response)
    if response is not None:
        _hold(response)
        db.session.refresh(response)
    if response is None or not response.answers:
        db.session.rollback()
        raise BadAnswer(_("Answer at least one question before you send your answers"))
    if missing(consultation, response):
        db.session.rollback()
        raise BadAnswer(_("Answer every question marked as needing an answer"))
    # Only the day is kept: a time to the second could be matched with a web server's log of addresses.
    response.submitted_at = response.started_at = response.updated_at = the_day()
    response.simple, response.language = simple, language[:10]
    db.session.commit()
    return response


def shown_answer(question: ConsultationQuestion, answer: ConsultationAnswer | None, simple: bool) -> list[str]:
    """Return an answer as the person sees it on "Check your answers": the labels chosen, or the words."""
    if answer is None:
        return []
    if question.kind == QuestionKind.TEXT:
        return [answer.text]
    if question.kind == QuestionKind.AGREEMENT:
        labels = scale_labels(simple)
        return [str(labels[value]) for value in answer.choices if value in labels]
    return [str(value) for value in answer.choices]
