"""The coordinators' home: what needs doing today, counted, and each thing waiting, newest first.

Four kinds of work wait for a coordinator: changes to check, feedback to
moderate, listings overdue for review, and imports or neighbours' feeds that
went wrong.  ``today()`` counts each (with a link the page builds from an
endpoint) and lists the things themselves, newest first, so the page answers
"what should I do now?" in one look.  Scheduled jobs that have not run are the
administrators' to fix and are not here (``jobs.needing_attention``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from local_offer.extensions import db
from local_offer.feedback import guard
from local_offer.feedback.labels import TOPIC_SHORT
from local_offer.i18n import _
from local_offer.listings.queries import count_waiting_changes
from local_offer.models import (
    PUBLIC_STATUSES,
    AuditEvent,
    Feed,
    Feedback,
    FeedbackStatus,
    JoinRequest,
    JoinStatus,
    Listing,
    ListingRevision,
    RevisionStatus,
    utcnow,
)
from local_offer.reviews import current_date, remind_horizon

#: How many things the newest-first list shows (the counts above it cover the rest).
NEWEST = 20
#: How far back an import that left records out still needs a look.
IMPORT_DAYS = 14


@dataclass
class Thing:
    """One thing waiting for a coordinator: what it is, when it arrived, and where to deal with it."""

    kind: str
    title: str
    when: datetime
    endpoint: str
    arguments: dict = field(default_factory=dict)
    detail: str = ""
    #: Whether ``when`` is a day rather than a moment (a review date), so no time is shown.
    day_only: bool = False

    @property
    def kind_label(self) -> str:
        """Say what kind of thing it is, in the current language."""
        return {"change": _("Change to check"), "feedback": _("Feedback to moderate"),
                "review": _("Review overdue"), "feed": _("Neighbour's feed failed"),
                "import": _("Import left records out"), "join": _("Request to join")}[self.kind]


@dataclass
class Today:
    """The counts of what needs doing and the things themselves, newest first."""

    changes: int
    oldest_change: datetime | None
    feedback: int
    oldest_feedback: datetime | None
    overdue_reviews: int
    due_soon_reviews: int
    #: How many days ahead "due soon" looks.
    due_soon_days: int
    failed_feeds: int
    failed_imports: int
    join_requests: int
    newest: list[Thing]

    @property
    def problems(self) -> int:
        """Count imports and feeds that went wrong."""
        return self.failed_feeds + self.failed_imports

    @property
    def total(self) -> int:
        """Count everything waiting."""
        return self.changes + self.feedback + self.overdue_reviews + self.problems + self.join_requests


def _overdue(today: date):
    """Return the condition for our public listings past their review date (or never checked)."""
    return (Listing.status.in_(PUBLIC_STATUSES), Listing.feed_id.is_(None),
            or_(Listing.review_due.is_(None), Listing.review_due < today))


def _count(query) -> int:
    """Return a count query's answer."""
    return db.session.execute(query).scalar_one()


def _day_start(day: date) -> datetime:
    """Return a day as a moment (its middle, so it is the same day in the council's time zone) for sorting."""
    return datetime.combine(day, time(12), tzinfo=timezone.utc)


def _changes() -> list[Thing]:
    """Return the newest changes waiting for checks."""
    rows = db.session.execute(
        select(ListingRevision).where(ListingRevision.status == RevisionStatus.PENDING)
        .options(selectinload(ListingRevision.listing).selectinload(Listing.organisation))
        .order_by(func.coalesce(ListingRevision.submitted_at, ListingRevision.created_at).desc()).limit(NEWEST)
    ).scalars()
    return [Thing("change", str(revision.data.get("name") or revision.listing.name),
                  revision.submitted_at or revision.created_at, "moderation.revision", {"revision_id": revision.id},
                  revision.listing.organisation.name if revision.listing.organisation else "") for revision in rows]


def _feedback() -> list[Thing]:
    """Return the newest comments waiting for moderation."""
    rows = db.session.execute(select(Feedback).where(Feedback.status == FeedbackStatus.NEW)
                              .order_by(Feedback.created_at.desc()).limit(NEWEST)).scalars()
    # The list is read at a glance, maybe over a shoulder: what could identify someone is left out of it.
    return [Thing("feedback", _short(guard.remove_all((row.comment or "")[:600])) or str(TOPIC_SHORT[row.topic]),
                  row.created_at,
                  "coproduction.moderate", {"feedback_id": row.id}, str(TOPIC_SHORT[row.topic])) for row in rows]


def _short(text: str, most: int = 90) -> str:
    """Return the start of a text, cut at a word, for a one-line list."""
    text = " ".join((text or "").split())
    if len(text) <= most:
        return text
    return text[:most].rsplit(" ", 1)[0] + "…"


def _reviews(today: date) -> list[Thing]:
    """Return the listings whose review fell due most recently (those never checked have no date to sort by)."""
    rows = db.session.execute(select(Listing).where(*_overdue(today), Listing.review_due.is_not(None))
                              .options(selectinload(Listing.organisation))
                              .order_by(Listing.review_due.desc(), Listing.name).limit(NEWEST)).scalars()
    return [Thing("review", listing.name, _day_start(listing.review_due), "admin.review_dashboard", {},
                  listing.organisation.name if listing.organisation else "", day_only=True) for listing in rows]


def _feeds() -> list[Thing]:
    """Return the neighbours' feeds whose last pull failed."""
    rows = db.session.execute(select(Feed).where(Feed.problem != "").order_by(Feed.last_pull_at.desc())).scalars()
    return [Thing("feed", feed.name, feed.last_pull_at or feed.created_at, "admin.feed_page", {"feed_id": feed.id},
                  _short(feed.problem, 160)) for feed in rows]


def _imports(now: datetime) -> list[Thing]:
    """Return the uploads applied lately that left records out (rejected), with how many."""
    rows = db.session.execute(select(AuditEvent).where(AuditEvent.action == "import.applied",
                                                       AuditEvent.occurred_at >= now - timedelta(days=IMPORT_DAYS))
                              .order_by(AuditEvent.occurred_at.desc())).scalars()
    found = []
    for event in rows:
        rejected = (event.changes or {}).get("rejected") or 0
        if isinstance(rejected, int) and rejected > 0:
            found.append(Thing("import", str(_("An upload by %(who)s left %(num)s records out", who=event.actor,
                                                num=rejected)), event.occurred_at, "moderation.data", {}))
    return found


def _join_requests() -> list[Thing]:
    """Return the requests to join waiting for a decision."""
    rows = db.session.execute(select(JoinRequest).where(JoinRequest.status == JoinStatus.PENDING)
                              .order_by(JoinRequest.created_at.desc()).limit(NEWEST)).scalars()
    return [Thing("join", row.organisation_name or row.email, row.created_at, "admin.join_request",
                  {"request_id": row.id}, row.email) for row in rows]


def today(now: datetime | None = None) -> Today:
    """Count what needs doing and list each thing, newest first."""
    now = now or utcnow()
    day = current_date()
    changes, feedback, reviews = _changes(), _feedback(), _reviews(day)
    feeds, imports, joins = _feeds(), _imports(now), _join_requests()
    oldest_change = db.session.execute(
        select(func.min(func.coalesce(ListingRevision.submitted_at, ListingRevision.created_at)))
        .where(ListingRevision.status == RevisionStatus.PENDING)).scalar_one()
    oldest_feedback = db.session.execute(select(func.min(Feedback.created_at))
                                         .where(Feedback.status == FeedbackStatus.NEW)).scalar_one()
    horizon = remind_horizon(day)
    newest = sorted(changes + feedback + reviews + feeds + imports + joins,
                    key=lambda thing: thing.when, reverse=True)[:NEWEST]
    return Today(
        changes=count_waiting_changes(), oldest_change=oldest_change,
        feedback=_count(select(func.count()).select_from(Feedback).where(Feedback.status == FeedbackStatus.NEW)),
        oldest_feedback=oldest_feedback,
        overdue_reviews=_count(select(func.count()).select_from(Listing).where(*_overdue(day))),
        due_soon_reviews=_count(select(func.count()).select_from(Listing).where(
            Listing.status.in_(PUBLIC_STATUSES), Listing.feed_id.is_(None), Listing.review_due >= day,
            Listing.review_due <= horizon)), due_soon_days=(horizon - day).days,
        failed_feeds=len(feeds), failed_imports=len(imports),
        join_requests=_count(select(func.count()).select_from(JoinRequest)
                             .where(JoinRequest.status == JoinStatus.PENDING)),
        newest=newest)
