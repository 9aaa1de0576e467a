"""The public "You said, we did" page: the latest responses by theme, then published comments with their answers.

Only ``published_text`` of published comments and published responses are read
here.  A comment shows the responses linked to it (``council_responses``
explains which those are), never every response that shares one of its themes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import extract, func, select
from sqlalchemy.orm import selectinload

from local_offer.extensions import db
from local_offer.models import (
    CouncilResponse,
    Feedback,
    FeedbackStatus,
    FeedbackTopic,
    Priority,
    ResponseStatus,
    Theme,
)

#: How many of the latest published responses open the page.
LATEST_RESPONSES = 6
#: Comments on one page of the list below them.
COMMENTS_PER_PAGE = 10


@dataclass
class ThemeGroup:
    """The latest responses about one theme (``theme`` is None for responses without one)."""

    theme: Theme | None
    responses: list[CouncilResponse]


def latest_by_theme(limit: int = LATEST_RESPONSES) -> list[ThemeGroup]:
    """Return the latest published responses grouped by theme, the group with the newest response first."""
    rows = db.session.execute(select(CouncilResponse).where(CouncilResponse.status == ResponseStatus.PUBLISHED)
                              .options(selectinload(CouncilResponse.theme), selectinload(CouncilResponse.feedback))
                              .order_by(CouncilResponse.published_at.desc(), CouncilResponse.id)
                              .limit(limit)).scalars().all()
    groups: dict[str | None, ThemeGroup] = {}
    for row in rows:
        groups.setdefault(row.theme_id, ThemeGroup(row.theme, [])).responses.append(row)
    # Responses without a theme come last, under "Other responses".
    return sorted(groups.values(), key=lambda group: group.theme is None)


def themes_with_comments() -> list[Theme]:
    """Return the themes at least one published comment has, by name (the public filter offers these)."""
    return list(db.session.execute(select(Theme).where(Theme.id.in_(
        select(Theme.id).join(Feedback.themes).where(Feedback.status == FeedbackStatus.PUBLISHED)))
        .order_by(Theme.name)).scalars())


@dataclass
class PublicPage:
    """One page of published comments, each with the published responses linked to it."""

    items: list[tuple[Feedback, list[CouncilResponse]]]
    total: int
    page: int
    pages: int
    years: list[int]


def published(topic: str | None, priority_code: str | None, year: int | None, page: int,
              theme_code: str | None = None, per_page: int = COMMENTS_PER_PAGE) -> PublicPage:
    """Return published comments, newest first, filtered by topic, priority (any version), theme and year."""
    query = select(Feedback).where(Feedback.status == FeedbackStatus.PUBLISHED)
    if topic:
        query = query.where(Feedback.topic == FeedbackTopic(topic))
    if priority_code:
        query = query.where(Feedback.priority.has(Priority.code == priority_code))
    if theme_code:
        query = query.where(Feedback.themes.any(Theme.code == theme_code))
    if year:
        start = datetime(year, 1, 1, tzinfo=timezone.utc)
        query = query.where(Feedback.published_at >= start,
                            Feedback.published_at < start.replace(year=year + 1))
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    pages = max(1, -(-total // per_page))
    rows = db.session.execute(query.options(selectinload(Feedback.priority), selectinload(Feedback.themes),
                                            selectinload(Feedback.listing), selectinload(Feedback.responses))
                              .order_by(Feedback.published_at.desc(), Feedback.id)
                              .limit(per_page).offset((min(page, pages) - 1) * per_page)).scalars().all()
    years = sorted({int(y) for (y,) in db.session.execute(
        select(extract("year", Feedback.published_at)).where(Feedback.status == FeedbackStatus.PUBLISHED)
        .distinct()) if y is not None}, reverse=True)
    items = [(row, sorted((answer for answer in row.responses if answer.status is ResponseStatus.PUBLISHED),
                          key=lambda answer: answer.published_at)) for row in rows]
    return PublicPage(items, total, min(page, pages), pages, years)
