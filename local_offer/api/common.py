"""What both Open Referral UK APIs (v1 and v3) share: forgiving parameters, errors, and finding services.

Real clients send parameters of their own, misspellings and values encoded twice;
a path ignores what it does not honour and names it in ``X-Ignored-Parameters``.
Only malformed values of parameters it honours are refused, with a JSON 400.
Services are found and ranked by the same search façade as the website, then
narrowed by the standards' filters (which combine with AND).
"""

from __future__ import annotations

import re
from datetime import time
from urllib.parse import unquote

from flask import g, request
from sqlalchemy import and_, or_, select
from werkzeug.exceptions import HTTPException

from local_offer import geo
from local_offer.extensions import db
from local_offer.models import PUBLIC_STATUSES, Listing, Schedule, Weekday
from local_offer.postcodes import parse_postcode
from local_offer.search import SearchError, SearchRequest, get_service

DEFAULT_PER_PAGE = 50
#: A page may ask for up to this many (more is answered with this many, as clients asking for 500 expect).
MAX_PER_PAGE = 1000
#: The response header naming parameters that were ignored (not the standard's, or not ones we can honour).
IGNORED_HEADER = "X-Ignored-Parameters"
DAYS = tuple(day.value for day in Weekday)
#: What our APIs publish: our own published listings (a neighbour's, pulled from its feed, stay out:
#: an aggregator reading both directories would count them twice).
OURS = (Listing.status.in_(PUBLIC_STATUSES), Listing.feed_id.is_(None))


class ApiError(HTTPException):
    """A request the API cannot answer; the message says why."""

    def __init__(self, message: str, code: int = 400):
        super().__init__(description=message)
        self.code = code


def cors_and_ignored(response):
    """Any origin may read the API; ignored parameters are named in a header scripts may read."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = IGNORED_HEADER
    ignored = g.get("api_ignored")
    if ignored:
        response.headers[IGNORED_HEADER] = ", ".join(ignored)
    return response


def ignore(*names: str) -> None:
    """Name more parameters (or values) as ignored."""
    g.api_ignored = list(dict.fromkeys([*g.get("api_ignored", []), *names]))[:20]


def check_parameters(allowed: set[str], repeatable: set[str] = frozenset(), always_done: set[str] = frozenset()):
    """Note the parameters this path does not honour: ignored and named in a header, never refused.

    Real clients send ``include=``, other directories' parameters and their own misspellings
    (``startTime``); refusing them made whole clients useless.  A parameter given twice that
    takes one value: the first is used and the rest named.
    """
    g.api_ignored = []
    for name in request.args:
        if name in always_done:
            continue
        if name not in allowed:
            ignore(printable(name))
        elif name not in repeatable and len(request.args.getlist(name)) > 1:
            ignore(f"{printable(name)} (after the first)")


def printable(name: str) -> str:
    """A parameter's name made safe to repeat in a header: letters, digits and ``_.-[]=:`` only, at most 40."""
    return re.sub(r"[^A-Za-z0-9_.\-\[\]=:]", "?", name)[:40] or "?"


def arg(name: str) -> str | None:
    """A parameter's value, decoded once more when a client encoded it twice ("BS1%205TR" for "BS1 5TR")."""
    value = request.args.get(name)
    if value is not None and re.search(r"%[0-9A-Fa-f]{2}", value):
        value = unquote(value)
    return value


def integer(name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":  # an empty value is no value (clients send "minimum_age=")
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(f"'{name}' must be a whole number.") from None
    if not low <= value <= high:
        raise ApiError(f"'{name}' must be between {low} and {high}.")
    return value


def bounded(name: str, limit: int) -> str:
    value = (arg(name) or "").strip()
    if len(value) > limit:
        raise ApiError(f"'{name}' must be {limit} characters or fewer.")
    return value


def boolean(name: str) -> bool | None:
    """Read true or false (also 1/0, yes/no); None when absent."""
    raw = (request.args.get(name) or "").strip().lower()
    if raw == "":
        return None
    if raw not in ("true", "false", "1", "0", "yes", "no"):
        raise ApiError(f"'{name}' must be true or false.")
    return raw in ("true", "1", "yes")


def paging() -> tuple[int, int]:
    """Read the page and its size; a size over the most is answered with the most (and named as such)."""
    per_page = integer("per_page", DEFAULT_PER_PAGE, 1, 10**12)
    if per_page > MAX_PER_PAGE:
        ignore(f"per_page above {MAX_PER_PAGE}")
        per_page = MAX_PER_PAGE
    return integer("page", 1, 1, 1_000_000), per_page


def time_param(name: str) -> time | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?", raw):
        raise ApiError(f"'{name}' must be a time like 09:30.")
    try:
        return time.fromisoformat(raw)
    except ValueError:
        raise ApiError(f"'{name}' must be a time like 09:30.") from None


# --- finding services ----------------------------------------------------------------------------------


def search_ids(text: str) -> list[str]:
    """Return the published services' ids for the words and ``postcode`` + ``proximity``, best first."""
    postcode = (arg("postcode") or "").strip()
    proximity = request.args.get("proximity")
    metres = None
    if proximity is not None and proximity != "":
        try:
            metres = float(proximity)
        except ValueError:
            raise ApiError("'proximity' must be a number of metres.") from None
        if not 0 < metres <= 500_000:
            raise ApiError("'proximity' must be between 1 and 500000 metres.")
        if not postcode:
            raise ApiError("'proximity' needs a 'postcode'.")
    if postcode:
        if parse_postcode(postcode) is None:
            raise ApiError(f"'{postcode[:20]}' is not a postcode.")
        try:
            geo.lookup_postcode(postcode)
        except geo.UnknownPlace as error:
            raise ApiError(str(error)) from None
    search = SearchRequest(text=text, where=postcode, ids_only=True, strict_radius=metres is not None,
                           radius=metres / geo.METRES_PER_MILE if metres is not None else None,
                           sort="relevance" if text else ("distance" if postcode else "checked"))
    try:
        found = get_service().search(search)
    except SearchError as error:
        raise ApiError(str(error)) from None
    if found.place_error:
        raise ApiError(found.place_error)
    return found.ids


def age_and_session_conditions() -> list:
    """SQL conditions for ``minimum_age``/``maximum_age`` (ranges overlap) and ``day``/``start_time``/``end_time``."""
    conditions = []
    minimum = integer("minimum_age", None, 0, 130)
    maximum = integer("maximum_age", None, 0, 130)
    if minimum is not None and maximum is not None and minimum > maximum:
        raise ApiError("'minimum_age' must not be more than 'maximum_age'.")
    if minimum is not None:  # ranges overlap: the service's oldest age reaches the youngest asked for
        conditions.append(or_(Listing.max_age.is_(None), Listing.max_age >= minimum))
    if maximum is not None:
        conditions.append(or_(Listing.min_age.is_(None), Listing.min_age <= maximum))
    day = request.args.get("day") or None
    if day is not None and day not in DAYS:
        raise ApiError("'day' must be one of SU, MO, TU, WE, TH, FR, SA.")
    start, end = time_param("start_time"), time_param("end_time")
    if start and end and end <= start:
        raise ApiError("'end_time' must be after 'start_time'.")
    if day or start or end:
        session = [Schedule.listing_id == Listing.id]
        if day:
            # any day of the session's rule ("MO,TU,WE", "1SA")
            session.append(or_(Schedule.weekday == Weekday(day), Schedule.byday.contains(day)))
        if start:
            session.append(or_(Schedule.closes_at.is_(None), Schedule.closes_at > start))
        if end:
            session.append(or_(Schedule.opens_at.is_(None), Schedule.opens_at < end))
        conditions.append(select(Schedule.id).where(and_(*session)).exists())
    return conditions


def narrowed(ids: list[str], conditions: list) -> list[str]:
    """Keep the ids (in their order) of our published listings that meet every condition."""
    allowed = set(db.session.execute(select(Listing.id).where(*OURS,
                                                               *conditions)).scalars())
    return [identifier for identifier in ids if identifier in allowed]
