"""The council's school term dates, set by coordinators per school year, and what they say about a day.

A term (or half term) runs from its first to its last day, weekends included; a
day between two terms of the same school year (September to August), or after
the last one, is a school holiday.  For a school year with no terms entered,
nothing is known: a "term time only" session then gets no next date rather
than a wrong one.
"""

from __future__ import annotations

import time as clock
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from local_offer.extensions import db
from local_offer.i18n import _
from local_offer.models import SchoolTerm, User, record_audit, school_year_of
from local_offer.sanitise import clean_text

#: The longest a term may be: a whole school year.
LONGEST = timedelta(days=366)
#: How long a worker keeps the term dates before reading them again (coordinators change them rarely).
CACHE_SECONDS = 30

_cache: dict[str, tuple[float, TermCalendar]] = {}


class TermError(ValueError):
    """Term dates that cannot be kept; ``field`` names the box to fix."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class TermCalendar:
    """Every term's first and last day, in order: answers "is this a term day?"."""

    terms: tuple[tuple[date, date], ...]

    def is_term_day(self, day: date) -> bool | None:
        """Say whether ``day`` falls in a term (True), in the holidays (False), or nobody has said (None)."""
        year = school_year_of(day)
        known = False
        for starts, ends in self.terms:
            if starts <= day <= ends:
                return True
            known = known or school_year_of(starts) == year
        return False if known else None


def calendar() -> TermCalendar:
    """Return the term dates, read at most every ``CACHE_SECONDS`` per process (and at once after a change here)."""
    key = str(db.engine.url)
    cached = _cache.get(key)
    ttl = current_app.config.get("TERM_DATES_CACHE_SECONDS", CACHE_SECONDS)
    if cached and ttl and clock.monotonic() - cached[0] < ttl:
        return cached[1]
    rows = db.session.execute(select(SchoolTerm.starts, SchoolTerm.ends).order_by(SchoolTerm.starts)).all()
    found = TermCalendar(tuple((row.starts, row.ends) for row in rows))
    _cache[key] = (clock.monotonic(), found)
    return found


def all_terms() -> list[SchoolTerm]:
    """Return every term, earliest first."""
    return list(db.session.execute(select(SchoolTerm).order_by(SchoolTerm.starts)).scalars())


def check(name: str, starts: date, ends: date, ignore: str | None = None) -> str:
    """Return the cleaned name of a term that may be kept, or raise TermError naming the box to fix."""
    cleaned = clean_text(name or "").strip()
    if not cleaned:
        raise TermError(_("Enter the term's name, like Autumn term 1"), "name")
    if len(cleaned) > 60:
        raise TermError(_("The term's name must be 60 characters or fewer"), "name")
    if ends < starts:
        raise TermError(_("The last day must be the same as or after the first day"), "ends")
    if ends - starts > LONGEST:
        raise TermError(_("A term must be shorter than a year: check the years"), "ends")
    for other in all_terms():
        if other.id != ignore and other.starts <= ends and starts <= other.ends:
            raise TermError(_("These dates overlap %(name)s (%(starts)s to %(ends)s)", name=other.name,
                              starts=other.starts.strftime("%d/%m/%Y"), ends=other.ends.strftime("%d/%m/%Y")),
                            "starts")
    return cleaned


def add(name: str, starts: date, ends: date, actor: User | None) -> SchoolTerm:
    """Keep a new term (checked first) and audit it."""
    term = SchoolTerm(name=check(name, starts, ends), starts=starts, ends=ends)
    db.session.add(term)
    db.session.flush()
    record_audit("term.add", "school_term", term.id, actor=actor,
                 changes={"name": [None, term.name], "starts": [None, str(starts)], "ends": [None, str(ends)]})
    db.session.commit()
    _cache.clear()
    return term


def remove(term: SchoolTerm, actor: User | None) -> None:
    """Remove a term and audit it."""
    record_audit("term.remove", "school_term", term.id, actor=actor,
                 changes={"name": [term.name, None], "starts": [str(term.starts), None], "ends": [str(term.ends), None]})
    db.session.delete(term)
    db.session.commit()
    _cache.clear()


def load(path: Path) -> tuple[int, int]:
    """Add the seed file's terms that do not overlap one already kept; return (added, skipped)."""
    import yaml

    added = skipped = 0
    if not path.is_file():
        return added, skipped
    for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
        starts, ends = entry["starts"], entry["ends"]
        try:
            add(str(entry["name"]), starts, ends, actor=None)
            added += 1
        except TermError:
            db.session.rollback()
            skipped += 1
    return added, skipped
