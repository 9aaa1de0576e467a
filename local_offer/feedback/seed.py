"""Seed the partnership's priorities, and (demo only) a year of moderated feedback with responses.

Priorities are loaded only when there are none: after that, coordinators own
the list in the site.  Demo feedback is dated relative to the day it is loaded,
so the pages always show the last twelve months; loading again adds nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select

from local_offer.content_loader import ContentError, LoadReport, read_yaml
from local_offer.extensions import db
from local_offer.models import (
    CouncilResponse,
    ExclusionReason,
    Feedback,
    FeedbackContact,
    FeedbackStatus,
    FeedbackTopic,
    Priority,
    PromiseStatus,
    Respondent,
    ResponseStatus,
    Theme,
    record_audit,
)
from local_offer.sanitise import clean_text

FEEDBACK_FILE = "feedback.yaml"


def load_priorities(path: Path, report: LoadReport) -> None:
    """Add the seed priorities when the council has none yet."""
    if not path.is_file():
        return
    if db.session.execute(select(Priority.id).limit(1)).first() is not None:
        report.count("priorities", False)
        return
    for position, entry in enumerate(read_yaml(path) or []):
        if not isinstance(entry, dict) or not entry.get("code") or not entry.get("title"):
            raise ContentError(f"{path}: each priority needs a code and a title ({entry!r})")
        db.session.add(Priority(code=entry["code"], title=clean_text(entry["title"]),
                                description=clean_text(entry.get("description", "")), position=position))
        report.count("priorities", True)


def _ago(days, now: datetime) -> datetime:
    """Return the moment a number of days (from the content file) before now."""
    return now - timedelta(days=float(days))


def load_demo_feedback(path: Path, report: LoadReport, now: datetime | None = None) -> None:
    """Add the demo feedback, themes and responses that are not in the database yet."""
    if not path.is_file():
        return
    now = now or datetime.now(timezone.utc)
    data = read_yaml(path) or {}
    db.session.flush()
    themes = {}
    for entry in data.get("themes", []):
        theme = db.session.execute(select(Theme).where(Theme.code == entry["code"])).scalar_one_or_none()
        if theme is None:
            theme = Theme(code=entry["code"], name=clean_text(entry["name"]))
            db.session.add(theme)
            report.count("feedback themes", True)
        themes[entry["code"]] = theme
    priorities = {row.code: row for row in db.session.execute(
        select(Priority).where(Priority.retired_at.is_(None))).scalars()}
    for entry in data.get("feedback", []):
        if db.session.get(Feedback, entry["id"]) is not None:
            report.count("feedback", False)
            continue
        try:
            created = _ago(entry["days_ago"], now)
            status = FeedbackStatus(entry.get("status", "new"))
            feedback = Feedback(
                id=entry["id"], created_at=created, topic=FeedbackTopic(entry["topic"]),
                respondent=Respondent(entry["respondent"]), simple_form=bool(entry.get("simple_form")),
                listing_id=entry.get("listing"), comment=clean_text(entry["comment"]), status=status,
                priority=priorities.get(entry.get("priority")) if entry.get("priority") else None,
                themes=[themes[code] for code in entry.get("themes") or []])
        except (KeyError, ValueError) as error:
            raise ContentError(f"{path}: feedback {entry.get('id', '?')}: {error}") from error
        if status is not FeedbackStatus.NEW:
            feedback.moderated_at = created + timedelta(days=float(entry.get("moderated_days_after", 3)))
        if status is FeedbackStatus.PUBLISHED:
            feedback.published_text = clean_text(entry.get("published_text") or entry["comment"])
            feedback.redacted = feedback.published_text != feedback.comment
            feedback.published_at = feedback.moderated_at
        elif status is FeedbackStatus.EXCLUDED:
            feedback.exclusion_reason = ExclusionReason(entry["exclusion_reason"])
            feedback.exclusion_note = clean_text(entry.get("exclusion_note", ""))
        if entry.get("contact"):
            feedback.contact = FeedbackContact(name=clean_text(entry["contact"].get("name", "")),
                                               email=entry["contact"].get("email", ""), created_at=created)
        db.session.add(feedback)
        report.count("feedback", True)
    db.session.flush()
    for entry in data.get("responses", []):
        if db.session.get(CouncilResponse, entry["id"]) is not None:
            report.count("council responses", False)
            continue
        published_at = _ago(entry.get("published_days_ago") or 0, now)
        status = ResponseStatus(entry.get("status", "published"))
        due = entry.get("action_due_days")
        response = CouncilResponse(
            id=entry["id"], title=clean_text(entry["title"]), you_said=clean_text(entry.get("you_said", "")),
            we_did=clean_text(entry.get("we_did", "")), status=status, created_at=published_at,
            published_at=published_at if status is ResponseStatus.PUBLISHED else None,
            action_due=(published_at + timedelta(days=float(due))).date() if due is not None else None,
            theme=themes.get(entry.get("theme")) if entry.get("theme") else None,
            progress=PromiseStatus(entry.get("progress", "planned")),
            feedback=[row for row in (db.session.get(Feedback, i) for i in entry.get("feedback") or []) if row])
        if response.theme is not None and status is ResponseStatus.PUBLISHED:
            # As when a coordinator publishes it: it also answers the comments with its theme by then.
            with db.session.no_autoflush:
                response.feedback += [row for row in db.session.execute(select(Feedback).where(
                    Feedback.status == FeedbackStatus.PUBLISHED, Feedback.published_at <= published_at,
                    Feedback.themes.any(Theme.id == response.theme.id))).scalars() if row not in response.feedback]
        db.session.add(response)
        report.count("council responses", True)
    if report.added.get("feedback"):
        record_audit("feedback.seeded", "feedback", None, changes={"source": "demo content",
                                                                    "comments": report.added["feedback"]})

