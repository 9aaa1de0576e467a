"""Comments from families: left on the public forms, moderated by coordinators, answered privately.

A comment's own words stay private.  Publishing sets ``published_text``, what
the public reads, after a coordinator confirms it identifies no one; when that
differs from the comment, the comment counts as redacted and the audit log
notes only that it happened, never the words.  Contact details live apart from
the comment so the retention purge can remove them.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from local_offer import mail
from local_offer.extensions import db
from local_offer.feedback import guard
from local_offer.feedback.tags import themes_with_ids
from local_offer.i18n import _, in_language, language_to_keep
from local_offer.models import (
    ExclusionReason,
    Feedback,
    FeedbackContact,
    FeedbackReply,
    FeedbackStatus,
    FeedbackTopic,
    Respondent,
    User,
    record_audit,
    utcnow,
)
from local_offer.sanitise import clean_text

COMMENT_MAX = 5000


# --- leaving feedback -----------------------------------------------------------------------------


def submit(topic: str, respondent: str, comment: str, *, listing_id: str | None = None,
           priority_id: str | None = None, simple_form: bool = False, name: str = "", email: str = "",
           phone: str = "") -> Feedback:
    """Store a comment (sanitised), with contact details apart from it when given."""
    feedback = Feedback(topic=FeedbackTopic(topic), respondent=Respondent(respondent),
                        comment=clean_text(comment)[:COMMENT_MAX], listing_id=listing_id or None,
                        priority_id=priority_id or None, simple_form=simple_form)
    if email.strip() or phone.strip():
        feedback.contact = FeedbackContact(name=clean_text(name)[:255], email=email.strip()[:255],
                                           phone=clean_text(phone)[:50], language=language_to_keep())
    db.session.add(feedback)
    db.session.commit()
    return feedback


# --- the moderation queue ---------------------------------------------------------------------------


def waiting() -> list[Feedback]:
    """Return comments not yet moderated, oldest first."""
    return list(db.session.execute(select(Feedback).where(Feedback.status == FeedbackStatus.NEW)
                                   .options(selectinload(Feedback.listing), selectinload(Feedback.contact))
                                   .order_by(Feedback.created_at)).scalars())


def waiting_count() -> int:
    """Return how many comments wait for moderation (shown on the coordinators' pages)."""
    return db.session.execute(select(func.count()).select_from(Feedback)
                              .where(Feedback.status == FeedbackStatus.NEW)).scalar_one()


def recently_moderated(limit: int = 20) -> list[Feedback]:
    """Return the comments moderated most recently, newest first."""
    return list(db.session.execute(select(Feedback).where(Feedback.status != FeedbackStatus.NEW)
                                   .order_by(Feedback.moderated_at.desc()).limit(limit)).scalars())


# --- moderating -------------------------------------------------------------------------------------


def tag(feedback: Feedback, theme_ids: list[str], priority_id: str | None, actor: User) -> None:
    """Tag a comment with themes and a priority, whatever its status."""
    feedback.themes = themes_with_ids(theme_ids)
    feedback.priority_id = priority_id or None
    record_audit("feedback.tagged", "feedback", feedback.id, actor=actor,
                 changes={"themes": len(feedback.themes), "priority": bool(feedback.priority_id)})
    db.session.commit()


class PersonalDetailsLeft(ValueError):
    """The text to publish still holds personal details nobody chose to keep: nothing was published."""


def publish(feedback: Feedback, text: str, actor: User, *, theme_ids: list[str], priority_id: str | None,
            ip_address: str | None = None, removed: dict[str, int] | None = None,
            kept: list[dict[str, str]] | None = None) -> None:
    """Publish a comment after a coordinator has confirmed it identifies no one.

    ``text`` is what the public will read; when it differs from the comment the
    comment is recorded as redacted.  Anything the personal-details guard still
    finds in it must be of a kind the coordinator chose to keep (``kept``, each
    with a reason), or nothing is published (``PersonalDetailsLeft``).  The audit
    log notes what kinds were removed and why anything was kept, never the words.
    """
    public = clean_text(text)[:COMMENT_MAX]
    kept = kept or []
    kept_kinds = {entry["kind"] for entry in kept}
    left = [finding.kind for finding in guard.find(public) if finding.kind not in kept_kinds]
    if left:
        raise PersonalDetailsLeft(", ".join(sorted(set(left))))
    feedback.published_text = public
    feedback.redacted = public != feedback.comment
    feedback.status = FeedbackStatus.PUBLISHED
    feedback.exclusion_reason, feedback.exclusion_note = None, ""
    feedback.moderated_by_id, feedback.moderated_at = actor.id, utcnow()
    feedback.published_at = feedback.published_at or feedback.moderated_at
    feedback.priority_id = priority_id or None
    feedback.themes = themes_with_ids(theme_ids)
    record_audit("feedback.published", "feedback", feedback.id, actor=actor, ip_address=ip_address,
                 changes={"redacted": feedback.redacted, "confirmed_identifies_no_one": True,
                          "personal_details_removed": dict(sorted((removed or {}).items())),
                          "personal_details_kept": kept})
    db.session.commit()


def exclude(feedback: Feedback, reason: str, note: str, actor: User, ip_address: str | None = None) -> bool:
    """Exclude a comment with a reason; signpost someone with their own case to complaints. Return if emailed."""
    already_signposted = (feedback.status is FeedbackStatus.EXCLUDED
                          and feedback.exclusion_reason is ExclusionReason.INDIVIDUAL_CASE)
    feedback.status = FeedbackStatus.EXCLUDED
    feedback.exclusion_reason = ExclusionReason(reason)
    feedback.exclusion_note = clean_text(note)[:2000]
    feedback.published_text, feedback.published_at = "", None
    feedback.moderated_by_id, feedback.moderated_at = actor.id, utcnow()
    record_audit("feedback.excluded", "feedback", feedback.id, actor=actor, ip_address=ip_address,
                 changes={"reason": reason})
    db.session.commit()
    if feedback.exclusion_reason is ExclusionReason.INDIVIDUAL_CASE and feedback.contact \
            and feedback.contact.email and not already_signposted:
        try:
            send_reply(feedback, _(
            "Thank you for your comment about the Local Offer. It is about one person's own situation, so we "
            "cannot publish it or deal with it as feedback. To raise a concern or complaint about your own or "
            "your child's case, see:\n%(link)s\nor call us on %(phone)s.",
            link=mail.link("pages.page", slug="complaints-and-disagreements"),
            phone=current_app.config["COUNCIL_PHONE"]), actor)
        except ReplyFailed:
            return False  # the exclusion stands; the coordinator can reply by hand
        return True
    return False


# --- private replies --------------------------------------------------------------------------------


class ReplyFailed(RuntimeError):
    """The email could not be sent (the mail server refused or was unreachable); nothing was recorded."""


def send_reply(feedback: Feedback, body: str, actor: User) -> FeedbackReply:
    """Email a private reply to the person who left a comment, and keep a record of it."""
    contact = feedback.contact
    if contact is None or not contact.email:
        raise ValueError("no email address")
    text = clean_text(body)[:5000]
    try:
        with in_language(contact.language):  # the reply itself is the coordinator's words, as written
            subject = _("Your comment about the %(service)s", service=current_app.config["SERVICE_NAME"])
        mail.send(contact.email, subject, text)
    except Exception as error:  # SMTP down or refusing: say so, record nothing
        current_app.logger.exception("Could not email a reply about feedback %s", feedback.id)
        raise ReplyFailed(str(error)) from error
    reply = FeedbackReply(feedback=feedback, sent_by_id=actor.id, body=text)
    db.session.add(reply)
    record_audit("feedback.replied", "feedback", feedback.id, actor=actor)
    db.session.commit()
    return reply
