"""When a listing runs, in words a family reads, and times as a provider types them.

One function words sessions everywhere (result cards, the listing page, print,
the shortlist and the moderation view): ``in_words``.  Days with the same times
are grouped ("Monday to Friday, 9am to 4pm"), a single day is plural
("Saturdays, 9:30am to 10:30am, term time only"), times are written in the
GOV.UK style in English (12-hour, "9am", "5:30pm", "midday", "midnight") and in
the language's own short form otherwise, and sessions whose end date has passed
are left out.  ``parse_time`` and ``parse_times`` read what a provider types
("6pm", "18:00", "6.30pm", "noon", "9-12"), each refusal saying what to write.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time

from babel.lists import format_list
from flask_babel import format_date, format_time, get_timezone

from local_offer import term_dates
from local_offer.i18n import _, _l, current_language
from local_offer.listings import recurrence
from local_offer.listings.labels import WEEKDAY_LABELS
from local_offer.listings.recurrence import MONTHLY, ONCE, Rule
from local_offer.models import SchedulePeriod, Weekday

#: Days in the week's order, Monday first (as the GOV.UK style and the UK calendar have it).
DAYS = list(Weekday)

#: A single day said as a habit ("Saturdays"): how a session on one day reads.
EVERY_DAY_OF = {
    Weekday.MO: _l("Mondays"),
    Weekday.TU: _l("Tuesdays"),
    Weekday.WE: _l("Wednesdays"),
    Weekday.TH: _l("Thursdays"),
    Weekday.FR: _l("Fridays"),
    Weekday.SA: _l("Saturdays"),
    Weekday.SU: _l("Sundays"),
}
#: A day's own name ("Saturday"), as in a list of days or a range.
DAY_NAMES = WEEKDAY_LABELS
PERIOD_WORDS = {
    SchedulePeriod.ALL_YEAR: None,
    SchedulePeriod.TERM_TIME: _l("term time only"),
    SchedulePeriod.SCHOOL_HOLIDAYS: _l("school holidays only"),
}


#: A session as a person reads it, whatever it was stored as (``recurrence.Rule``).
Session = Rule


# --- words ---------------------------------------------------------------------------------------


def clock(moment: time) -> str:
    """Write a time as a family reads it: "9am", "5:30pm", "midday", "midnight" (English, GOV.UK style)."""
    if current_language() != "en":
        return format_time(moment, format="H:mm")
    if moment.hour == 12 and moment.minute == 0:
        return str(_("midday"))
    if moment.hour == 0 and moment.minute == 0:
        return str(_("midnight"))
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    return f"{hour}{suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d}{suffix}"


def _join(parts: list[str]) -> str:
    """Join words as a list in the current language ("Monday, Wednesday and Friday": no serial comma)."""
    language = current_language()
    return format_list(parts, locale="en_GB" if language == "en" else language)


def days_in_words(days: set[Weekday]) -> str:
    """Say a set of days: "Saturdays", "Mondays and Thursdays", "Monday to Friday", "Every day"."""
    ordered = [day for day in DAYS if day in days]
    if len(ordered) == 7:
        return str(_("Every day"))
    if len(ordered) <= 2:
        return _join([str(EVERY_DAY_OF[day]) for day in ordered])
    runs: list[list[Weekday]] = []
    for day in ordered:
        if runs and DAYS.index(day) == DAYS.index(runs[-1][-1]) + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(str(_("%(first)s to %(last)s", first=DAY_NAMES[run[0]], last=DAY_NAMES[run[-1]])))
        else:
            parts.extend(str(DAY_NAMES[day]) for day in run)
    return _join(parts)


def times_in_words(opens: time | None, closes: time | None) -> str:
    """Say a session's times: "9am to 4pm", "from 6pm", or nothing when none are set."""
    if opens and closes:
        return str(_("%(start)s to %(end)s", start=clock(opens), end=clock(closes)))
    if opens:
        return str(_("from %(start)s", start=clock(opens)))
    return ""


def _dates_in_words(valid_from: date | None, valid_to: date | None) -> str:
    """Say the dates a session runs between, when it has any."""
    if valid_from and valid_to:
        return str(_("%(start)s to %(end)s", start=format_date(valid_from, "d MMMM y"),
                     end=format_date(valid_to, "d MMMM y")))
    if valid_from:
        return str(_("from %(start)s", start=format_date(valid_from, "d MMMM y")))
    if valid_to:
        return str(_("until %(end)s", end=format_date(valid_to, "d MMMM y")))
    return ""


#: How far ahead a next date is looked for (a term-time session in the summer holidays: September).
LOOK_AHEAD_WEEKS = 26


def next_date(session: Session, today: date, now: time | None = None, terms=None) -> date | None:
    """Return the next day a session runs, or None when it cannot be said.

    Today counts unless ``now`` (the time in the council's time zone) is past its end.
    Term-time and holiday sessions follow ``terms`` (``term_dates.TermCalendar``): with
    none, or none for that school year, there is no next date rather than a wrong one.
    A note may make a weekly day irregular ("about one Saturday a month"): no date.
    """
    return recurrence.next_occurrence(Rule.of(session), today, now, terms, weeks=LOOK_AHEAD_WEEKS)


#: Monthly sessions' ordinals as words ("First Saturday of the month").
ORDINAL_WORDS = {1: _l("first"), 2: _l("second"), 3: _l("third"), 4: _l("fourth"), -1: _l("last")}


def day_of_month(number: int) -> str:
    """Say a day of the month: "15th" in English, "15." in the languages that write it so."""
    if current_language() != "en":
        return f"{number}."
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _a_date(day: date, today: date) -> str:
    """Say a date: "Saturday 12 December", with the year when it is not this one."""
    return format_date(day, "EEEE d MMMM" if day.year == today.year else "EEEE d MMMM y")


#: One-off dates said in full; more are counted.
DATES_SAID = 4


def _pattern_in_words(rule: Rule, days: set[Weekday], today: date) -> str:
    """Say the days of a group of sessions: "Monday to Friday", "First Saturday of the month", "Every 2 weeks..."."""
    if rule.freq == ONCE:
        upcoming = [day for day in rule.dates if day >= today] or list(rule.dates)
        said = [_a_date(day, today) for day in upcoming[:DATES_SAID]]
        if len(upcoming) > DATES_SAID:
            said.append(str(_("%(num)s more dates", num=len(upcoming) - DATES_SAID)))
        return _join(said)
    if rule.freq == MONTHLY and rule.monthday:
        return str(_("On the %(day)s of every month", day=day_of_month(rule.monthday)))
    ordered = [day for day in DAYS if day in days]
    if rule.freq == MONTHLY and rule.ordinals and ordered:
        return str(_("%(which)s %(days)s of the month", which=_join([str(ORDINAL_WORDS[o]) for o in rule.ordinals]),
                     days=_join([str(DAY_NAMES[day]) for day in ordered])))
    if not ordered:
        return ""
    if rule.interval > 1:
        return str(_("Every %(num)s weeks on %(days)s", num=rule.interval, days=days_in_words(set(ordered))))
    return days_in_words(set(ordered))


def in_words(rows, today: date | None = None, brief: bool = False, next_dates: bool = False,
             terms=None) -> list[str]:
    """Say when a listing runs, a line for each group of days with the same times; ended sessions left out.

    ``rows``: ``Schedule`` rows or a listing's data dicts.  Weekly sessions with the same
    times, period, dates and notes share a line ("Monday to Friday, 9am to 4pm"); monthly,
    every-n-weeks and one-off sessions group their days the same way.  Lines keep the
    order their first session had; a line with no day and no time ("Times vary") keeps
    its notes.  ``brief`` (key facts and result cards, where a phone's first screen is
    short): no notes or dates, and a period every line shares said once, on the last
    line.  ``next_dates`` (the listing page): "Next: Saturday 12 December" where it can
    be said, against ``terms`` (the council's term dates, read when not given).
    """
    now = None
    if next_dates and terms is None:
        terms = term_dates.calendar()
    if today is None:
        local = datetime.now(get_timezone())
        today, now = local.date(), local.time()
    groups: dict[tuple, tuple[Rule, set[Weekday]]] = {}
    soonest: dict[tuple, date] = {}
    for row in rows:
        session = Rule.of(row)
        if session.ended(today):
            continue
        key = (session.freq, session.interval, session.ordinals, session.monthday, session.dates, session.opens,
               session.closes, session.period, session.valid_from, session.valid_to, session.notes.strip())
        _first, days = groups.setdefault(key, (session, set()))
        days.update(session.days)
        upcoming = next_date(session, today, now, terms) if next_dates and session.freq != ONCE else None
        if upcoming is not None and (key not in soonest or upcoming < soonest[key]):
            soonest[key] = upcoming
    periods = {key[7] for key in groups}
    shared = periods.pop() if brief and len(periods) == 1 and len(groups) > 1 else None
    lines = []
    for key, (session, days) in groups.items():
        parts = [part for part in (_pattern_in_words(session, days, today),
                                   times_in_words(session.opens, session.closes)) if part]
        if not parts:
            parts = [str(_("Times vary"))]
        words = ", ".join(parts)
        words = words[:1].upper() + words[1:]
        if PERIOD_WORDS[session.period] and shared is None:
            words += ", " + str(PERIOD_WORDS[session.period])
        if not brief:
            dates = _dates_in_words(session.valid_from, session.valid_to)
            if dates:
                words += f" ({dates})"
            if session.notes.strip():
                note = session.notes.strip()
                words += ". " + note[:1].upper() + note[1:]  # a sentence of its own ("When running")
        if key in soonest:
            words += ". " + str(_("Next: %(date)s", date=format_date(soonest[key], "EEEE d MMMM")))
        lines.append(words)
    if shared is not None and PERIOD_WORDS[shared]:
        lines[-1] += ", " + str(PERIOD_WORDS[shared])
    return lines


def in_brief(rows) -> list[str]:
    """``in_words`` for key facts and result cards: no notes or dates; a shared period said once."""
    return in_words(rows, brief=True)


def in_full(rows) -> list[str]:
    """``in_words`` for the listing page and the shortlist: everything, with the next date where it can be said."""
    return in_words(rows, next_dates=True)


# --- reading what a provider types ---------------------------------------------------------------


class TimeError(ValueError):
    """A time that cannot be read; the message says what to write instead."""


_TIME = re.compile(r"^(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?\s*(?P<ampm>a\.?m\.?|p\.?m\.?)?$")
_WORDS = {"noon": time(12), "midday": time(12), "12 noon": time(12), "midnight": time(0)}
_RANGE = re.compile(r"^(?P<start>.+?)\s*(?:-|–|—|\bto\b|\btill\b|\buntil\b)\s*(?P<end>.+)$")


def parse_time(text: str) -> time:
    """Read a time as a person types it: "6pm", "6 pm", "6.30pm", "18:00", "0930", "noon"; else TimeError."""
    cleaned = re.sub(r"\s+", " ", (text or "").strip().lower())
    if not cleaned:
        raise TimeError(_("Enter a time, like 9am or 5:30pm"))
    if cleaned in _WORDS:
        return _WORDS[cleaned]
    if re.fullmatch(r"\d{4}", cleaned):  # "0930", "1800"
        cleaned = f"{cleaned[:2]}:{cleaned[2:]}"
    match = _TIME.match(cleaned)
    if not match:
        raise TimeError(_("Enter a time like 9am, 5:30pm or 17:30"))
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    ampm = (match["ampm"] or "").replace(".", "")
    if minute > 59 or (ampm and not 1 <= hour <= 12) or hour > 23:
        raise TimeError(_("Enter a real time, like 9am, 5:30pm or 17:30"))
    if ampm == "pm" and hour != 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    return time(hour, minute)


def parse_times(text: str) -> tuple[time, time]:
    """Read a session's times as typed ("9-12", "9am to 3pm", "6-8pm"); TimeError if not two times in order.

    Without am or pm, an end hour (1 to 11, not zero-padded) before the start is read as
    afternoon: "9-3" is 9am to 3pm; "6-8pm" is 6pm to 8pm; "10:00-09:00" is refused.
    """
    cleaned = re.sub(r"\s+", " ", (text or "").strip().lower())
    match = _RANGE.match(cleaned)
    if not match:
        raise TimeError(_("Enter a start and an end, like 9am to 3pm"))
    start_text, end_text = match["start"].strip(), match["end"].strip()
    end_ampm = re.search(r"(a\.?m\.?|p\.?m\.?)$", end_text)
    if end_ampm and not re.search(r"(a\.?m\.?|p\.?m\.?|noon|midday|midnight|:\d\d\s*)$", start_text) \
            and re.fullmatch(r"\d{1,2}(?:[:.]\d{2})?", start_text):
        # "6-8pm": the start shares the end's am or pm when that keeps it before the end.
        guess = parse_time(start_text + end_ampm.group(1))
        start = guess if guess < parse_time(end_text) else parse_time(start_text)
    else:
        start = parse_time(start_text)
    end = parse_time(end_text)
    if not end_ampm and re.fullmatch(r"(?:[1-9]|1[0-1])(?:[:.]\d{2})?", end_text) and end <= start:
        end = time(end.hour + 12, end.minute)  # "9-3": 3pm (a zero-padded "09:00" is a 24-hour time, as typed)
    if end <= start:
        raise TimeError(_("The end time must be after the start time"))
    return start, end


class DateError(ValueError):
    """Dates that cannot be read; the message says which line and what to write."""


_DATE_FORMS = ("%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%d %B", "%d %b",
               "%d/%m")


def parse_date_typed(text: str, today: date) -> date:
    """Read a date as a person types it ("12/12/2026", "12 December 2026", "Sat 12 Dec"); else DateError.

    Without a year it is the next such date from ``today``.
    """
    cleaned = re.sub(r"\s+", " ", re.sub(r"(?<=\d)(st|nd|rd|th)\b", "", (text or "").strip().lower()))
    cleaned = re.sub(r"^(mon|tue|wed|thu|fri|sat|sun)[a-z]*,? ", "", cleaned)
    for form in _DATE_FORMS:
        try:
            found = datetime.strptime(cleaned, form).date()
        except ValueError:
            continue
        if "%Y" not in form and "%y" not in form:
            try:
                found = found.replace(year=today.year)
            except ValueError:  # 29 February in a year without one
                raise DateError(_("Enter a real date, like 12/12/2026")) from None
            if found < today:
                found = found.replace(year=today.year + 1)
        return found
    raise DateError(_("Enter a real date, like 12/12/2026"))


def parse_dates_typed(text: str, today: date) -> list[date]:
    """Read one-off dates, one a line (or separated by commas or semicolons); DateError naming the line."""
    lines = [line.strip() for line in re.split(r"[\n;]|,(?=\s*\d)", text or "") if line.strip()]
    if not lines:
        raise DateError(_("Enter at least one date, like 12/12/2026"))
    if len(lines) > recurrence.MAX_DATES:
        raise DateError(_("Enter at most %(most)s dates. For a session that repeats, choose how often instead",
                          most=recurrence.MAX_DATES))
    found = []
    for number, line in enumerate(lines, start=1):
        try:
            found.append(parse_date_typed(line, today))
        except DateError:
            raise DateError(_("Date %(num)s (%(typed)s) is not a real date. Enter it like 12/12/2026",
                              num=number, typed=line[:30])) from None
    return sorted(set(found))
