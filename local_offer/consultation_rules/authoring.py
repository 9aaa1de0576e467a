"""Writing a consultation: its details and questions, opening it, and closing it early.

A consultation is written as a draft.  Its questions can be added, changed,
removed and put in order only while it is a draft: once opened, people may be
answering, and what they answer must not change under them.  After opening,
the words of the introductions and who it is for may still be corrected, and
the closing date moved (never to before today); the opening date stays.  A
consultation is opened only when it has questions and its closing date is on
or after its opening date and today.  Closing early ends it for good: it is
never reopened.

Every function here checks its rule, changes the rows, writes the audit log
and commits; when a rule refuses, it raises ``Refused`` with a message for the
person and nothing stored changes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from local_offer.consultations.common import (
    CLOSED,
    DRAFT,
    MAX_AUDIENCE,
    MAX_HINT,
    MAX_INTRODUCTION,
    MAX_OPTION_LENGTH,
    MAX_OPTIONS,
    MAX_QUESTION,
    MAX_QUESTIONS,
    MAX_TITLE,
    state,
)
from local_offer.extensions import db
from local_offer.feedback.council_responses import local_today
from local_offer.i18n import _
from local_offer.models import (
    Consultation,
    ConsultationQuestion,
    ConsultationResponse,
    ConsultationStatus,
    District,
    QuestionKind,
    User,
    record_audit,
    utcnow,
)
from local_offer.listings.data import markdown_from_html
from local_offer.sanitise import clean_markdown, clean_text

#: The longest slug made from a title, before a number is added to make it unique.
MAX_SLUG = 100

#: The standard "about you" questions' words (the district choices come from the District table).
RESPONDENT_QUESTION = "Are you:"
RESPONDENT_SIMPLE = "Who are you?"
RESPONDENT_OPTIONS = ("A parent or carer", "A young person", "A professional", "A provider", "Other")
DISTRICT_QUESTION = "Which district do you live in?"
DISTRICT_SIMPLE = "Where do you live?"
OUTSIDE_AREA, PREFER_NOT = "Outside the area", "Prefer not to say"


class Refused(Exception):
    """A rule said no; ``message`` says why, in words for the person, and ``status`` the HTTP status to answer."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class Listed:
    """A consultation on the coordinators' list, with its state today and how many answered."""

    consultation: Consultation
    state: str
    submitted: int


# --- reading --------------------------------------------------------------------------------------------


def all_consultations(today: date | None = None) -> list[Listed]:
    """Return every consultation, newest first, with its state and its number of submitted responses."""
    counts = dict(db.session.execute(
        select(ConsultationResponse.consultation_id, func.count(ConsultationResponse.id))
        .where(ConsultationResponse.submitted_at.is_not(None))
        .group_by(ConsultationResponse.consultation_id)).all())
    rows = db.session.execute(select(Consultation).order_by(Consultation.created_at.desc(),
                                                            Consultation.id)).scalars()
    return [Listed(row, state(row, today), counts.get(row.id, 0)) for row in rows]


def submitted_count(consultation: Consultation) -> int:
    """Return how many people have sent their answers to a consultation."""
    return db.session.execute(select(func.count(ConsultationResponse.id)).where(
        ConsultationResponse.consultation_id == consultation.id,
        ConsultationResponse.submitted_at.is_not(None))).scalar_one()


def question_of(consultation: Consultation, question_id: str) -> ConsultationQuestion | None:
    """Return one of the consultation's questions by id, or None when it has no such question."""
    return next((question for question in consultation.questions if question.id == str(question_id)), None)


def editable(consultation: Consultation) -> bool:
    """Say whether its questions and opening date may still change (only while it is a draft)."""
    return consultation.status is ConsultationStatus.DRAFT


def district_names() -> list[str]:
    """Return the council's districts, in the order it configured them."""
    return list(db.session.execute(select(District.name).order_by(District.position, District.name)).scalars())


# --- details --------------------------------------------------------------------------------------------


def slugify(title: str) -> str:
    """Turn a title into lower-case ASCII words joined by hyphens ("Short breaks: what?" -> "short-breaks-what")."""
    plain = unicodedata.normalize("NFKD", title or "").encode("ascii", "ignore").decode("ascii").lower()
    slug = ""
    for word in re.findall(r"[a-z0-9]+", plain.replace("'", "")):
        if len(slug) + len(word) + 1 > MAX_SLUG:
            break
        slug = f"{slug}-{word}" if slug else word
    return slug or "consultation"


def unique_slug(title: str, consultation: Consultation | None = None) -> str:
    """Return a slug for the title that no other consultation has ("short-breaks", then "short-breaks-2")."""
    base = slugify(title)
    query = select(Consultation.slug).where(Consultation.slug.like(f"{base}%"))
    if consultation is not None and consultation.id:
        query = query.where(Consultation.id != consultation.id)
    taken = set(db.session.execute(query).scalars())
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def _text(value: str | None, limit: int, what: str, required: bool = False) -> str:
    """Return text cleaned of markup; refuse it when too long, or empty when it is needed."""
    cleaned = clean_text(value)
    if len(cleaned) > limit:
        raise Refused(_("%(what)s must be %(limit)s characters or fewer", what=what, limit=f"{limit:,}"), 400)
    if required and not cleaned:
        raise Refused(_("Enter %(what)s", what=what.lower()), 400)
    return cleaned


def _introduction(value: str | None, what: str) -> str:
    """Return an introduction written in simple Markdown (paragraphs, lists, links) as allow-listed HTML."""
    _text(value, MAX_INTRODUCTION, what)
    return clean_markdown(value or "")


def introduction_source(html: str | None) -> str:
    """Return a stored introduction as the text a coordinator edits."""
    return markdown_from_html(html or "")


def save_details(consultation: Consultation | None, *, title: str, introduction: str, simple_introduction: str,
                 audience: str, opens_on: date, closes_on: date, actor: User,
                 today: date | None = None) -> Consultation:
    """Write a new draft, or change one's details; once opened only the words and a later closing date change."""
    today = today or local_today()
    cleaned = {"title": _text(title, MAX_TITLE, _("The title"), required=True),
               "introduction": _introduction(introduction, _("The introduction")),
               "simple_introduction": _introduction(simple_introduction, _("The introduction for young people")),
               "audience": _text(audience, MAX_AUDIENCE, _("Who it is for"))}
    if opens_on is None or closes_on is None:
        raise Refused(_("Enter the opening and closing dates"), 400)
    if closes_on < opens_on:
        raise Refused(_("The closing date must be on or after the opening date"), 400)
    creating = consultation is None
    if not creating and not editable(consultation):
        if opens_on != consultation.opens_on:
            raise Refused(_("The opening date cannot change once the consultation has been opened"))
        if closes_on != consultation.closes_on:
            if state(consultation, today) == CLOSED:
                raise Refused(_("This consultation has closed. Its closing date cannot change: it is never "
                                "reopened."))
            if closes_on < today:
                raise Refused(_("The closing date cannot be before today once the consultation is open"))
    consultation = consultation or Consultation(status=ConsultationStatus.DRAFT, created_by_id=actor.id)
    before = {name: getattr(consultation, name) for name in ("title", "opens_on", "closes_on")}
    for name, value in cleaned.items():
        setattr(consultation, name, value)
    consultation.opens_on, consultation.closes_on = opens_on, closes_on
    if creating or editable(consultation):
        consultation.slug = unique_slug(consultation.title, consultation)
    db.session.add(consultation)
    try:
        db.session.flush()
        changes = {name: [str(before[name]) if before[name] is not None else None,
                          str(getattr(consultation, name))]
                   for name in before if before[name] != getattr(consultation, name)}
        record_audit("consultation.created" if creating else "consultation.changed", "consultation",
                     consultation.id, actor=actor, changes=changes)
        db.session.commit()
    except IntegrityError:
        # Another coordinator saved the same title at the same moment: its address is taken now.
        db.session.rollback()
        raise Refused(_("Another consultation with the same title was saved at the same moment. Save again: "
                        "this one will get an address of its own."), 409) from None
    return consultation


# --- questions ------------------------------------------------------------------------------------------


def _refuse_unless_draft(consultation: Consultation) -> None:
    """Refuse to change the questions of a consultation that has been opened."""
    if not editable(consultation):
        raise Refused(_("The questions cannot change once the consultation has been opened: people may be "
                        "answering them."))


def clean_options(kind: QuestionKind, options: list[str] | None) -> list[str]:
    """Return a question's choices, cleaned; refuse too few, too many, empty, too long or repeated ones."""
    if kind not in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        return []
    cleaned = [clean_text(option) for option in options or []]
    cleaned = [option for option in cleaned if option]
    if len(cleaned) < 2:
        raise Refused(_("Give at least 2 choices, one on each line"), 400)
    if len(cleaned) > MAX_OPTIONS:
        raise Refused(_("Give %(most)s choices or fewer", most=MAX_OPTIONS), 400)
    if any(len(option) > MAX_OPTION_LENGTH for option in cleaned):
        raise Refused(_("Each choice must be %(most)s characters or fewer", most=MAX_OPTION_LENGTH), 400)
    if len({option.casefold() for option in cleaned}) < len(cleaned):
        raise Refused(_("Each choice must be different"), 400)
    return cleaned


def save_question(consultation: Consultation, question: ConsultationQuestion | None, *, kind: str, text: str,
                  simple_text: str = "", hint: str = "", options: list[str] | None = None, required: bool = False,
                  about_you: bool = False, actor: User) -> ConsultationQuestion:
    """Add a question at the end of a draft, or change one of its questions."""
    _refuse_unless_draft(consultation)
    try:
        question_kind = QuestionKind(kind)
    except ValueError:
        raise Refused(_("Choose what kind of question it is"), 400) from None
    values = {"kind": question_kind,
              "text": _text(text, MAX_QUESTION, _("The question"), required=True),
              "simple_text": _text(simple_text, MAX_QUESTION, _("The question for young people")),
              "hint": _text(hint, MAX_HINT, _("The hint")),
              "options": clean_options(question_kind, options),
              "required": bool(required), "about_you": bool(about_you)}
    creating = question is None
    if creating and len(consultation.questions) >= MAX_QUESTIONS:
        raise Refused(_("A consultation can ask %(most)s questions at most", most=MAX_QUESTIONS))
    if creating:
        question = ConsultationQuestion(position=_next_position(consultation))
        consultation.questions.append(question)
    for name, value in values.items():
        setattr(question, name, value)
    db.session.flush()
    record_audit("consultation.question_added" if creating else "consultation.question_changed", "consultation",
                 consultation.id, actor=actor, changes={"question": question.id, "kind": question_kind.value,
                                                        "text": question.text})
    db.session.commit()
    return question


def _next_position(consultation: Consultation) -> int:
    """Return the position after the consultation's last question."""
    return max((question.position for question in consultation.questions), default=-1) + 1


def _renumber(consultation: Consultation, ordered: list[ConsultationQuestion]) -> None:
    """Give the questions positions 0, 1, 2... in the order given."""
    for position, question in enumerate(ordered):
        question.position = position
    consultation.questions.sort(key=lambda question: question.position)


def remove_question(consultation: Consultation, question: ConsultationQuestion, actor: User) -> None:
    """Take a question out of a draft; the others close up."""
    _refuse_unless_draft(consultation)
    text = question.text
    remaining = [row for row in consultation.questions if row is not question]
    consultation.questions.remove(question)
    db.session.delete(question)
    _renumber(consultation, remaining)
    record_audit("consultation.question_removed", "consultation", consultation.id, actor=actor,
                 changes={"question": question.id, "text": text})
    db.session.commit()


def move_question(consultation: Consultation, question: ConsultationQuestion, direction: str, actor: User) -> None:
    """Move a question of a draft one place up or down (at either end it stays where it is)."""
    _refuse_unless_draft(consultation)
    if direction not in ("up", "down"):
        raise Refused(_("A question can only move up or down"), 400)
    ordered = sorted(consultation.questions, key=lambda row: (row.position, row.id))
    index = ordered.index(question)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(ordered):
        return
    ordered[index], ordered[other] = ordered[other], ordered[index]
    _renumber(consultation, ordered)
    record_audit("consultation.question_moved", "consultation", consultation.id, actor=actor,
                 changes={"question": question.id, "direction": direction, "position": question.position + 1})
    db.session.commit()


def about_you_questions() -> list[dict]:
    """Return the standard "about you" questions: who you are, and (when districts are set up) your district."""
    questions = [{"kind": QuestionKind.SINGLE.value, "text": RESPONDENT_QUESTION, "simple_text": RESPONDENT_SIMPLE,
                  "options": list(RESPONDENT_OPTIONS), "about_you": True}]
    districts = district_names()
    if districts:
        questions.append({"kind": QuestionKind.SINGLE.value, "text": DISTRICT_QUESTION,
                          "simple_text": DISTRICT_SIMPLE, "about_you": True,
                          "options": (districts + [OUTSIDE_AREA, PREFER_NOT])[:MAX_OPTIONS]})
    return questions


def add_about_you(consultation: Consultation, actor: User) -> int:
    """Add the standard "about you" questions a draft does not ask yet; return how many were added."""
    _refuse_unless_draft(consultation)
    asked = {question.text for question in consultation.questions}
    wanted = [entry for entry in about_you_questions() if entry["text"] not in asked]
    if len(consultation.questions) + len(wanted) > MAX_QUESTIONS:
        raise Refused(_("A consultation can ask %(most)s questions at most", most=MAX_QUESTIONS))
    for entry in wanted:
        consultation.questions.append(ConsultationQuestion(position=_next_position(consultation), hint="",
                                                           required=False, **entry))
    db.session.flush()
    if wanted:
        record_audit("consultation.about_you_added", "consultation", consultation.id, actor=actor,
                     changes={"questions": [entry["text"] for entry in wanted]})
    db.session.commit()
    return len(wanted)


# --- opening and closing --------------------------------------------------------------------------------


def problems_opening(consultation: Consultation, today: date | None = None) -> list[str]:
    """Return what stops a consultation opening (nothing when it can open)."""
    today = today or local_today()
    if consultation.status is not ConsultationStatus.DRAFT:
        return [_("This consultation has already been opened.")]
    problems = []
    if not consultation.questions:
        problems.append(_("Add at least one question before you open it."))
    if consultation.closes_on < consultation.opens_on:
        problems.append(_("The closing date is before the opening date. Change the dates first."))
    elif consultation.closes_on < today:
        problems.append(_("The closing date has already passed. Change the dates first."))
    return problems


def open_consultation(consultation: Consultation, actor: User, today: date | None = None) -> Consultation:
    """Open a draft: from its opening date anyone may answer it, until its closing date."""
    problems = problems_opening(consultation, today)
    if problems:
        raise Refused(" ".join(str(problem) for problem in problems))
    consultation.status = ConsultationStatus.OPEN
    consultation.opened_at = utcnow()
    record_audit("consultation.opened", "consultation", consultation.id, actor=actor,
                 changes={"opens_on": str(consultation.opens_on), "closes_on": str(consultation.closes_on),
                          "questions": len(consultation.questions)})
    db.session.commit()
    return consultation


def problems_closing(consultation: Consultation, today: date | None = None) -> list[str]:
    """Return what stops a consultation closing early (nothing when it can)."""
    current = state(consultation, today)
    if current == DRAFT:
        return [_("This consultation has not been opened, so there is nothing to close.")]
    if current == CLOSED:
        return [_("This consultation has already closed.")]
    return []


def close_early(consultation: Consultation, actor: User, today: date | None = None) -> Consultation:
    """Close an opened consultation before its closing date; it is never reopened."""
    problems = problems_closing(consultation, today)
    if problems:
        raise Refused(" ".join(str(problem) for problem in problems))
    consultation.status = ConsultationStatus.CLOSED
    consultation.closed_at = utcnow()
    record_audit("consultation.closed_early", "consultation", consultation.id, actor=actor,
                 changes={"closes_on": str(consultation.closes_on), "responses": submitted_count(consultation)})
    db.session.commit()
    return consultation
