""""You said, we did": the council's responses to comments, and the public page that shows both.

What is public: the ``published_text`` of published comments and the
responses that are published.  A response answers comments directly or a whole
theme; publishing it publishes its answer on every comment it reaches.  The
law (SEND Regulations 2014, reg 56) asks for comments and responses to be
published at least once a year, so the coordinators' page warns when a year
passes without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import extract, false, func, or_, select
from sqlalchemy.orm import selectinload

from local_offer.extensions import db
from local_offer.models import (
    CouncilResponse,
    Feedback,
    FeedbackStatus,
    FeedbackTopic,
    Priority,
    ResponseStatus,
    User,
    record_audit,
    utcnow,
)
from local_offer.sanitise import clean_text

#: The law asks for comments and responses to be published at least once a year.
PUBLISH_EVERY = timedelta(days=365)
#: How many of the latest published comments a response form offers (ones it already answers are added).
CHOOSABLE_COMMENTS = 300


# --- writing responses ---------------------------------------------------------------------------------


def save_response(response: CouncilResponse | None, *, title: str, you_said: str, we_did: str,
                  action_due: date | None, feedback_ids: list[str], theme_id: str | None, publish_now: bool,
                  actor: User) -> CouncilResponse:
    """Write or change a council response; publishing it makes it and its comments' answers public."""
    creating = response is None
    response = response or CouncilResponse(created_by_id=actor.id)
    response.title = clean_text(title)[:255]
    response.you_said = clean_text(you_said)[:5000]
    response.we_did = clean_text(we_did)[:5000]
    response.action_due = action_due
    response.theme_id = theme_id or None
    response.feedback = list(db.session.execute(select(Feedback).where(
        Feedback.id.in_(feedback_ids or []), Feedback.status == FeedbackStatus.PUBLISHED)).scalars())
    if publish_now and response.status is not ResponseStatus.PUBLISHED:
        response.status = ResponseStatus.PUBLISHED
        response.published_at = utcnow()
    db.session.add(response)
    db.session.flush()
    record_audit("response.created" if creating else "response.changed", "response", response.id, actor=actor,
                 changes={"status": response.status.value, "comments": len(response.feedback)})
    db.session.commit()
    return response


def all_responses() -> list[CouncilResponse]:
    """Return every council response with the comments it answers, drafts first, newest first."""
    return list(db.session.execute(select(CouncilResponse).options(selectinload(CouncilResponse.feedback))
                                   .order_by(CouncilResponse.status, CouncilResponse.created_at.desc())).scalars())


def answerable_comments(keep: list[str]) -> list[Feedback]:
    """Return the published comments a response may answer: the latest, and those in ``keep`` however old."""
    published = list(db.session.execute(select(Feedback).where(Feedback.status == FeedbackStatus.PUBLISHED)
                                        .order_by(Feedback.published_at.desc()).limit(CHOOSABLE_COMMENTS)).scalars())
    shown = {row.id for row in published}
    # Comments already answered, or asked for, stay choosable however old they are.
    published += db.session.execute(select(Feedback).where(Feedback.status == FeedbackStatus.PUBLISHED,
                                                           Feedback.id.in_([i for i in keep if i not in shown]))
                                    ).scalars().all()
    return published


# --- the public page ----------------------------------------------------------------------------------


def responses_for(feedback: Feedback) -> list[CouncilResponse]:
    """Return the published responses that answer a comment, directly or through one of its themes."""
    theme_ids = [theme.id for theme in feedback.themes]
    query = select(CouncilResponse).where(CouncilResponse.status == ResponseStatus.PUBLISHED, or_(
        CouncilResponse.feedback.any(Feedback.id == feedback.id),
        CouncilResponse.theme_id.in_(theme_ids) if theme_ids else false()))
    return list(db.session.execute(query.order_by(CouncilResponse.published_at)).scalars())


@dataclass
class PublicPage:
    """One page of published comments, each with its responses."""

    items: list[tuple[Feedback, list[CouncilResponse]]]
    total: int
    page: int
    pages: int
    years: list[int]


def published(topic: str | None, priority_code: str | None, year: int | None, page: int,
              per_page: int = 20) -> PublicPage:
    """Return published comments, newest first, filtered by topic, priority (any version) and year."""
    query = select(Feedback).where(Feedback.status == FeedbackStatus.PUBLISHED)
    if topic:
        query = query.where(Feedback.topic == FeedbackTopic(topic))
    if priority_code:
        query = query.where(Feedback.priority.has(Priority.code == priority_code))
    if year:
        start = datetime(year, 1, 1, tzinfo=timezone.utc)
        query = query.where(Feedback.published_at >= start,
                            Feedback.published_at < start.replace(year=year + 1))
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    pages = max(1, -(-total // per_page))
    rows = db.session.execute(query.options(selectinload(Feedback.priority), selectinload(Feedback.themes),
                                            selectinload(Feedback.listing))
                              .order_by(Feedback.published_at.desc(), Feedback.id)
                              .limit(per_page).offset((min(page, pages) - 1) * per_page)).scalars().all()
    years = sorted({int(y) for (y,) in db.session.execute(
        select(extract("year", Feedback.published_at)).where(Feedback.status == FeedbackStatus.PUBLISHED)
        .distinct()) if y is not None}, reverse=True)
    return PublicPage([(row, responses_for(row)) for row in rows], total, min(page, pages), pages, years)


# --- the yearly duty ----------------------------------------------------------------------------------


def last_publication() -> datetime | None:
    """Return when a comment or response was last published."""
    comment = db.session.execute(select(func.max(Feedback.published_at))).scalar_one()
    response = db.session.execute(select(func.max(CouncilResponse.published_at))).scalar_one()
    stamps = [_aware(stamp) for stamp in (comment, response) if stamp is not None]
    return max(stamps) if stamps else None


def _aware(value: datetime) -> datetime:
    """Return a timestamp with its time zone (SQLite gives them back without one; they are UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def publication_overdue(now: datetime | None = None) -> bool:
    """Say whether a year has passed without publishing (reg 56 asks for at least yearly)."""
    last = last_publication()
    return last is None or (now or utcnow()) - last > PUBLISH_EVERY
