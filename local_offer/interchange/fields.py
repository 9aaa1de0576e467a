"""Cleaning one field of an incoming record, the same way whichever format it came in.

Every mapper (Open Referral, the CSV layout, the demo content) reads text, ages,
web addresses and emails through these functions, so a value is cleaned once
on the way in with the one sanitiser and the one set of address patterns.  A
value that cannot be used is left out with a warning the import report shows,
never a failure of the whole record.  Venue postcodes are placed in the
gazetteer here too, so a venue that cannot be placed is left out the same way.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from local_offer.listings import limits, writing
from local_offer.formats import is_email, is_web_address
from local_offer.sanitise import clean_text

#: Namespace for ids made from a source's own ids, so every import of the same record agrees on them.
ID_NAMESPACE = uuid.UUID("7a0f3c52-9b1e-4d8a-a8f3-2c6b1e9d4f70")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
#: The ages the directory describes: 0 to 25, as the SEND code of practice does.
AGE_RANGE = range(limits.AGE_MIN, limits.AGE_MAX + 1)


def stable_id(value, kind: str) -> str:
    """Keep a source's UUID; turn any other id into a stable UUID (the same every import)."""
    text = str(value).strip()
    if _UUID.match(text):
        return text.lower()
    return str(uuid.uuid5(ID_NAMESPACE, f"{kind}:{text}"))


def plain_text(value, limit: int | None = None) -> str:
    """Return a value as clean text (anything but text becomes empty), cut to ``limit`` characters when given.

    Only names shown in a report are cut: a listing's fields are kept whole, so the limits
    (``listings.limits``) reject a record whose field is too long rather than store it cut short.
    """
    return clean_text(value if isinstance(value, str) else "")[:limit]


def age(value, warnings: list[str], which: str) -> int | None:
    """Return an age in years, or None (with a warning) when it is not a number from 0 to 25."""
    if value in (None, ""):
        return None
    try:
        number = int(float(value))
    except (TypeError, ValueError, OverflowError):
        warnings.append(f"{which} age {str(value)[:20]!r} is not a number: left out")
        return None
    if number not in AGE_RANGE:
        warnings.append(f"{which} age {number} is outside 0-25: left out")
        return None
    return number


def _checked(value, warnings: list[str], what: str, valid: Callable[[str], bool], noun: str) -> str | None:
    """Return a value that passes ``valid``, or None (with a warning when something else was given)."""
    text = str(value or "").strip()
    if not text:
        return None
    if valid(text):
        return text
    warnings.append(f"{what} {text[:60]!r} is not {noun}: left out")
    return None


def web_address(value, warnings: list[str], what: str) -> str | None:
    """Return a web address, or None (with a warning when something else was given)."""
    return _checked(value, warnings, what, is_web_address, "a web address")


def email_address(value, warnings: list[str], what: str) -> str | None:
    """Return an email address, or None (with a warning when something else was given)."""
    return _checked(value, warnings, what, is_email, "an email address")


def venue_postcode(postcode: str, masked: bool, name, warnings: list[str]) -> str | None:
    """Return a venue's postcode as the gazetteer writes it, or None (with a warning) when it cannot place it.

    Placing it here, while mapping, also builds the gazetteer's area on first use, before
    anything is written.
    """
    try:
        return writing.resolve_postcode(postcode, masked=masked).label
    except writing.PublishError as error:
        warnings.append(f"venue {plain_text(name, 60)!r} left out: {error}")
        return None


def organisation_details(identifier, name, description, website, email, warnings: list[str]) -> dict:
    """Return an organisation as the importer writes it: a stable id and cleaned details."""
    return {"id": stable_id(identifier, "organisation"), "name": plain_text(name),
            "description": plain_text(description),
            "website": web_address(website, warnings, "organisation web address"),
            "email": email_address(email, warnings, "organisation email")}
