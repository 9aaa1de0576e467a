"""Consultations families answer ("Have your say"): questions, anonymous answers, moderated free text.

A coordinator writes a consultation as a draft (title, introduction, who it is
for, opening and closing dates, questions), previews it, opens it and may close
it early.  Anyone answers an open consultation anonymously, once per browser:
the browser holds a random token in a cookie and only its SHA-256 is stored, so
nothing links an answer to a person.  A half-finished answer is a response with
no ``submitted_at``.  Results are shown to coordinators while it is open and to
everyone once it has closed and its results are published.  Free-text answers
are private until a coordinator publishes them through the same personal-details
guard as feedback (``public_text`` is all the public ever sees).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from local_offer.extensions import db
from local_offer.models.base import UTCDateTime, enum_column, new_id, utcnow


class ConsultationStatus(enum.Enum):
    """Where a consultation is: being written, taking answers, or finished."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class QuestionKind(enum.Enum):
    """The kinds of question a consultation can ask."""

    #: Strongly agree ... strongly disagree, and "don't know".
    AGREEMENT = "agreement"
    SINGLE = "single"
    MULTIPLE = "multiple"
    TEXT = "text"


class AnswerStatus(enum.Enum):
    """A free-text answer is private until it is published after the guard, or excluded."""

    NEW = "new"
    PUBLISHED = "published"
    EXCLUDED = "excluded"


class Consultation(db.Model):
    """One consultation: what it asks, of whom, and when it is open."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    #: Why the council is asking and what it will do with the answers (sanitised HTML allowed by the allow-list).
    introduction: Mapped[str] = mapped_column(Text, default="")
    #: The same in simpler words, for children and young people.
    simple_introduction: Mapped[str] = mapped_column(Text, default="")
    #: Who it is for, in words ("Parents and carers of children with SEND in the Moorlands").
    audience: Mapped[str] = mapped_column(String(500), default="")
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    status: Mapped[ConsultationStatus] = mapped_column(enum_column(ConsultationStatus, "consultation_status"),
                                                      default=ConsultationStatus.DRAFT, index=True)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set when it closed early, or when the first page after the closing date noticed it had ended.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Results are public once this is set (and the consultation has closed).
    results_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    #: What the council will do next, shown with the published results.
    outcome: Mapped[str] = mapped_column(Text, default="")

    questions: Mapped[list[ConsultationQuestion]] = relationship(
        back_populates="consultation", cascade="all, delete-orphan", order_by="ConsultationQuestion.position")
    responses: Mapped[list[ConsultationResponse]] = relationship(
        back_populates="consultation", cascade="all, delete-orphan")


class ConsultationQuestion(db.Model):
    """One question. ``options`` lists the choices of a single or multiple choice question."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    consultation_id: Mapped[str] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[QuestionKind] = mapped_column(enum_column(QuestionKind, "question_kind"))
    text: Mapped[str] = mapped_column(String(500))
    #: The question in simpler words for young people ("" = the same words).
    simple_text: Mapped[str] = mapped_column(String(500), default="")
    hint: Mapped[str] = mapped_column(String(1000), default="")
    #: The choices, in order, for single and multiple choice questions.
    options: Mapped[list] = mapped_column(JSON, default=list)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    #: An "about you" question (parent or carer, young person, district...): results can be broken down by it.
    about_you: Mapped[bool] = mapped_column(Boolean, default=False)

    consultation: Mapped[Consultation] = relationship(back_populates="questions")


class ConsultationResponse(db.Model):
    """One browser's answers to one consultation; ``submitted_at`` is empty while it is half-finished."""

    __table_args__ = (UniqueConstraint("consultation_id", "browser_key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    consultation_id: Mapped[str] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the random token in the answering browser's cookie: never the token, never an address.
    browser_key: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    #: Answered through the version in simpler words for young people.
    simple: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The interface language it was answered in.
    language: Mapped[str] = mapped_column(String(10), default="en")

    consultation: Mapped[Consultation] = relationship(back_populates="responses")
    answers: Mapped[list[ConsultationAnswer]] = relationship(back_populates="response",
                                                             cascade="all, delete-orphan")


class ConsultationAnswer(db.Model):
    """One answer: the choices picked (option values) or the words written (private until published)."""

    __table_args__ = (UniqueConstraint("response_id", "question_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    response_id: Mapped[str] = mapped_column(ForeignKey("consultation_response.id", ondelete="CASCADE"),
                                             index=True)
    question_id: Mapped[str] = mapped_column(ForeignKey("consultation_question.id", ondelete="CASCADE"),
                                             index=True)
    #: The option(s) chosen: agreement values ("strongly_agree" ... "dont_know") or the question's options.
    choices: Mapped[list] = mapped_column(JSON, default=list)
    #: Free text as written (sanitised); never shown to the public.
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[AnswerStatus] = mapped_column(enum_column(AnswerStatus, "answer_status"),
                                                 default=AnswerStatus.NEW, index=True)
    #: What the public sees after the guard's removals.
    public_text: Mapped[str] = mapped_column(Text, default="")
    redacted: Mapped[bool] = mapped_column(Boolean, default=False)
    exclusion_note: Mapped[str] = mapped_column(Text, default="")
    moderated_by_id: Mapped[str | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    response: Mapped[ConsultationResponse] = relationship(back_populates="answers")
    question: Mapped[ConsultationQuestion] = relationship()
