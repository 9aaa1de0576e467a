"""A listing's sessions as an iCalendar file, to add to a phone's or computer's calendar (``icalendar``).

Each session is one event that repeats from its next date, in the council's
time zone, with the recurrence its rule has (``RRULE:FREQ=WEEKLY;BYDAY=SA``,
``FREQ=WEEKLY;INTERVAL=2;BYDAY=FR``, ``FREQ=MONTHLY;BYDAY=1SA``,
``FREQ=MONTHLY;BYMONTHDAY=15``; one-off dates as ``RDATE``).  Term-time sessions
skip the holidays and holiday sessions skip term days (``EXDATE``), and both stop
at the end of the last school year the council has entered term dates for:
nothing is promised that nobody has said.  Sessions we cannot put in a calendar
honestly are left out: no day, no start time, a note that may make a weekly day
irregular ("about one Saturday a month"), every two weeks from no known date, a
term-time session with no term dates, one that has ended.  ``exportable`` says
whether a listing has any.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from flask import current_app

from local_offer import term_dates
from local_offer.listings.links import listing_page_link
from local_offer.listings import recurrence
from local_offer.listings.recurrence import MONTHLY, ONCE, Rule
from local_offer.listings.when import next_date
from local_offer.models import SchedulePeriod
from local_offer.term_dates import TermCalendar

#: An event whose session has no closing time lasts this long.
DEFAULT_LENGTH = timedelta(hours=1)


@dataclass(frozen=True)
class Repeat:
    """One session as a repeating event: its first date, last possible date and the dates it skips."""

    session: Rule
    first: date
    until: date | None
    skipped: tuple[date, ...]
    ref: str


def _last_known_day(terms: TermCalendar) -> date | None:
    """Return the last day (31 August) of the last school year with term dates, or None."""
    if not terms.terms:
        return None
    last_start = max(starts for starts, _ends in terms.terms)
    year = last_start.year if last_start.month >= 9 else last_start.year - 1
    return date(year + 1, 8, 31)


def repeats(rows, terms: TermCalendar, today: date) -> list[Repeat]:
    """Return the sessions that can go in a calendar, each with its dates worked out."""
    found = []
    for index, row in enumerate(rows):
        session = Rule.of(row)
        if session.opens is None:
            continue
        first = next_date(session, today, terms=terms)
        if first is None:
            continue
        until = session.valid_to
        skipped: list[date] = []
        if session.freq == ONCE:
            until = max(session.dates)
        elif session.period is not SchedulePeriod.ALL_YEAR:
            known = _last_known_day(terms)
            until = min(until, known) if until else known
            if until is not None:
                # the days the rule alone gives, less those the term dates rule out
                plain = replace(session, period=SchedulePeriod.ALL_YEAR)
                kept = set(recurrence.occurrences(session, first, until, terms))
                skipped = [day for day in recurrence.occurrences(plain, first, until) if day not in kept]
        found.append(Repeat(session, first, until, tuple(skipped), str(getattr(row, "id", None) or index)))
    return found


def ics(name: str, url: str, where: str, summary: str, found: list[Repeat], zone: str, host: str) -> bytes:
    """Return the iCalendar file for a listing's repeating sessions."""
    tz = ZoneInfo(zone)
    calendar = Calendar()
    calendar.add("prodid", "-//Local Offer//Sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    stamp = datetime.now(ZoneInfo("UTC")).replace(microsecond=0)
    for repeat in found:
        session = repeat.session
        starts = datetime.combine(repeat.first, session.opens, tzinfo=tz)
        ends = (datetime.combine(repeat.first, session.closes, tzinfo=tz) if session.closes
                else starts + DEFAULT_LENGTH)
        event = Event()
        event.add("uid", f"{repeat.ref}@{host}")
        event.add("dtstamp", stamp)
        event.add("summary", name)
        event.add("dtstart", starts)
        event.add("dtend", ends)
        if session.freq == ONCE:
            later = [day for day in session.dates if day > repeat.first]
            if later:
                event.add("rdate", [datetime.combine(day, session.opens, tzinfo=tz) for day in later])
        else:
            event.add("rrule", _rrule(session, repeat.until, tz))
        for day in repeat.skipped:
            event.add("exdate", datetime.combine(day, session.opens, tzinfo=tz))
        if where:
            event.add("location", where)
        event.add("description", f"{summary}\n\n{url}".strip())
        event.add("url", url)
        calendar.add_component(event)
    # The time zone's rules only for the years the events span (not every change since 1970).
    first = min(repeat.first for repeat in found)
    endless = any(repeat.until is None for repeat in found)  # repeats with no end: ten years of rules
    last = first + timedelta(days=3653) if endless else max(repeat.until for repeat in found)
    calendar.add_missing_timezones(first_date=first - timedelta(days=366), last_date=last + timedelta(days=366))
    return calendar.to_ical()


def _rrule(session: Rule, until: date | None, tz: ZoneInfo) -> dict:
    """Return a session's recurrence as iCalendar's RRULE parts."""
    if session.freq == MONTHLY and session.monthday:
        rule = {"freq": "monthly", "bymonthday": session.monthday}
    elif session.freq == MONTHLY:
        rule = {"freq": "monthly", "byday": session.byday.split(",")}
    else:
        rule = {"freq": "weekly", "byday": [day.value for day in session.days]}
        if session.interval > 1:
            rule["interval"] = session.interval
    if until is not None:
        rule["until"] = datetime.combine(until, time(23, 59), tzinfo=tz).astimezone(ZoneInfo("UTC"))
    return rule


def _today() -> date:
    """Return today's date in the council's time zone."""
    return datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def exportable(listing) -> bool:
    """Say whether any of a listing's sessions can go in a calendar (the listing page offers the file then)."""
    return bool(repeats(listing.schedules, term_dates.calendar(), _today()))


def listing_ics(listing) -> bytes | None:
    """Return a listing's sessions as an iCalendar file, or None when none can go in a calendar."""
    found = repeats(listing.schedules, term_dates.calendar(), _today())
    if not found:
        return None
    place = listing.locations[0] if listing.locations else None
    where = ", ".join(place.public_address_lines) if place else ""
    public = urlsplit(current_app.config["PUBLIC_URL"])
    return ics(listing.name, listing_page_link(listing), where, listing.summary or "", found,
               current_app.config["BABEL_DEFAULT_TIMEZONE"], public.hostname or "local-offer")
