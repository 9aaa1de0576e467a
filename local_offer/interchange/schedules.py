"""Sessions in ORUK feeds, both ways: iCalendar's ``freq``, ``interval``, ``byday``, ``bymonthday`` and dates.

``schedules_in`` reads v1 ``regular_schedules`` and v3 ``schedules`` into our
sessions (``recurrence.Rule``'s data), with a warning for what it had to guess;
``schedules_out`` writes a listing's sessions with the standard's fields only.
"""

from __future__ import annotations

import re
from datetime import date

from local_offer.interchange.fields import plain_text, stable_id
from local_offer.listings import recurrence
from local_offer.listings.recurrence import ONCE, WEEKLY, Rule, parse_byday
from local_offer.models import Listing, Weekday

DAYS = tuple(day.value for day in Weekday)


def _items(value) -> list:
    """Return a list field's items (a missing or non-list field has none)."""
    return value if isinstance(value, list) else []


def schedules_in(item: dict, warnings: list[str]) -> list[dict]:
    """Read regular (v1) and plain (v3) schedules, iCalendar fields and all, as our sessions."""
    sessions: list[dict] = []
    for schedule in _items(item.get("regular_schedules")) + _items(item.get("schedules")):
        if not isinstance(schedule, dict):
            continue
        opens, closes = _time(schedule.get("opens_at")), _time(schedule.get("closes_at"))
        if opens and closes and closes <= opens:
            warnings.append(f"a session closing before it opens ({opens}-{closes}): times left out")
            opens = closes = ""
        # v1 has one description ("term time Burton"); v3 has description and notes apart
        period, notes = _period(plain_text(schedule.get("description") or schedule.get("notes")))
        if schedule.get("description") and schedule.get("notes"):
            notes = " ".join(part for part in (notes, plain_text(schedule.get("notes"))) if part)
        source = schedule.get("id") or f"{item['id']}:{len(sessions)}"
        session = _rule(schedule, warnings)
        if session is None:
            continue
        sessions.append({"id": stable_id(str(source), "schedule"), **session, "opens": opens, "closes": closes,
                         "period": period, "notes": notes})
    return _merge_one_off(sessions)


def _rule(schedule: dict, warnings: list[str]) -> dict | None:
    """Read how often a schedule runs (``freq``, ``interval``, ``byday``, ``bymonthday``, dates)."""
    days = [day for day in _days(schedule) if day]
    _days_found, ordinals = parse_byday(str(schedule.get("byday") or ""))
    freq = str(schedule.get("freq") or "").strip().upper()
    starts = _iso_date(schedule.get("dtstart")) or _iso_date(schedule.get("valid_from"))
    ends = _iso_date(schedule.get("valid_to"))
    if starts and ends and ends < starts:
        warnings.append(f"a session ending ({ends}) before it starts ({starts}): dates left out")
        starts = ends = ""
    base = {"days": days, "valid_from": starts, "valid_to": ends, "freq": "weekly", "interval": 1,
            "ordinals": [], "monthday": None, "dates": []}
    if freq == "MONTHLY":
        monthday = _whole(schedule.get("bymonthday"))
        if monthday and 1 <= monthday <= 31:
            return {**base, "days": [], "freq": "monthly", "monthday": monthday}
        if ordinals and days:
            return {**base, "freq": "monthly", "ordinals": list(ordinals)}
        warnings.append("a monthly session without the week of the month (like 1SA) or a date: read as weekly")
        return base
    if freq not in ("", "WEEKLY"):
        warnings.append(f"a session repeating {freq[:20]!r} (not WEEKLY or MONTHLY): read as weekly")
    if not freq and starts and (ends == starts or not ends) and schedule.get("dtstart"):
        # no repeat and a first date: iCalendar's single event
        return {**base, "days": [], "freq": "once", "dates": [starts], "valid_from": "", "valid_to": ""}
    interval = _whole(schedule.get("interval")) or 1
    if not 1 <= interval <= recurrence.MAX_INTERVAL:
        warnings.append(f"a session every {interval} weeks: read as every week")
        interval = 1
    return {**base, "interval": interval}


def _merge_one_off(sessions: list[dict]) -> list[dict]:
    """Put one-off dates with the same times, period and notes back into one session (as exports split them)."""
    merged: list[dict] = []
    by_key: dict[tuple, dict] = {}
    for session in sessions:
        if session["freq"] != "once":
            merged.append(session)
            continue
        key = (session["opens"], session["closes"], session["period"], session["notes"])
        if key in by_key and len(by_key[key]["dates"]) < recurrence.MAX_DATES:
            by_key[key]["dates"] = sorted(set(by_key[key]["dates"]) | set(session["dates"]))
        else:
            by_key[key] = session
            merged.append(session)
    return merged


def _whole(value) -> int | None:
    """Return a whole number given as a number or text, or None."""
    try:
        return int(str(value).strip()) if value not in (None, "") and not isinstance(value, bool) else None
    except ValueError:
        return None


def _iso_date(value) -> str:
    """Return "YYYY-MM-DD" from a date or date-time that is one, else ""."""
    text = str(value or "")[:10]
    try:
        return date.fromisoformat(text).isoformat() if text else ""
    except ValueError:
        return ""


def _time(value) -> str:
    """Return "HH:MM" from a time like "9:30" or "09:30:00", or "" when it is not one."""
    match = re.match(r"^(\d{1,2}):(\d{2})", str(value or ""))
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        return ""
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def _days(item: dict) -> list[str]:
    """Return the days a schedule names (``weekday`` or iCal ``byday``), or [""] for none."""
    days = []
    if item.get("weekday"):
        days.append(str(item["weekday"]).upper()[:2])
    for part in str(item.get("byday") or "").split(","):
        part = re.sub(r"[^A-Z]", "", part.upper())[-2:]
        if part:
            days.append(part)
    return [day for day in dict.fromkeys(days) if day in DAYS] or [""]


def _period(text: str) -> tuple[str, str]:
    """Read "term time ..." or "school holidays ..." at the start of a schedule's description."""
    for period in ("all year", "term time", "school holidays"):
        if text.lower().startswith(period):
            return period.replace(" ", "_"), text[len(period):].strip()
    return "all_year", text


def schedules_out(listing: Listing, location_id: str | None = None) -> list[dict]:
    """Return a listing's sessions as ORUK regular schedules, in iCalendar's terms only.

    Weekly and monthly rules carry ``freq``, ``interval``, ``byday`` (``1SA`` for the first
    Saturday), ``bymonthday`` and ``dtstart``; a one-off date is a schedule of its own with
    ``dtstart``, ``valid_from`` and ``valid_to`` that day and no ``freq`` (ORUK's ``freq``
    is only WEEKLY or MONTHLY).  Term time or holidays lead the ``description``.  With
    ``location_id``: the sessions at that venue (and those at no venue in particular).
    """
    found = []
    for schedule in listing.schedules:
        if location_id is not None and schedule.location_id not in (None, location_id):
            continue  # a session at another of the listing's venues
        rule = Rule.of(schedule)
        common = {
            **({"opens_at": rule.opens.strftime("%H:%M")} if rule.opens else {}),
            **({"closes_at": rule.closes.strftime("%H:%M")} if rule.closes else {}),
            "description": " ".join(part for part in (rule.period.value.replace("_", " "), rule.notes) if part),
        }
        if rule.freq == ONCE:
            for day in rule.dates:
                found.append({"id": f"{schedule.id}:{day.isoformat()}", "byday": DAYS[day.weekday()],
                              "dtstart": day.isoformat(), "valid_from": day.isoformat(),
                              "valid_to": day.isoformat(), **common})
            continue
        entry = {"id": schedule.id, "freq": rule.freq.upper()}
        if rule.freq == WEEKLY and rule.day is not None:
            entry["weekday"] = rule.day.value
        if rule.byday and not rule.monthday:
            entry["byday"] = rule.byday
        if rule.monthday:
            entry["bymonthday"] = rule.monthday
        if rule.interval > 1:
            entry["interval"] = rule.interval
        if rule.valid_from:
            entry["dtstart"] = entry["valid_from"] = rule.valid_from.isoformat()
        if rule.valid_to:
            entry["valid_to"] = rule.valid_to.isoformat()
        if not rule.days and not rule.monthday:
            entry.pop("freq")  # no day: nothing repeats that a calendar could follow
        found.append({**entry, **common})
    return found
