"""How long consultation answers are kept: the ``consultation-retention`` job of ``flask jobs run``, daily.

* A half-finished response (never sent) is deleted ``HALF_FINISHED_DAYS`` (30)
  days after the consultation closes.
* The words of a written answer that was not published are emptied
  ``UNPUBLISHED_TEXT_MONTHS`` (12) months after it closes; a
  published answer keeps only what the public already reads (``public_text``),
  so a redacted original goes too.  Answers still waiting leave the queue.
* The counts (every choice made, how many wrote something) and published text
  are kept, so published results never change.

The privacy notice states these same periods.  What each run removed is kept
in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select

from local_offer.consultations import common
from local_offer.extensions import db
from local_offer.feedback.partnership_report import local_zone
from local_offer.models import (
    AnswerStatus,
    Consultation,
    ConsultationAnswer,
    ConsultationResponse,
    ConsultationStatus,
    record_audit,
    utcnow,
)

#: Days after closing that half-finished responses are kept.
HALF_FINISHED_DAYS = 30
#: Months after closing that the words of unpublished written answers are kept.
UNPUBLISHED_TEXT_MONTHS = 12


@dataclass
class RetentionReport:
    """What one run removed."""

    half_finished: int = 0
    texts: int = 0
    originals: int = 0


def closed_on(consultation: Consultation, today: date) -> date | None:
    """Return the day a consultation closed (early, or its closing date), or None while it has not closed."""
    if common.state(consultation, today) != common.CLOSED:
        return None
    if consultation.closed_at is not None:
        return min(consultation.closes_on, consultation.closed_at.astimezone(local_zone()).date())
    return consultation.closes_on


def months_after(day: date, months: int) -> date:
    """Return the same day ``months`` calendar months later (the month's last day when it has no such day)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    following = date(year + (month == 12), month % 12 + 1, 1)
    return min(day.replace(year=year, month=month, day=1) + timedelta(days=day.day - 1),
               following - timedelta(days=1))


def purge(now: datetime | None = None) -> RetentionReport:
    """Delete half-finished responses and empty unpublished words past their time; record it in the audit log."""
    now = now or utcnow()
    today = now.astimezone(local_zone()).date()
    report = RetentionReport()
    consultations = db.session.execute(select(Consultation).where(Consultation.status != ConsultationStatus.DRAFT)
                                       .order_by(Consultation.id)).scalars().all()
    for consultation in consultations:
        closed = closed_on(consultation, today)
        if closed is None:
            continue
        if today > closed + timedelta(days=HALF_FINISHED_DAYS):
            unsent = select(ConsultationResponse.id).where(ConsultationResponse.consultation_id == consultation.id,
                                                           ConsultationResponse.submitted_at.is_(None))
            db.session.execute(delete(ConsultationAnswer).where(ConsultationAnswer.response_id.in_(unsent)))
            report.half_finished += db.session.execute(
                delete(ConsultationResponse).where(ConsultationResponse.id.in_(unsent))).rowcount or 0
        if today > months_after(closed, UNPUBLISHED_TEXT_MONTHS):
            _empty_words(consultation, now, report)
    record_audit("consultation.retention", "consultation", None, changes={
        "at": now.isoformat(), "half_finished_deleted": report.half_finished, "texts_emptied": report.texts,
        "redacted_originals_removed": report.originals})
    db.session.commit()
    return report


def _empty_words(consultation: Consultation, now: datetime, report: RetentionReport) -> None:
    """Empty the words of unpublished answers and replace published originals with what the public reads."""
    answers = db.session.execute(
        select(ConsultationAnswer).join(ConsultationResponse)
        .where(ConsultationResponse.consultation_id == consultation.id,
               ConsultationAnswer.text != "")
        .order_by(ConsultationAnswer.id)).scalars()
    for answer in answers:
        if answer.status is AnswerStatus.PUBLISHED:
            if answer.text != answer.public_text:
                answer.text = answer.public_text
                report.originals += 1
            continue
        if answer.status is AnswerStatus.NEW:
            # Never moderated in twelve months: it leaves the queue (it still counts as answered).
            answer.status, answer.moderated_at = AnswerStatus.EXCLUDED, now
        answer.text, answer.exclusion_note = "", ""
        report.texts += 1
