"""The retention purge: what families told us is kept only as long as the council's retention period.

After ``FEEDBACK_RETENTION_DAYS`` contact details and private replies are
deleted, unpublished comments lose their words (ones never moderated leave the
queue), and published comments keep only the text the public already reads.
The ``feedback-purge`` job of ``flask jobs run`` runs it daily (``flask feedback
purge`` runs it at once); the job's record says when it last ran, and the
administrators' page warns when it is overdue or failing.  What each purge
removed is kept in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from local_offer.extensions import db
from local_offer.models import Feedback, FeedbackStatus, record_audit, utcnow


@dataclass
class PurgeReport:
    """What the retention purge removed."""

    contacts: int = 0
    replies: int = 0
    anonymised: int = 0
    originals: int = 0


def purge(now: datetime | None = None) -> PurgeReport:
    """Delete contact details and anonymise unpublished and redacted originals older than the retention period."""
    now = now or utcnow()
    cutoff = now - timedelta(days=int(current_app.config["FEEDBACK_RETENTION_DAYS"]))
    result = PurgeReport()
    old = list(db.session.execute(
        select(Feedback).where(Feedback.created_at < cutoff, or_(
            Feedback.anonymised_at.is_(None), Feedback.contact.has(), Feedback.replies.any()))
        .options(selectinload(Feedback.contact), selectinload(Feedback.replies))).scalars())
    for feedback in old:
        if feedback.contact is not None:
            feedback.contact = None
            result.contacts += 1
        if feedback.replies:
            result.replies += len(feedback.replies)
            feedback.replies = []
        if feedback.status is not FeedbackStatus.PUBLISHED and feedback.anonymised_at is None:
            if feedback.status is FeedbackStatus.NEW:
                # Never moderated within the retention period: it leaves the queue, its words removed.
                feedback.status, feedback.moderated_at = FeedbackStatus.EXCLUDED, now
            feedback.comment, feedback.exclusion_note = "", ""
            feedback.anonymised_at = now
            result.anonymised += 1
        elif feedback.status is FeedbackStatus.PUBLISHED and feedback.anonymised_at is None:
            if feedback.comment != feedback.published_text:
                result.originals += 1  # a redacted original: only the published text is kept
            feedback.comment = feedback.published_text
            feedback.anonymised_at = now
    record_audit("feedback.purged", "feedback", None, changes={
        "at": now.isoformat(), "contacts": result.contacts, "replies": result.replies,
        "anonymised": result.anonymised, "originals": result.originals})
    db.session.commit()
    return result

