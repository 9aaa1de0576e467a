"""Co-production: comments in, moderated, answered in public, counted for the partnership, purged on time.

Views call these functions; they hold the rules: what is public (only
``published_text`` of published comments, and published responses), that a
priority row never changes once comments point at it, that redaction keeps
the original private and logs only that it happened, and what the retention
purge removes.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from sqlalchemy import extract, false, func, or_, select
from sqlalchemy.orm import selectinload

from local_offer import mail
from local_offer.extensions import db
from local_offer.i18n import _, _l
from local_offer.models import (
    CouncilResponse,
    ExclusionReason,
    Feedback,
    FeedbackContact,
    FeedbackReply,
    FeedbackStatus,
    FeedbackTopic,
    Priority,
    Respondent,
    ResponseStatus,
    SiteSetting,
    Theme,
    User,
    record_audit,
    utcnow,
)
from local_offer.formats import spreadsheet_safe
from local_offer.sanitise import clean_text

TOPIC_LABELS = {
    FeedbackTopic.CONTENT: _l("What is in the Local Offer, or missing from it"),
    FeedbackTopic.USABILITY: _l("How easy it is to find and use the information"),
    FeedbackTopic.DEVELOPMENT: _l("How the Local Offer is developed and reviewed"),
}
TOPIC_SHORT = {
    FeedbackTopic.CONTENT: _l("Services and gaps"),
    FeedbackTopic.USABILITY: _l("Finding and using information"),
    FeedbackTopic.DEVELOPMENT: _l("How the Local Offer is developed"),
}
RESPONDENT_LABELS = {
    Respondent.PARENT_CARER: _l("Parent or carer"),
    Respondent.YOUNG_PERSON: _l("Child or young person"),
    Respondent.PROFESSIONAL: _l("Professional"),
    Respondent.PROVIDER: _l("Provider"),
    Respondent.OTHER: _l("Someone else"),
}
EXCLUSION_LABELS = {
    ExclusionReason.VEXATIOUS: _l("Vexatious (repeated or not in good faith)"),
    ExclusionReason.ABUSIVE: _l("Abusive or offensive"),
    ExclusionReason.INDIVIDUAL_CASE: _l("About one person's own case: signposted to complaints"),
}
PURGE_SETTING = "feedback_purge"
#: The law asks for comments and responses to be published at least once a year.
PUBLISH_EVERY = timedelta(days=365)
COMMENT_MAX = 5000


# --- priorities --------------------------------------------------------------------------------


def active_priorities() -> list[Priority]:
    """Return the partnership's current priorities, in order."""
    return list(db.session.execute(select(Priority).where(Priority.retired_at.is_(None))
                                   .order_by(Priority.position, Priority.title)).scalars())


def add_priority(title: str, description: str, actor: User) -> Priority:
    """Add a priority at the end of the current list."""
    import re
    import uuid

    code = re.sub(r"[^a-z0-9]+", "-", clean_text(title).lower()).strip("-")[:60] or "priority"
    if db.session.execute(select(Priority.id).where(Priority.code == code)).first() is not None:
        code = f"{code[:50]}-{uuid.uuid4().hex[:6]}"
    position = (db.session.execute(select(func.max(Priority.position))).scalar_one() or 0) + 1
    priority = Priority(code=code, title=clean_text(title), description=clean_text(description), position=position)
    db.session.add(priority)
    db.session.flush()
    record_audit("priority.added", "priority", priority.id, actor=actor, changes={"title": priority.title})
    db.session.commit()
    return priority


def revise_priority(priority: Priority, title: str, description: str, actor: User) -> Priority:
    """Change a priority's wording: the old row is retired (comments keep it), a new row takes its place."""
    if priority.retired_at is not None:
        raise ValueError("retired")
    now = utcnow()
    priority.retired_at = now
    revised = Priority(code=priority.code, title=clean_text(title), description=clean_text(description),
                       position=priority.position, replaces_id=priority.id, created_at=now)
    db.session.add(revised)
    db.session.flush()
    record_audit("priority.revised", "priority", revised.id, actor=actor,
                 changes={"title": [priority.title, revised.title], "replaces": priority.id})
    db.session.commit()
    return revised


def retire_priority(priority: Priority, actor: User) -> None:
    """Take a priority off the current list; comments tagged with it keep it."""
    if priority.retired_at is None:
        priority.retired_at = utcnow()
        record_audit("priority.retired", "priority", priority.id, actor=actor, changes={"title": priority.title})
        db.session.commit()


def priority_history() -> list[Priority]:
    """Return every version of every priority, newest first (the list's history)."""
    return list(db.session.execute(select(Priority).order_by(Priority.created_at.desc())).scalars())


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
                                           phone=clean_text(phone)[:50])
    db.session.add(feedback)
    db.session.commit()
    return feedback


# --- moderating -------------------------------------------------------------------------------------


def waiting() -> list[Feedback]:
    """Return comments not yet moderated, oldest first."""
    return list(db.session.execute(select(Feedback).where(Feedback.status == FeedbackStatus.NEW)
                                   .options(selectinload(Feedback.listing), selectinload(Feedback.contact))
                                   .order_by(Feedback.created_at)).scalars())


def set_themes(feedback: Feedback, theme_ids: list[str]) -> None:
    """Tag a comment with themes (replacing its tags)."""
    themes = list(db.session.execute(select(Theme).where(Theme.id.in_(theme_ids or []))).scalars())
    feedback.themes = themes


def tag(feedback: Feedback, theme_ids: list[str], priority_id: str | None, actor: User) -> None:
    """Tag a comment with themes and a priority, whatever its status."""
    set_themes(feedback, theme_ids)
    feedback.priority_id = priority_id or None
    record_audit("feedback.tagged", "feedback", feedback.id, actor=actor,
                 changes={"themes": len(feedback.themes), "priority": bool(feedback.priority_id)})
    db.session.commit()


def publish(feedback: Feedback, text: str, actor: User, *, theme_ids: list[str], priority_id: str | None,
            ip_address: str | None = None) -> None:
    """Publish a comment after a coordinator has confirmed it identifies no one.

    ``text`` is what the public will read; when it differs from the comment the
    comment is recorded as redacted. The audit log notes that, never the words.
    """
    public = clean_text(text)[:COMMENT_MAX]
    feedback.published_text = public
    feedback.redacted = public != feedback.comment
    feedback.status = FeedbackStatus.PUBLISHED
    feedback.exclusion_reason, feedback.exclusion_note = None, ""
    feedback.moderated_by_id, feedback.moderated_at = actor.id, utcnow()
    feedback.published_at = feedback.published_at or feedback.moderated_at
    feedback.priority_id = priority_id or None
    set_themes(feedback, theme_ids)
    record_audit("feedback.published", "feedback", feedback.id, actor=actor, ip_address=ip_address,
                 changes={"redacted": feedback.redacted, "confirmed_identifies_no_one": True})
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
            link=url_for("pages.page", slug="complaints-and-disagreements", _external=True),
            phone=current_app.config["COUNCIL_PHONE"]), actor)
        except ReplyFailed:
            return False  # the exclusion stands; the coordinator can reply by hand
        return True
    return False


class ReplyFailed(RuntimeError):
    """The email could not be sent (the mail server refused or was unreachable); nothing was recorded."""


def send_reply(feedback: Feedback, body: str, actor: User) -> FeedbackReply:
    """Email a private reply to the person who left a comment, and keep a record of it."""
    contact = feedback.contact
    if contact is None or not contact.email:
        raise ValueError("no email address")
    text = clean_text(body)[:5000]
    try:
        mail.send(contact.email, _("Your comment about the %(service)s",
                                   service=current_app.config["SERVICE_NAME"]), text)
    except Exception as error:  # SMTP down or refusing: say so, record nothing
        current_app.logger.exception("Could not email a reply about feedback %s", feedback.id)
        raise ReplyFailed(str(error)) from error
    reply = FeedbackReply(feedback=feedback, sent_by_id=actor.id, body=text)
    db.session.add(reply)
    record_audit("feedback.replied", "feedback", feedback.id, actor=actor)
    db.session.commit()
    return reply


# --- "You said, we did" ---------------------------------------------------------------------------------


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


def last_publication() -> datetime | None:
    """Return when a comment or response was last published."""
    comment = db.session.execute(select(func.max(Feedback.published_at))).scalar_one()
    response = db.session.execute(select(func.max(CouncilResponse.published_at))).scalar_one()
    stamps = [_aware(stamp) for stamp in (comment, response) if stamp is not None]
    return max(stamps) if stamps else None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def publication_overdue(now: datetime | None = None) -> bool:
    """Say whether a year has passed without publishing (reg 56 asks for at least yearly)."""
    last = last_publication()
    return last is None or (now or utcnow()) - last > PUBLISH_EVERY


# --- the partnership report ----------------------------------------------------------------------------


@dataclass
class Row:
    """A count for one category in this period and the one before."""

    label: str
    current: int
    previous: int

    @property
    def change(self) -> int:
        """Return the change from the previous period."""
        return self.current - self.previous


@dataclass
class Report:
    """Counts of feedback by topic, priority, theme and who it came from, with the period before."""

    start: date
    end: date
    previous_start: date
    previous_end: date
    total: Row
    sections: dict[str, list[Row]] = field(default_factory=dict)
    responses: list[CouncilResponse] = field(default_factory=list)
    published: int = 0
    excluded: int = 0


def local_zone() -> ZoneInfo:
    """Return the council's time zone: report days start at local midnight, as the pages show them."""
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def local_today() -> date:
    """Return today's date where the council is."""
    return datetime.now(local_zone()).date()


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    zone = local_zone()
    return (datetime.combine(start, time.min, tzinfo=zone),
            datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone))


def report(start: date, end: date) -> Report:
    """Count the feedback left between two dates (inclusive), against the same length of time before."""
    length = (end - start).days + 1
    previous_end = start - timedelta(days=1)
    previous_start = previous_end - timedelta(days=length - 1)

    def rows_in(first: date, last: date) -> list[Feedback]:
        low, high = _bounds(first, last)
        return list(db.session.execute(select(Feedback).where(Feedback.created_at >= low, Feedback.created_at < high)
                                       .options(selectinload(Feedback.priority), selectinload(Feedback.themes)))
                    .scalars())

    now_rows, before_rows = rows_in(start, end), rows_in(previous_start, previous_end)
    current_titles = {priority.code: priority.title for priority in active_priorities()}

    def count(rows, key) -> Counter:
        counter: Counter = Counter()
        for row in rows:
            for label in key(row):
                counter[label] += 1
        return counter

    def section(key, order: list[str]) -> list[Row]:
        now, before = count(now_rows, key), count(before_rows, key)
        labels = order + sorted(label for label in set(now) | set(before) if label not in order)
        return [Row(label, now.get(label, 0), before.get(label, 0)) for label in labels
                if label in order or now.get(label) or before.get(label)]

    def priority_key(row):
        if row.priority is None:
            return [str(_("No priority given"))]
        return [current_titles.get(row.priority.code, row.priority.title)]

    result = Report(start, end, previous_start, previous_end, Row(str(_("All feedback")), len(now_rows),
                                                                    len(before_rows)))
    result.sections = {
        "topic": section(lambda row: [str(TOPIC_SHORT[row.topic])], [str(label) for label in TOPIC_SHORT.values()]),
        "priority": section(priority_key, list(current_titles.values())),
        "theme": section(lambda row: [theme.name for theme in row.themes] or [str(_("No theme yet"))], []),
        "respondent": section(lambda row: [str(RESPONDENT_LABELS[row.respondent])],
                              [str(label) for label in RESPONDENT_LABELS.values()]),
    }
    result.published = sum(1 for row in now_rows if row.status is FeedbackStatus.PUBLISHED)
    result.excluded = sum(1 for row in now_rows if row.status is FeedbackStatus.EXCLUDED)
    low, high = _bounds(start, end)
    result.responses = list(db.session.execute(
        select(CouncilResponse).where(CouncilResponse.status == ResponseStatus.PUBLISHED,
                                      CouncilResponse.published_at >= low, CouncilResponse.published_at < high)
        .options(selectinload(CouncilResponse.feedback)).order_by(CouncilResponse.published_at)).scalars())
    return result


SECTION_TITLES = {"topic": _l("By topic"), "priority": _l("By partnership priority"), "theme": _l("By theme"),
                  "respondent": _l("By who it came from")}


def report_csv(result: Report) -> str:
    """Return the report's counts as CSV, one row per category (formulas neutralised for spreadsheets)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["section", "category", f"{result.start}..{result.end}",
                     f"{result.previous_start}..{result.previous_end}", "change"])
    writer.writerow(["total", result.total.label, result.total.current, result.total.previous, result.total.change])
    for key, rows in result.sections.items():
        for row in rows:
            writer.writerow([key, spreadsheet_safe(row.label), row.current, row.previous, row.change])
    return buffer.getvalue()


# --- retention -------------------------------------------------------------------------------------------


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
    setting = db.session.get(SiteSetting, PURGE_SETTING) or SiteSetting(key=PURGE_SETTING, value={})
    setting.value = {"at": now.isoformat(), "contacts": result.contacts, "replies": result.replies,
                     "anonymised": result.anonymised, "originals": result.originals}
    db.session.add(setting)
    record_audit("feedback.purged", "feedback", None, changes=dict(setting.value))
    db.session.commit()
    return result


def last_purge() -> dict | None:
    """Return when the purge last ran and what it removed, or None if it never has."""
    setting = db.session.get(SiteSetting, PURGE_SETTING)
    return dict(setting.value) if setting else None


def retention_due(now: datetime | None = None) -> bool:
    """Say whether the purge has not run in the last two days (it should run daily from cron)."""
    last = last_purge()
    if not last:
        return True
    return (now or utcnow()) - datetime.fromisoformat(last["at"]) > timedelta(days=2)
