"""Turn a results page's query string into a search request, and back into links.

Every results page is a plain GET address a parent can bookmark or send to a
professional; removing a filter is a link to the same address without it.
Bad values are refused with a message that says what was wrong (a 400 page),
never passed on to the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from werkzeug.datastructures import MultiDict

from local_offer.i18n import _, current_language
from local_offer.search import RADII, SORTS, SearchError, SearchRequest
from local_offer.search_sources import FACET_VALUES

MAX_TEXT = 200
MAX_PAGE = 1000
#: Great Britain and Northern Ireland, generously: "use my location" outside it is refused.
UK_BOUNDS = (49.8, -8.7, 60.9, 1.8)
MULTI = {"need": None, "access": None, **FACET_VALUES}
KNOWN = {"q", "where", "lat", "lng", "category", "age", "free", "area", "radius", "sort", "page",
         "view", *MULTI}


def _number(args: MultiDict, name: str, low: int, high: int, what: str) -> int | None:
    """Read a whole number within limits, or None when absent."""
    raw = args.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdecimal() or not low <= int(raw) <= high:
        raise SearchError(_("%(what)s must be a whole number from %(low)s to %(high)s.", what=what, low=low, high=high))
    return int(raw)


def _coordinate(raw: str, what: str) -> float:
    """Read a latitude or longitude."""
    try:
        value = float(raw)
    except ValueError as error:
        raise SearchError(_("Your location could not be read. Enter a postcode or a town instead.")) from error
    if value != value or value in (float("inf"), float("-inf")):
        raise SearchError(_("Your location could not be read. Enter a postcode or a town instead."))
    return value


def parse(args: MultiDict, per_page: int) -> SearchRequest:
    """Build a SearchRequest from a query string, refusing unknown or impossible values."""
    text = args.get("q", "").strip()
    if len(text) > MAX_TEXT:
        raise SearchError(_("Search words must be 200 characters or fewer"))
    where = args.get("where", "").strip()
    if len(where) > 100:
        raise SearchError(_("The place must be 100 characters or fewer"))
    near = None
    if args.get("lat") or args.get("lng"):
        latitude, longitude = _coordinate(args.get("lat", ""), "latitude"), _coordinate(args.get("lng", ""), "longitude")
        south, west, north, east = UK_BOUNDS
        if not (south <= latitude <= north and west <= longitude <= east):
            raise SearchError(_("Your location is outside the UK. Enter a postcode or a town instead."))
        near = (latitude, longitude)
    request = SearchRequest(text=text, where=where, near=near, per_page=per_page, language=current_language())
    request.category = args.get("category") or None
    request.age = _number(args, "age", 0, 25, _("Age"))
    request.free = args.get("free") in ("1", "yes", "true", "on")
    for name, allowed in MULTI.items():
        values = [value for value in args.getlist(name) if value]
        if allowed is not None:
            unknown = [value for value in values if value not in allowed]
            if unknown:
                raise SearchError(_("There is no %(filter)s filter called %(value)s.", filter=name, value=", ".join(unknown[:3])))
        setattr(request, {"need": "needs", "day": "days", "period": "periods", "kind": "kinds",
                          "level": "levels"}.get(name, name), list(dict.fromkeys(values)))
    area = args.get("area") or None
    if area not in (None, "in", "out"):
        raise SearchError(_("The area filter must be in or out."))
    request.area = area
    radius = args.get("radius") or None
    if radius is not None:
        if radius not in {str(r) for r in RADII}:
            raise SearchError(_("The distance must be one of %(choices)s miles.", choices=", ".join(map(str, RADII))))
        request.radius = int(radius)
    sort = args.get("sort") or None
    if sort is not None and sort not in SORTS:
        raise SearchError(_("Results can be sorted by relevance, distance or date checked."))
    request.sort = sort
    request.page = _number(args, "page", 1, MAX_PAGE, _("The page number")) or 1
    return request


@dataclass
class ActiveFilter:
    """A filter in force, with the link that removes it."""

    label: str
    remove_url: str


def without(args: MultiDict, name: str, value: str | None = None) -> str:
    """Return this results page's address without one parameter (or one of its values)."""
    kept = MultiDict()
    for key, item in args.items(multi=True):
        if key == "page" or (key == name and (value is None or item == value)):
            continue
        if item != "":
            kept.add(key, item)
    return url_for("directory.search", **kept.to_dict(flat=False))


def with_value(args: MultiDict, name: str, value: str) -> str:
    """Return this results page's address with one parameter set (replacing it), on page 1."""
    kept = MultiDict([(k, v) for k, v in args.items(multi=True) if k not in (name, "page") and v != ""])
    kept.add(name, value)
    return url_for("directory.search", **kept.to_dict(flat=False))
