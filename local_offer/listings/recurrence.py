"""How often a session runs and which days it falls on: one rule per session, as iCalendar says it.

A rule is weekly (every week, or every n weeks from its first date), monthly (on
the nth weekday, "first Saturday", "last Friday", or on a date, "the 15th"), or
on dates listed one by one; it may run only in term time or only in the school
holidays, between optional start and end dates.  This module reads rules from
what is stored (a ``Schedule`` row, a listing's data, ORUK's ``freq``,
``interval``, ``byday`` and ``bymonthday``) and says whether a day has a session
(``runs_on``) and which days do (``occurrences``), against the council's term
dates.  Wording is ``when.in_words``; nothing here needs a request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta

from local_offer.models import SchedulePeriod, Weekday

WEEKLY, MONTHLY, ONCE = "weekly", "monthly", "once"
FREQS = (WEEKLY, MONTHLY, ONCE)
#: Monthly on the nth weekday: first to fourth, or last (-1). A fifth weekday most months lack.
ORDINALS = (1, 2, 3, 4, -1)
#: The most weeks between sessions ("every 12 weeks"), and one-off dates a session may list.
MAX_INTERVAL = 12
MAX_DATES = 60
DAYS = list(Weekday)
_ORDINAL_WORDS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
                  "last": -1}
_DAY_WORDS = {day.lower(): weekday for day, weekday in zip(
    ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"), DAYS)}


@dataclass(frozen=True)
class Rule:
    """One regular session: its days, how often, when in the year and between which dates, and its times."""

    days: tuple[Weekday, ...] = ()
    opens: time | None = None
    closes: time | None = None
    period: SchedulePeriod = SchedulePeriod.ALL_YEAR
    valid_from: date | None = None
    valid_to: date | None = None
    notes: str = ""
    freq: str = WEEKLY
    interval: int = 1
    ordinals: tuple[int, ...] = ()
    monthday: int | None = None
    dates: tuple[date, ...] = ()

    @property
    def day(self) -> Weekday | None:
        """The one day of a weekly session on a single day (None otherwise)."""
        return self.days[0] if len(self.days) == 1 else None

    @classmethod
    def of(cls, row) -> Rule:
        """Read a stored ``Schedule`` row or a listing's data (a dict; the old ``day`` key is read too)."""
        if isinstance(row, Rule):
            return row
        if isinstance(row, dict):
            return cls.from_data(row)
        days, ordinals = parse_byday(row.byday or (row.weekday.value if row.weekday else ""))
        freq = (row.freq or WEEKLY).lower()
        return cls(days, row.opens_at, row.closes_at, row.period or SchedulePeriod.ALL_YEAR, row.valid_from,
                   row.valid_to, row.notes or "", freq if freq in FREQS else WEEKLY, row.interval or 1,
                   ordinals if freq == MONTHLY else (), row.bymonthday if freq == MONTHLY else None,
                   parse_dates(row.dates) if freq == ONCE else ())

    @classmethod
    def from_data(cls, data: dict) -> Rule:
        """Read a session as a listing's data keeps it (tolerant: what cannot be read is left out)."""
        days = data.get("days")
        if days is None:
            days = [data.get("day")] if data.get("day") else []
        if isinstance(days, str):
            days = days.split(",")
        chosen = tuple(day for day in DAYS if day.value in {str(d).strip().upper() for d in days or []})
        period = data.get("period") or SchedulePeriod.ALL_YEAR.value
        freq = str(data.get("freq") or WEEKLY).lower()
        ordinals = tuple(o for o in ORDINALS if o in _ints(data.get("ordinals")))
        monthday = _int(data.get("monthday"))
        if "days" not in data and freq == WEEKLY and len(chosen) == 1:
            found = from_note(chosen[0], str(data.get("notes") or ""))
            if found and found[0]:  # kept before rules had ordinals: "First Saturday of the month"
                data = {**data, "notes": found[1]}
                freq, ordinals = MONTHLY, found[0]
        return cls(chosen, _time(data.get("opens")), _time(data.get("closes")),
                   SchedulePeriod(period) if period in SchedulePeriod._value2member_map_ else SchedulePeriod.ALL_YEAR,
                   _date(data.get("valid_from")), _date(data.get("valid_to")), str(data.get("notes") or ""),
                   freq if freq in FREQS else WEEKLY, max(1, min(_int(data.get("interval")) or 1, MAX_INTERVAL)),
                   ordinals if freq == MONTHLY else (),
                   monthday if freq == MONTHLY and monthday and 1 <= monthday <= 31 else None,
                   parse_dates(data.get("dates")) if freq == ONCE else ())

    def to_data(self) -> dict:
        """Return the session as a listing's data keeps it (no id)."""
        return {"days": [day.value for day in self.days], "freq": self.freq, "interval": self.interval,
                "ordinals": list(self.ordinals), "monthday": self.monthday,
                "dates": [day.isoformat() for day in self.dates],
                "valid_from": self.valid_from.isoformat() if self.valid_from else "",
                "valid_to": self.valid_to.isoformat() if self.valid_to else "",
                "opens": self.opens.strftime("%H:%M") if self.opens else "",
                "closes": self.closes.strftime("%H:%M") if self.closes else "",
                "period": self.period.value, "notes": self.notes}

    @property
    def byday(self) -> str:
        """The days as iCalendar's BYDAY: "MO,TU", "1SA,3SA", "-1FR" (monthly with ordinals)."""
        if self.freq == MONTHLY and self.ordinals:
            return ",".join(f"{o}{day.value}" for o in self.ordinals for day in self.days)
        return ",".join(day.value for day in self.days)

    @property
    def regular(self) -> bool:
        """Whether the days alone say when it runs (weekly, every week): such sessions are grouped in words."""
        return self.freq == WEEKLY and self.interval == 1

    def ended(self, today: date) -> bool:
        """Whether every session it describes is before ``today``."""
        if self.valid_to is not None and self.valid_to < today:
            return True
        return self.freq == ONCE and bool(self.dates) and max(self.dates) < today


def weekly(day: Weekday | None, opens: time | None = None, closes: time | None = None,
           period: SchedulePeriod = SchedulePeriod.ALL_YEAR, valid_from: date | None = None,
           valid_to: date | None = None, notes: str = "", **more) -> Rule:
    """Return a session on one day of the week (or none): the commonest kind."""
    return Rule((day,) if day else (), opens, closes, period, valid_from, valid_to, notes, **more)


def _int(value) -> int | None:
    try:
        return int(str(value).strip()) if value not in (None, "") and not isinstance(value, bool) else None
    except ValueError:
        return None


def _ints(value) -> set[int]:
    if isinstance(value, (list, tuple)):
        return {n for n in (_int(v) for v in value) if n is not None}
    return {n for n in (_int(v) for v in str(value or "").split(",")) if n is not None}


def _time(text) -> time | None:
    try:
        return time.fromisoformat(str(text)[:5]) if text else None
    except ValueError:
        return None


def _date(text) -> date | None:
    if isinstance(text, date):
        return text
    try:
        return date.fromisoformat(str(text)[:10]) if text else None
    except ValueError:
        return None


def parse_dates(value) -> tuple[date, ...]:
    """Read one-off dates kept as ISO dates (a list, or text separated by commas), in order, each once."""
    items = value if isinstance(value, (list, tuple)) else str(value or "").split(",")
    found = {d for d in (_date(str(item).strip()) for item in items) if d is not None}
    return tuple(sorted(found))[:MAX_DATES]


def parse_byday(text: str) -> tuple[tuple[Weekday, ...], tuple[int, ...]]:
    """Read iCalendar's BYDAY ("MO,TU", "1SA", "-1FR", "+2WE") into days and ordinals; what is not one is skipped."""
    days, ordinals = set(), set()
    for part in str(text or "").upper().replace(" ", "").split(","):
        match = re.fullmatch(r"([+-]?\d)?(MO|TU|WE|TH|FR|SA|SU)", part)
        if not match:
            continue
        days.add(Weekday(match.group(2)))
        if match.group(1):
            number = int(match.group(1))
            if number in ORDINALS:
                ordinals.add(number)
    return tuple(day for day in DAYS if day in days), tuple(o for o in ORDINALS if o in ordinals)


# --- which days -----------------------------------------------------------------------------------


def _week_of(day: date) -> int:
    """Number the week a day is in (weeks start on Monday)."""
    return (day.toordinal() - day.weekday()) // 7


def _nth(day: date) -> set[int]:
    """Say which of the month's weekdays of its kind a day is: {1} for the first, {4, -1} for a fourth that is last."""
    found = {(day.day - 1) // 7 + 1}
    if (day + timedelta(days=7)).month != day.month:
        found.add(-1)
    return found


def on_pattern(rule: Rule, day: date) -> bool | None:
    """Whether ``day`` fits the rule's days and dates, before term dates; None when it cannot be said."""
    if (rule.valid_from and day < rule.valid_from) or (rule.valid_to and day > rule.valid_to):
        return False
    if rule.freq == ONCE:
        return day in rule.dates
    if rule.freq == MONTHLY:
        if rule.monthday is not None:
            return day.day == rule.monthday
        if not rule.days or not rule.ordinals:
            return None
        return DAYS[day.weekday()] in rule.days and bool(_nth(day) & set(rule.ordinals))
    if not rule.days:
        return None
    if DAYS[day.weekday()] not in rule.days:
        return False
    if rule.interval > 1:
        if rule.valid_from is None:
            return None  # every n weeks from when? nobody said
        return (_week_of(day) - _week_of(rule.valid_from)) % rule.interval == 0
    return True


def runs_on(rule: Rule, day: date, terms=None) -> bool | None:
    """Whether the session runs on ``day``: True, False, or None when nobody has said (no term dates, no start)."""
    fits = on_pattern(rule, day)
    if not fits:
        return fits
    if rule.period is SchedulePeriod.ALL_YEAR:
        return True
    if terms is None:
        return None
    in_term = terms.is_term_day(day)
    if in_term is None:
        return None
    return in_term == (rule.period is SchedulePeriod.TERM_TIME)


def occurrences(rule: Rule, first: date, last: date, terms=None) -> list[date]:
    """Return the days from ``first`` to ``last`` (at most 400 days looked at) the session surely runs on."""
    last = min(last, first + timedelta(days=400))
    if not dateable(rule):
        return []
    if rule.freq == ONCE:
        return [d for d in rule.dates if first <= d <= last and runs_on(rule, d, terms)]
    found, day = [], first
    while day <= last:
        if runs_on(rule, day, terms):
            found.append(day)
        day += timedelta(days=1)
    return found


def dateable(rule: Rule) -> bool:
    """Whether a session's dates can be said: not a weekly one whose note makes it irregular ("August only")."""
    return not (rule.freq == WEEKLY and _IRREGULAR.search(rule.notes or ""))


def next_occurrence(rule: Rule, today: date, now: time | None = None, terms=None,
                    weeks: int = 26) -> date | None:
    """Return the next day the session runs within ``weeks``, today included unless ``now`` is past its end."""
    finished = rule.closes or rule.opens
    start = today
    if now is not None and (finished is None or now >= finished):
        start = today + timedelta(days=1)
    last = max(rule.dates, default=today) if rule.freq == ONCE else today + timedelta(weeks=weeks)
    found = occurrences(rule, start, last, terms)  # one-off dates: however far ahead they were given
    return found[0] if found else None


#: Words in a weekly session's note that say it does not run every week ("Half terms only", "fortnightly").
_IRREGULAR = re.compile(
    r"\b(month|monthly|months|fortnight|fortnightly|other|alternate|alternating|occasional|occasionally|"
    r"sometimes|some|when|only|once|twice|week|weeks|january|february|march|april|may|june|july|august|"
    r"september|october|november|december|spring|summer|autumn|winter|easter|christmas|half|terms?|"
    r"holidays?|dates?|see|ask|check|varies|vary|years?|yearly|annual|annually|termly|several|few)\b", re.IGNORECASE)


# --- notes that say how often ---------------------------------------------------------------------

_NOTE = re.compile(
    r"^(?:(?P<before>[^,]+),\s*)?(?P<which>(?:first|second|third|fourth|last|1st|2nd|3rd|4th)"
    r"(?:\s*(?:,|and|&)\s*(?:first|second|third|fourth|last|1st|2nd|3rd|4th))*)\s+"
    r"(?P<day>monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?"
    r"(?:\s+(?:of|in)\s+(?:the|each|every)\s+month)?\.?(?:,\s*(?P<after>.+))?$", re.IGNORECASE)


def from_note(day: Weekday | None, notes: str) -> tuple[tuple[int, ...], str] | None:
    """Read a note such as "First Saturday of the month" or "Burton, third Tuesday of the month".

    Returns the ordinals and what is left of the note ("Burton"), or None when the note
    does not say that (or names another day than the session's).
    """
    match = _NOTE.match((notes or "").strip())
    if not match or day is None or _DAY_WORDS[match["day"].lower()] is not day:
        return None
    words = re.split(r"\s*(?:,|and|&)\s*", match["which"].lower())
    ordinals = tuple(o for o in ORDINALS if o in {_ORDINAL_WORDS[w] for w in words if w in _ORDINAL_WORDS})
    rest = ", ".join(part.strip() for part in (match["before"], match["after"]) if part and part.strip())
    return ordinals, rest


def upgrade_data(entry: dict) -> dict:
    """Return a session's data in today's shape (an old {"day": "SA", "notes": "First Saturday of the month"} too)."""
    data = Rule.from_data(entry).to_data()
    if entry.get("id"):
        data["id"] = entry["id"]
    return data
