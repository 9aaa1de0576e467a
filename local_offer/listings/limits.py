"""The one definition of what a listing's fields may hold: lengths, allowed values, how many rows.

The portal's forms read their maximum lengths from here, and every import (ORUK
feeds, the CSV layout, uploads, the demo content) checks the listing data it
maps with ``problems`` before anything is written, so a field the portal would
refuse is never stored by an import either.  A record with a field over its
limit is rejected whole, with a reason that names the field and the limit: a
council officer would rather fix the source than publish a listing that was
silently cut short.

Text is measured as it would be stored and edited: cleaned with the one
sanitiser (``sanitise.clean_text``), and an imported HTML description as the
text a provider would edit in the portal.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from local_offer.models import (
    AccessRoute,
    DeliveryMethod,
    ListingKind,
    ListingLevel,
    ListingStatus,
    SchedulePeriod,
    Weekday,
)
from local_offer.listings import recurrence
from local_offer.listings.data import markdown_from_html
from local_offer.sanitise import clean_html, clean_text

#: A listing's own text fields: the most characters each may hold.
NAME = 255
SUMMARY = 300
DESCRIPTION = 20_000
ELIGIBILITY = 2_000
HOW_TO_ACCESS = 2_000
#: The languages as the portal edits them: one line, separated by commas.
LANGUAGES = 500
SERVICE_AREA = 120
WEBSITE = 500
EMAIL = 254
PHONE = 50
OFSTED_URN = 10
TEXT = {
    "name": NAME, "summary": SUMMARY, "description": DESCRIPTION, "eligibility": ELIGIBILITY,
    "how_to_access": HOW_TO_ACCESS, "service_area": SERVICE_AREA, "website": WEBSITE,
    "sen_information_report_url": WEBSITE, "email": EMAIL, "phone": PHONE, "ofsted_urn": OFSTED_URN,
}
#: The text of each repeating part (venues, sessions, costs, contacts, accessibility features).
VENUE = {"name": 255, "address_1": 255, "address_2": 255, "town": 120, "county": 120, "postcode": 10}
SESSION_NOTES = 500
SESSION = {"notes": SESSION_NOTES}
COST = {"option": 255, "description": 255}
#: The most a cost may be, in pounds (exclusive).
COST_AMOUNT_BELOW = Decimal(100_000)
CONTACT = {"name": 255, "title": 255, "phone": PHONE, "email": EMAIL}
FEATURE_DETAILS = 500
FEATURE = {"details": FEATURE_DETAILS}
#: An organisation's details.
ORGANISATION = {"name": NAME, "description": 5_000, "website": WEBSITE, "email": EMAIL, "phone": PHONE}
#: How many rows each repeating part may have.
COUNTS = {"locations": 50, "schedules": 100, "costs": 20, "contacts": 20, "accessibility": 50, "categories": 50,
          "needs": 50, "languages": 30, "delivery_methods": len(DeliveryMethod), "access_routes": len(AccessRoute)}
PARTS = {"locations": VENUE, "schedules": SESSION, "costs": COST, "contacts": CONTACT, "accessibility": FEATURE}
#: Ages the directory describes: 0 to 25, as the SEND code of practice does.
AGE_MIN, AGE_MAX = 0, 25
#: The values each coded field may take.
KINDS = tuple(item.value for item in ListingKind)
LEVELS = tuple(item.value for item in ListingLevel)
#: Statuses a listing may be imported with: what families may see, or archived.
STATUSES = (ListingStatus.PUBLISHED.value, ListingStatus.TEMPORARILY_CLOSED.value, ListingStatus.ARCHIVED.value)
DELIVERY_METHODS = tuple(item.value for item in DeliveryMethod)
ACCESS_ROUTES = tuple(item.value for item in AccessRoute)
PERIODS = tuple(item.value for item in SchedulePeriod)
DAYS = tuple(item.value for item in Weekday)
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def too_long(field: str, length: int, limit: int) -> str:
    """Say that a field is over its limit, naming both (the wording of every import report)."""
    return f"{field} is {length:,} characters long; the limit is {limit:,}"


def _text(value) -> str:
    """Return a value as the stored text (cleaned), or raise TypeError for anything but text."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(type(value).__name__)
    return clean_text(value)


def _check_text(found: list[str], where: str, value, limit: int) -> None:
    try:
        text = _text(value)
    except TypeError as error:
        found.append(f"{where} is not text ({error})")
        return
    if len(text) > limit:
        found.append(too_long(where, len(text), limit))


def _check_choice(found: list[str], where: str, value, allowed, empty_ok: bool = False) -> None:
    if empty_ok and value in (None, ""):
        return
    if not isinstance(value, str) or value not in allowed:
        found.append(f"{where} {str(value)[:40]!r} is not one of {', '.join(allowed)}")


def _check_age(found: list[str], where: str, value) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not AGE_MIN <= value <= AGE_MAX:
        found.append(f"{where} {str(value)[:20]!r} is not an age from {AGE_MIN} to {AGE_MAX}")


def _check_part(found: list[str], key: str, index: int, row) -> None:
    where = f"{key} {index + 1}"
    if not isinstance(row, dict):
        found.append(f"{where} is not a set of fields")
        return
    for name, limit in PARTS[key].items():
        _check_text(found, f"{where} {name}", row.get(name), limit)
    if key == "schedules":
        _check_session(found, where, row)
    if key == "costs" and row.get("amount") not in (None, ""):
        try:
            amount = Decimal(str(row["amount"]))
            valid = amount.is_finite() and 0 <= amount < COST_AMOUNT_BELOW
        except InvalidOperation:
            valid = False
        if not valid:
            found.append(f"{where} amount {str(row['amount'])[:20]!r} is not an amount of money under "
                         f"£{COST_AMOUNT_BELOW:,}")


def _check_session(found: list[str], where: str, row: dict) -> None:
    """Check a session's days, how often, dates and times (the shapes ``recurrence.Rule.from_data`` reads)."""
    _check_choice(found, f"{where} day", row.get("day"), DAYS, empty_ok=True)
    days = row.get("days")
    if days is not None and not (isinstance(days, list) and all(day in DAYS for day in days)):
        found.append(f"{where} days {str(days)[:40]!r} are not days like [\"MO\", \"TU\"]")
    _check_choice(found, f"{where} period", row.get("period"), PERIODS, empty_ok=True)
    _check_choice(found, f"{where} freq", row.get("freq"), recurrence.FREQS, empty_ok=True)
    for name in ("opens", "closes"):
        if row.get(name) not in (None, "") and not (isinstance(row[name], str) and _TIME.match(row[name])):
            found.append(f"{where} {name} {str(row[name])[:20]!r} is not a time like 09:30")
    interval = row.get("interval")
    if interval not in (None, "") and (isinstance(interval, bool) or not isinstance(interval, int)
                                       or not 1 <= interval <= recurrence.MAX_INTERVAL):
        found.append(f"{where} interval {str(interval)[:20]!r} is not a number of weeks from 1 to "
                     f"{recurrence.MAX_INTERVAL}")
    ordinals = row.get("ordinals")
    if ordinals not in (None, "") and not (isinstance(ordinals, list)
                                           and all(o in recurrence.ORDINALS for o in ordinals)):
        found.append(f"{where} ordinals {str(ordinals)[:40]!r} are not weeks of the month (1 to 4, or -1 for the last)")
    monthday = row.get("monthday")
    if monthday not in (None, "") and (isinstance(monthday, bool) or not isinstance(monthday, int)
                                       or not 1 <= monthday <= 31):
        found.append(f"{where} monthday {str(monthday)[:20]!r} is not a day of the month from 1 to 31")
    dates = row.get("dates")
    if dates not in (None, "", []):
        if not isinstance(dates, list) or len(dates) > recurrence.MAX_DATES:
            found.append(f"{where} dates: give a list of at most {recurrence.MAX_DATES} dates")
        else:
            for value in dates:
                if not _is_date(value):
                    found.append(f"{where} date {str(value)[:20]!r} is not a date like 2027-01-09")
                    break
    for name in ("valid_from", "valid_to"):
        if row.get(name) not in (None, "") and not _is_date(row[name]):
            found.append(f"{where} {name} {str(row[name])[:20]!r} is not a date like 2027-01-09")
    if _is_date(row.get("valid_from")) and _is_date(row.get("valid_to")) and row["valid_to"] < row["valid_from"]:
        found.append(f"{where} ends ({row['valid_to']}) before it starts ({row['valid_from']})")


def _is_date(value) -> bool:
    """Say whether a value is an ISO date ("2027-01-09") that exists."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def description_source(text: str | None) -> str:
    """Return a description's Markdown as the portal keeps it: Windows line ends made plain, trimmed."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def description_text(data: dict) -> str:
    """Return the description as a provider would edit it: Markdown, or an imported HTML one turned back to text."""
    html = data.get("description_html")
    if html is not None:
        if not isinstance(html, str):
            raise TypeError(type(html).__name__)
        return markdown_from_html(clean_html(html))
    source = data.get("description")
    if source is not None and not isinstance(source, str):
        raise TypeError(type(source).__name__)
    return description_source(source)


def problems(data: dict) -> list[str]:
    """Return every way listing data breaks the limits (empty when it keeps to them), each naming its field."""
    found: list[str] = []
    for name, limit in TEXT.items():
        if name == "description":
            try:
                length = len(description_text(data))
            except TypeError as error:
                found.append(f"description is not text ({error})")
                continue
            if length > limit:
                found.append(too_long(name, length, limit))
        else:
            _check_text(found, name, data.get(name), limit)
    _check_choice(found, "kind", data.get("kind"), KINDS)
    _check_choice(found, "level", data.get("level"), LEVELS, empty_ok=True)
    _check_choice(found, "status", data.get("status"), STATUSES, empty_ok=True)
    _check_age(found, "youngest age", data.get("min_age"))
    _check_age(found, "oldest age", data.get("max_age"))
    for key, limit in COUNTS.items():
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, list):
            found.append(f"{key} is not a list")
            continue
        if len(value) > limit:
            found.append(f"{key} has {len(value):,} entries; the limit is {limit:,}")
            continue
        if key in PARTS:
            for index, row in enumerate(value):
                _check_part(found, key, index, row)
    for key, allowed in (("delivery_methods", DELIVERY_METHODS), ("access_routes", ACCESS_ROUTES)):
        for value in data.get(key) or [] if isinstance(data.get(key), list) else []:
            _check_choice(found, key, value, allowed)
    languages = data.get("languages")
    if isinstance(languages, list):
        if not all(isinstance(item, str) for item in languages):
            found.append("languages are not all text")
        else:
            _check_text(found, "languages", ", ".join(languages), LANGUAGES)
    return found


def organisation_problems(details: dict) -> list[str]:
    """Return every way an organisation's details break the limits, each naming its field."""
    found: list[str] = []
    for name, limit in ORGANISATION.items():
        _check_text(found, f"organisation {name}", details.get(name), limit)
    return found
