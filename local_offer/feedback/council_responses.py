""""You said, we did": the council's responses to comments, what each promised, and how far it has got.

What is public: the ``published_text`` of published comments and the
responses that are published.  The law (SEND Regulations 2014, reg 56) asks
for comments and responses to be published at least once a year, so the
coordinators' page warns when a year passes without one.

Which comments a response answers: only those linked to it.  Coordinators link
comments one by one, and may give a response a theme: when it is published (or
its theme is changed once published), the published comments tagged with that
theme at that moment are linked too.  Comments tagged with the theme later are
never attached to it, because it was not written for them.

A promise's progress (planned, in progress, done) is what coordinators last
said; "late" is never stored but worked out each time: the date it was to be
done by has passed in the council's time zone and it is not done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from local_offer.extensions import db
from local_offer.models import (
    CouncilResponse,
    Feedback,
    FeedbackStatus,
    FeedbackTopic,
    PromiseStatus,
    ResponseStatus,
    Theme,
    User,
    record_audit,
    utcnow,
)
from local_offer.sanitise import clean_text

#: The law asks for comments and responses to be published at least once a year.
PUBLISH_EVERY = timedelta(days=365)
#: How many comments the response form's finder shows on one page.
FINDER_PAGE = 20
#: Words the finder looks for at most (each must appear), and the most comments a response may answer.
FINDER_WORDS, MOST_COMMENTS = 8, 500
#: What a promise shows when its date has passed and it is not done (worked out, never stored).
LATE = "late"


def local_today() -> date:
    """Return today's date where the council is (a promise is late from the day after its date)."""
    return datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def promise_state(response: CouncilResponse, today: date | None = None) -> str:
    """Return "planned", "in_progress", "done" or "late" (due date passed and not done) for a response."""
    progress = response.progress or PromiseStatus.PLANNED
    if progress is not PromiseStatus.DONE and response.action_due is not None \
            and response.action_due < (today or local_today()):
        return LATE
    return progress.value


# --- writing responses ---------------------------------------------------------------------------------


def _theme_comments(theme_id: str) -> list[Feedback]:
    """Return the published comments tagged with a theme now (a response published now answers them)."""
    return list(db.session.execute(select(Feedback).where(
        Feedback.status == FeedbackStatus.PUBLISHED, Feedback.themes.any(Theme.id == theme_id))).scalars())


def save_response(response: CouncilResponse | None, *, title: str, you_said: str, we_did: str,
                  action_due: date | None, feedback_ids: list[str], theme_id: str | None, publish_now: bool,
                  actor: User, progress: str | None = None) -> CouncilResponse:
    """Write or change a council response; publishing it makes it public with the comments it answers.

    A theme links the comments tagged with it at the moment the response is published, or at the
    moment a published response is given a different theme; never those tagged afterwards.
    """
    creating = response is None
    response = response or CouncilResponse(created_by_id=actor.id, status=ResponseStatus.DRAFT,
                                           progress=PromiseStatus.PLANNED)
    theme_before = response.theme_id
    response.title = clean_text(title)[:255]
    response.you_said = clean_text(you_said)[:5000]
    response.we_did = clean_text(we_did)[:5000]
    response.action_due = action_due
    response.theme_id = theme_id or None
    chosen = list(db.session.execute(select(Feedback).where(
        Feedback.id.in_(list(feedback_ids or [])[:MOST_COMMENTS]),
        Feedback.status == FeedbackStatus.PUBLISHED)).scalars())
    publishing = publish_now and response.status is not ResponseStatus.PUBLISHED
    if response.theme_id and (publishing or (response.status is ResponseStatus.PUBLISHED
                                             and response.theme_id != theme_before)):
        known = {row.id for row in chosen}
        chosen += [row for row in _theme_comments(response.theme_id) if row.id not in known]
    response.feedback = chosen
    if publishing:
        response.status = ResponseStatus.PUBLISHED
        response.published_at = utcnow()
    changes = {"status": response.status.value, "comments": len(response.feedback)}
    if progress and PromiseStatus(progress) is not response.progress:
        changes["progress"] = [response.progress.value if response.progress else None, progress]
        response.progress = PromiseStatus(progress)
        response.progress_updated_at = utcnow()
    db.session.add(response)
    db.session.flush()
    record_audit("response.created" if creating else "response.changed", "response", response.id, actor=actor,
                 changes=changes)
    db.session.commit()
    return response


def all_responses() -> list[CouncilResponse]:
    """Return every council response with the comments it answers, drafts first, newest first."""
    return list(db.session.execute(select(CouncilResponse).options(selectinload(CouncilResponse.feedback),
                                                                   selectinload(CouncilResponse.theme))
                                   .order_by(CouncilResponse.status, CouncilResponse.created_at.desc())).scalars())


def responses_for(feedback: Feedback) -> list[CouncilResponse]:
    """Return the published responses that answer a comment: only those it is linked to."""
    query = select(CouncilResponse).where(CouncilResponse.status == ResponseStatus.PUBLISHED,
                                          CouncilResponse.feedback.any(Feedback.id == feedback.id))
    return list(db.session.execute(query.order_by(CouncilResponse.published_at)).scalars())


# --- finding the comments a response answers ------------------------------------------------------------


@dataclass
class FoundComments:
    """One page of published comments the response form's finder found."""

    items: list[Feedback]
    total: int
    page: int
    pages: int


def chosen_comments(ids: list[str]) -> list[Feedback]:
    """Return the published comments with these ids (what a response answers, or is about to), newest first."""
    wanted = [str(value)[:36] for value in ids or []][:MOST_COMMENTS]
    if not wanted:
        return []
    return list(db.session.execute(select(Feedback).where(Feedback.id.in_(wanted),
                                                          Feedback.status == FeedbackStatus.PUBLISHED)
                                   .options(selectinload(Feedback.themes))
                                   .order_by(Feedback.published_at.desc(), Feedback.id)).scalars())


def _day_start(day: date) -> datetime:
    """Return the moment a local day starts, in UTC."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day, time(0), zone).astimezone(timezone.utc)


def _like(word: str) -> str:
    """Return a LIKE pattern finding a word anywhere, its wildcards taken literally."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find_comments(*, words: str = "", theme_id: str | None = None, topic: str | None = None,
                  since: date | None = None, until: date | None = None, leave_out: list[str] | None = None,
                  page: int = 1, per_page: int = FINDER_PAGE) -> FoundComments:
    """Return published comments by words (all of them), theme, topic and the days they were published."""
    query = select(Feedback).where(Feedback.status == FeedbackStatus.PUBLISHED)
    for word in clean_text(words or "").split()[:FINDER_WORDS]:
        query = query.where(Feedback.published_text.ilike(_like(word[:100]), escape="\\"))
    if theme_id:
        query = query.where(Feedback.themes.any(Theme.id == theme_id))
    if topic:
        query = query.where(Feedback.topic == FeedbackTopic(topic))
    if since:
        query = query.where(Feedback.published_at >= _day_start(since))
    if until:
        query = query.where(Feedback.published_at < _day_start(until + timedelta(days=1)))
    if leave_out:
        query = query.where(Feedback.id.not_in(list(leave_out)[:MOST_COMMENTS]))
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = db.session.execute(query.options(selectinload(Feedback.themes))
                              .order_by(Feedback.published_at.desc(), Feedback.id)
                              .limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return FoundComments(list(rows), total, page, pages)


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
