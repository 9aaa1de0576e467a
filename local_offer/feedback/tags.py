"""What comments are tagged with: the partnership's priorities and the coordinators' themes.

A priority row never changes once comments may point at it: rewording retires
the row and adds a new one with the same code, so a comment keeps the words it
was tagged with while the public filter (by code) finds every version.
"""

from __future__ import annotations

import re
import uuid

from sqlalchemy import func, select

from local_offer.extensions import db
from local_offer.models import Priority, Theme, User, record_audit, utcnow
from local_offer.sanitise import clean_text


def _code_for(name: str, length: int, fallback: str) -> str:
    """Return the address-safe code for a cleaned name: lower-case words joined by hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:length] or fallback


# --- priorities ------------------------------------------------------------------------------------


def active_priorities() -> list[Priority]:
    """Return the partnership's current priorities, in order."""
    return list(db.session.execute(select(Priority).where(Priority.retired_at.is_(None))
                                   .order_by(Priority.position, Priority.title)).scalars())


def priority_titles_by_code() -> dict[str, str]:
    """Return every priority code ever used with a title it had (the public page filters by code)."""
    return {row.code: row.title for row in db.session.execute(select(Priority)).scalars()}


def add_priority(title: str, description: str, actor: User) -> Priority:
    """Add a priority at the end of the current list."""
    code = _code_for(clean_text(title), 60, "priority")
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


# --- themes ----------------------------------------------------------------------------------------


def all_themes() -> list[Theme]:
    """Return every theme, by name."""
    return list(db.session.execute(select(Theme).order_by(Theme.name)).scalars())


def themes_with_ids(theme_ids: list[str] | None) -> list[Theme]:
    """Return the themes with these ids (unknown ids are left out)."""
    return list(db.session.execute(select(Theme).where(Theme.id.in_(theme_ids or []))).scalars())


def add_theme(name: str) -> Theme | None:
    """Add a theme to tag comments with; return None when there is already one with the same code."""
    name = clean_text(name)
    code = _code_for(name, 80, "theme")
    if db.session.execute(select(Theme).where(Theme.code == code)).first() is not None:
        return None
    theme = Theme(code=code, name=name)
    db.session.add(theme)
    db.session.commit()
    return theme
