"""Co-production: families' feedback, moderated, answered in public ("You said, we did")."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from local_offer.extensions import db
from local_offer.models.base import UTCDateTime, enum_column, new_id, utcnow
from local_offer.models.directory import Listing


class FeedbackTopic(enum.Enum):
    """What a comment is about (SEND Regulations 2014, reg 56)."""

    CONTENT = "content"
    USABILITY = "usability"
    DEVELOPMENT = "development"


class Respondent(enum.Enum):
    """Who left a comment, as they told us."""

    PARENT_CARER = "parent_carer"
    YOUNG_PERSON = "young_person"
    PROFESSIONAL = "professional"
    PROVIDER = "provider"
    OTHER = "other"


class FeedbackStatus(enum.Enum):
    """Where a comment is: waiting, published (after checks) or excluded."""

    NEW = "new"
    PUBLISHED = "published"
    EXCLUDED = "excluded"


class ExclusionReason(enum.Enum):
    """Why a comment is not published."""

    VEXATIOUS = "vexatious"
    ABUSIVE = "abusive"
    INDIVIDUAL_CASE = "individual_case"


class ResponseStatus(enum.Enum):
    """A council response is written as a draft, then published."""

    DRAFT = "draft"
    PUBLISHED = "published"


class PromiseStatus(enum.Enum):
    """How far the council has got with what a response promised; "late" is never stored (see ``council_responses``)."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class Priority(db.Model):
    """One of the SEND partnership's priorities, as the list stood at one time.

    Rows are never changed or deleted once comments can point at them: editing a
    priority retires its row and adds a new one (same ``code``, ``replaces_id`` set),
    so a comment keeps the priority it was tagged with when the list is refreshed.
    """

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(80), index=True)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    replaces_id: Mapped[str | None] = mapped_column(ForeignKey("priority.id", ondelete="SET NULL"))


feedback_themes = db.Table(
    "feedback_theme",
    db.Column("feedback_id", String(36), ForeignKey("feedback.id", ondelete="CASCADE"), primary_key=True),
    db.Column("theme_id", String(36), ForeignKey("theme.id", ondelete="CASCADE"), primary_key=True),
)


response_feedback = db.Table(
    "council_response_feedback",
    db.Column("response_id", String(36), ForeignKey("council_response.id", ondelete="CASCADE"),
              primary_key=True),
    db.Column("feedback_id", String(36), ForeignKey("feedback.id", ondelete="CASCADE"), primary_key=True),
)


class Theme(db.Model):
    """A tag coordinators give comments ("gaps for teenagers"), to answer and count them together."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Feedback(db.Model):
    """A comment about the Local Offer. ``comment`` is private; only ``published_text`` is ever shown."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    topic: Mapped[FeedbackTopic] = mapped_column(enum_column(FeedbackTopic, "feedback_topic"), index=True)
    respondent: Mapped[Respondent] = mapped_column(enum_column(Respondent, "respondent"))
    #: Left through the shorter form in simpler words, meant for children and young people.
    simple_form: Mapped[bool] = mapped_column(Boolean, default=False)
    listing_id: Mapped[str | None] = mapped_column(ForeignKey("listing.id", ondelete="SET NULL"), index=True)
    priority_id: Mapped[str | None] = mapped_column(ForeignKey("priority.id", ondelete="RESTRICT"), index=True)
    #: The words as left (sanitised). Emptied by the retention purge unless published unredacted.
    comment: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[FeedbackStatus] = mapped_column(enum_column(FeedbackStatus, "feedback_status"),
                                                  default=FeedbackStatus.NEW, index=True)
    #: What the public sees, after any redaction.
    published_text: Mapped[str] = mapped_column(Text, default="")
    redacted: Mapped[bool] = mapped_column(Boolean, default=False)
    exclusion_reason: Mapped[ExclusionReason | None] = mapped_column(enum_column(ExclusionReason, "exclusion_reason"))
    exclusion_note: Mapped[str] = mapped_column(Text, default="")
    moderated_by_id: Mapped[str | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    #: When the retention purge removed the private words and contact details.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    listing: Mapped[Listing | None] = relationship()
    priority: Mapped[Priority | None] = relationship()
    themes: Mapped[list[Theme]] = relationship(secondary=feedback_themes, order_by="Theme.name")
    contact: Mapped[FeedbackContact | None] = relationship(back_populates="feedback", uselist=False,
                                                           cascade="all, delete-orphan")
    replies: Mapped[list[FeedbackReply]] = relationship(back_populates="feedback", cascade="all, delete-orphan",
                                                        order_by="FeedbackReply.sent_at")
    responses: Mapped[list[CouncilResponse]] = relationship(secondary=response_feedback,
                                                            back_populates="feedback")


class FeedbackContact(db.Model):
    """How to reply to someone who asked for a reply: kept apart from the comment, purged on schedule."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    feedback_id: Mapped[str] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The language of the page the comment was left on: a reply's email is in it.
    language: Mapped[str | None] = mapped_column(String(10))

    feedback: Mapped[Feedback] = relationship(back_populates="contact")


class FeedbackReply(db.Model):
    """A coordinator's private reply, emailed to the person who left a comment."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    feedback_id: Mapped[str] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"), index=True)
    sent_by_id: Mapped[str | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    body: Mapped[str] = mapped_column(Text, default="")

    feedback: Mapped[Feedback] = relationship(back_populates="replies")


class CouncilResponse(db.Model):
    """"You said, we did": the council's answer to comments or a theme, and what it will do by when."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(255))
    you_said: Mapped[str] = mapped_column(Text, default="")
    we_did: Mapped[str] = mapped_column(Text, default="")
    action_due: Mapped[date | None] = mapped_column(Date)
    status: Mapped[ResponseStatus] = mapped_column(enum_column(ResponseStatus, "response_status"),
                                                  default=ResponseStatus.DRAFT, index=True)
    theme_id: Mapped[str | None] = mapped_column(ForeignKey("theme.id", ondelete="SET NULL"))
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    #: How far the promise has got, as coordinators last said; late is worked out from ``action_due``.
    progress: Mapped[PromiseStatus] = mapped_column(enum_column(PromiseStatus, "promise_status"),
                                                    default=PromiseStatus.PLANNED, server_default="planned")
    progress_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    theme: Mapped[Theme | None] = relationship()
    feedback: Mapped[list[Feedback]] = relationship(secondary=response_feedback, back_populates="responses",
                                                    order_by="Feedback.created_at")
