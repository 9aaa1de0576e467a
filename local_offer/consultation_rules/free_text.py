"""Free-text answers to a consultation: waiting for a coordinator, published through the guard, or excluded.

What someone wrote stays private.  A coordinator publishes it the way feedback
is published (``local_offer.feedback.guard``): every phone number, name,
school... the guard finds is removed, or kept with a reason the audit log
records; ``public_text`` holds what the public then reads, and the answer is
marked redacted when that differs from what was written.  Or the coordinator
excludes it, with a note.  The audit log records both, never the words.
Only answers in submitted responses are moderated: a half-finished response
is not an answer yet.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from local_offer.consultations.common import MAX_TEXT
from local_offer.extensions import db
from local_offer.feedback import guard
from local_offer.models import (
    AnswerStatus,
    Consultation,
    ConsultationAnswer,
    ConsultationQuestion,
    ConsultationResponse,
    QuestionKind,
    User,
    record_audit,
    utcnow,
)
from local_offer.sanitise import clean_text

#: The longest exclusion note kept.
NOTE_MAX = 2000


def _free_text(consultation: Consultation):
    """Return a query for the consultation's written answers in submitted responses."""
    return (select(ConsultationAnswer).join(ConsultationResponse).join(ConsultationQuestion)
            .where(ConsultationResponse.consultation_id == consultation.id,
                   ConsultationResponse.submitted_at.is_not(None),
                   ConsultationQuestion.kind == QuestionKind.TEXT))


def waiting(consultation: Consultation) -> list[ConsultationAnswer]:
    """Return the written answers nobody has published or excluded yet, oldest first."""
    return list(db.session.execute(
        _free_text(consultation).where(ConsultationAnswer.status == AnswerStatus.NEW, ConsultationAnswer.text != "")
        .options(selectinload(ConsultationAnswer.question))
        .order_by(ConsultationResponse.submitted_at, ConsultationQuestion.position, ConsultationAnswer.id)).scalars())


def waiting_count(consultation: Consultation) -> int:
    """Return how many written answers wait for a coordinator."""
    query = _free_text(consultation).where(ConsultationAnswer.status == AnswerStatus.NEW,
                                           ConsultationAnswer.text != "")
    return db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()


def moderated(consultation: Consultation, limit: int = 50) -> list[ConsultationAnswer]:
    """Return the written answers published or excluded most recently, newest first."""
    return list(db.session.execute(
        _free_text(consultation).where(ConsultationAnswer.status != AnswerStatus.NEW)
        .options(selectinload(ConsultationAnswer.question))
        .order_by(ConsultationAnswer.moderated_at.desc(), ConsultationAnswer.id).limit(limit)).scalars())


def answer_of(consultation: Consultation, answer_id: str) -> ConsultationAnswer | None:
    """Return the consultation's written answer with this id (in a submitted response), or None."""
    return db.session.execute(_free_text(consultation).where(ConsultationAnswer.id == answer_id)).scalar_one_or_none()


class PersonalDetailsLeft(ValueError):
    """The text to publish still holds personal details nobody chose to keep: nothing was published."""


def publish(answer: ConsultationAnswer, text: str, actor: User, *, ip_address: str | None = None,
            removed: dict[str, int] | None = None, kept: list[dict[str, str]] | None = None) -> None:
    """Publish a written answer once the guard is satisfied: ``text`` is what the public will read.

    Anything the guard still finds in the text must be of a kind the coordinator
    chose to keep (``kept``, each with a reason), or nothing is published
    (``PersonalDetailsLeft``).  The audit log notes what kinds were removed and
    why anything was kept, never the words.
    """
    public = clean_text(text)[:MAX_TEXT]
    kept = kept or []
    kept_kinds = {entry["kind"] for entry in kept}
    left = [finding.kind for finding in guard.find(public) if finding.kind not in kept_kinds]
    if left or not public:
        raise PersonalDetailsLeft(", ".join(sorted(set(left))))
    answer.public_text = public
    answer.redacted = public != answer.text
    answer.status = AnswerStatus.PUBLISHED
    answer.exclusion_note = ""
    answer.moderated_by_id, answer.moderated_at = actor.id, utcnow()
    record_audit("consultation_answer.published", "consultation_answer", answer.id, actor=actor,
                 ip_address=ip_address,
                 changes={"redacted": answer.redacted, "confirmed_identifies_no_one": True,
                          "personal_details_removed": dict(sorted((removed or {}).items())),
                          "personal_details_kept": kept})
    db.session.commit()


def exclude(answer: ConsultationAnswer, note: str, actor: User, ip_address: str | None = None) -> None:
    """Keep a written answer off the public pages, with a note for the record (it still counts as an answer)."""
    answer.status = AnswerStatus.EXCLUDED
    answer.exclusion_note = clean_text(note)[:NOTE_MAX]
    answer.public_text, answer.redacted = "", False
    answer.moderated_by_id, answer.moderated_at = actor.id, utcnow()
    record_audit("consultation_answer.excluded", "consultation_answer", answer.id, actor=actor,
                 ip_address=ip_address, changes={"note_given": bool(answer.exclusion_note)})
    db.session.commit()
