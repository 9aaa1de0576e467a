"""The Open Referral UK version 1 read API under /api/v1/.

Every list answers with and without a trailing slash (no redirect), in the
standard's page envelope; every response carries ``Access-Control-Allow-Origin: *``;
bad parameters get a JSON error with a 4xx status.  Services are found and
ranked by the same search façade as the website, then narrowed by the
standard's filters (which combine with AND).
"""

from __future__ import annotations

import re
from datetime import time
from urllib.parse import unquote

from flask import Blueprint, g, jsonify, request
from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException

from local_offer import geo, mail
from local_offer.auth import public
from local_offer.extensions import db
from local_offer.interchange import oruk
from local_offer.postcodes import parse_postcode
from local_offer.listings.queries import LISTING_LOAD
from local_offer.models import (
    PUBLIC_STATUSES,
    Listing,
    ListingTerm,
    Location,
    Organisation,
    Schedule,
    ServiceAtLocation,
    Term,
    Vocabulary,
    Weekday,
)
from local_offer.search import SearchError, SearchRequest, get_service

bp = Blueprint("api", __name__, url_prefix="/api/v1")

VERSION = "HSDS-UK-1.0"
DEFAULT_PER_PAGE = 50
#: A page may ask for up to this many (more is answered with this many, as clients asking for 500 expect).
MAX_PER_PAGE = 1000
PAGING = {"page", "per_page"}
SERVICE_PARAMETERS = PAGING | {"text", "postcode", "proximity", "taxonomy_id", "vocabulary", "minimum_age",
                               "maximum_age", "day", "start_time", "end_time"}
#: Honoured by always doing it: every service is sent with everything it embeds.
ALWAYS_DONE = {"include"}
#: The response header naming parameters that were ignored (not the standard's, or not ones we can honour).
IGNORED_HEADER = "X-Ignored-Parameters"


class ApiError(HTTPException):
    """A request the API cannot answer; the message says why."""

    def __init__(self, message: str, code: int = 400):
        super().__init__(description=message)
        self.code = code


@bp.after_app_request
def allow_any_origin(response):
    """Open data: any web page may read the API (errors too, including ones raised before routing).

    Parameters that were ignored are named in ``X-Ignored-Parameters`` (readable from scripts).
    """
    if request.path.startswith(bp.url_prefix):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = IGNORED_HEADER
        ignored = g.get("api_ignored")
        if ignored:
            response.headers[IGNORED_HEADER] = ", ".join(ignored)
    return response


@bp.errorhandler(HTTPException)
def json_error(error: HTTPException):
    """Answer errors in JSON, with their status."""
    message = error.description if isinstance(error, ApiError) else {
        404: "Not found.", 405: "Only GET is supported.", 429: "Too many requests."}.get(error.code, error.name)
    return jsonify({"error": message, "status": error.code}), error.code


# --- parameters ------------------------------------------------------------------------------------


#: Parameters that may be given more than once (any of the values matches).
REPEATABLE = {"taxonomy_id", "vocabulary"}


def _check_parameters(allowed: set[str]) -> None:
    """Note the parameters this path does not honour: ignored and named in a header, never refused.

    Real clients send ``include=``, other directories' parameters and their own misspellings
    (``startTime``); refusing them made whole clients useless.  A parameter given twice that
    takes one value: the first is used and the rest named.
    """
    ignored = []
    for name in request.args:
        if name in ALWAYS_DONE:
            continue
        if name not in allowed:
            ignored.append(_printable(name))
        elif name not in REPEATABLE and len(request.args.getlist(name)) > 1:
            ignored.append(f"{_printable(name)} (after the first)")
    g.api_ignored = list(dict.fromkeys(ignored))[:20]


def _printable(name: str) -> str:
    """A parameter's name made safe to repeat in a header: letters, digits and ``_.-[]`` only, at most 40."""
    return re.sub(r"[^A-Za-z0-9_.\-\[\]]", "?", name)[:40] or "?"


def _integer(name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(f"'{name}' must be a whole number.") from None
    if not low <= value <= high:
        raise ApiError(f"'{name}' must be between {low} and {high}.")
    return value


def _arg(name: str) -> str | None:
    """A parameter's value, decoded once more when a client encoded it twice ("BS1%205TR" for "BS1 5TR")."""
    value = request.args.get(name)
    if value is not None and re.search(r"%[0-9A-Fa-f]{2}", value):
        value = unquote(value)
    return value


def _bounded(name: str, limit: int) -> str:
    value = (_arg(name) or "").strip()
    if len(value) > limit:
        raise ApiError(f"'{name}' must be {limit} characters or fewer.")
    return value


def _paging() -> tuple[int, int]:
    """Read the page and its size; a size over the most is answered with the most (and named as such)."""
    per_page = _integer("per_page", DEFAULT_PER_PAGE, 1, 10**12)
    if per_page > MAX_PER_PAGE:
        g.api_ignored = [*g.get("api_ignored", []), f"per_page above {MAX_PER_PAGE}"]
        per_page = MAX_PER_PAGE
    return _integer("page", 1, 1, 1_000_000), per_page


def _time(name: str) -> time | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?", raw):
        raise ApiError(f"'{name}' must be a time like 09:30.")
    try:
        return time.fromisoformat(raw)
    except ValueError:
        raise ApiError(f"'{name}' must be a time like 09:30.") from None


def page(items: list, total: int, number: int, per_page: int) -> dict:
    """The ORUK v1 page envelope; ``size`` is the number of items returned."""
    pages = max(1, -(-total // per_page))
    return {"totalElements": total, "totalPages": pages, "number": number, "size": len(items),
            "first": number == 1, "last": number >= pages, "empty": not items, "content": items}


def _paged_query(query, serialise, order) -> dict:
    number, per_page = _paging()
    total = db.session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    rows = db.session.execute(query.order_by(*order).limit(per_page).offset((number - 1) * per_page)).scalars()
    return page([serialise(row) for row in rows], total, number, per_page)


# --- the API's front door --------------------------------------------------------------------------


@bp.get("/", strict_slashes=False)
@public
def index():
    """Say which standard this is, and where things are."""
    _check_parameters(set())
    return jsonify({"version": VERSION, "documentation": "https://developers.openreferraluk.org/",
                    "openapi_url": mail.link("api.openapi_document"),
                    "links": {name: mail.link(f"api.{name}") for name in
                              ("services", "taxonomies", "vocabularies", "organizations", "locations")}})


# --- services ----------------------------------------------------------------------------------------


def _service_ids() -> list[str]:
    """Return the ids of the services the parameters ask for, best first."""
    text = _bounded("text", 200)
    postcode = (_arg("postcode") or "").strip()
    proximity = request.args.get("proximity")
    metres = None
    if proximity is not None:
        try:
            metres = float(proximity)
        except ValueError:
            raise ApiError("'proximity' must be a number of metres.") from None
        if not 0 < metres <= 500_000:
            raise ApiError("'proximity' must be between 1 and 500000 metres.")
        if not postcode:
            raise ApiError("'proximity' needs a 'postcode'.")
    if postcode:
        parsed = parse_postcode(postcode)
        if parsed is None:
            raise ApiError(f"'{postcode[:20]}' is not a postcode.")
        try:
            geo.lookup_postcode(postcode)
        except geo.UnknownPlace as error:
            raise ApiError(str(error)) from None
    day = request.args.get("day")
    if day is not None and day not in oruk.DAYS:
        raise ApiError("'day' must be one of SU, MO, TU, WE, TH, FR, SA.")
    search = SearchRequest(text=text, where=postcode, ids_only=True, strict_radius=metres is not None,
                           radius=metres / geo.METRES_PER_MILE if metres is not None else None,
                           sort="relevance" if text else ("distance" if postcode else "checked"))
    try:
        found = get_service().search(search)
    except SearchError as error:
        raise ApiError(str(error)) from None
    if found.place_error:
        raise ApiError(found.place_error)
    ids = found.ids
    narrow = _sql_filters(day)
    if narrow is None:
        return ids
    allowed = set(db.session.execute(narrow).scalars())
    return [identifier for identifier in ids if identifier in allowed]


def _sql_filters(day: str | None):
    """Return a query of listing ids for the taxonomy, vocabulary, age, day and time filters, or None."""
    conditions = []
    taxonomy_ids = [value for value in request.args.getlist("taxonomy_id") if value]
    if taxonomy_ids:
        # terms we do not hold match nothing (a client's list may be another directory's)
        terms = db.session.execute(select(Term).where(Term.id.in_([t[:36] for t in taxonomy_ids]))).scalars().all()
        wanted = {term.id for term in terms}
        frontier = list(terms)
        while frontier:  # a term matches its narrower terms too
            children = db.session.execute(select(Term.id).where(Term.parent_id.in_([t.id for t in frontier]))
                                          ).scalars().all()
            new = [c for c in children if c not in wanted]
            wanted.update(new)
            frontier = db.session.execute(select(Term).where(Term.id.in_(new))).scalars().all() if new else []
        conditions.append(Listing.id.in_(select(ListingTerm.listing_id).where(ListingTerm.term_id.in_(wanted))))
    vocabularies = [value for value in request.args.getlist("vocabulary") if value]
    if any(len(value) > 100 for value in vocabularies):
        raise ApiError("'vocabulary' must be 100 characters or fewer.")
    if vocabularies:
        known = {item.value for item in Vocabulary}
        held = [Vocabulary(v) for v in vocabularies if v in known]
        unheld = [v for v in vocabularies if v not in known]
        if unheld:  # another scheme's vocabulary: named and ignored, so the rest of the search still works
            g.api_ignored = [*g.get("api_ignored", []), *(f"vocabulary={_printable(v)}" for v in unheld)]
        if held:
            conditions.append(Listing.id.in_(select(ListingTerm.listing_id).join(Term).where(
                Term.vocabulary.in_(held))))
    minimum = _integer("minimum_age", None, 0, 130)
    maximum = _integer("maximum_age", None, 0, 130)
    if minimum is not None and maximum is not None and minimum > maximum:
        raise ApiError("'minimum_age' must not be more than 'maximum_age'.")
    if minimum is not None:  # ranges overlap: the service's oldest age reaches the youngest asked for
        conditions.append(or_(Listing.max_age.is_(None), Listing.max_age >= minimum))
    if maximum is not None:
        conditions.append(or_(Listing.min_age.is_(None), Listing.min_age <= maximum))
    start, end = _time("start_time"), _time("end_time")
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
    if not conditions:
        return None
    return select(Listing.id).where(Listing.status.in_(PUBLIC_STATUSES), *conditions)


@bp.get("/services", strict_slashes=False)
@public
def services():
    """Published services, best first, in the page envelope."""
    _check_parameters(SERVICE_PARAMETERS)
    number, per_page = _paging()
    ids = _service_ids()
    chosen = ids[(number - 1) * per_page: number * per_page]
    loaded = {listing.id: listing for listing in db.session.execute(
        select(Listing).where(Listing.id.in_(chosen), Listing.status.in_(PUBLIC_STATUSES))
        .options(*LISTING_LOAD)).scalars()}
    return jsonify(page([oruk.service(loaded[i]) for i in chosen if i in loaded], len(ids), number, per_page))


@bp.get("/services/<string:service_id>", strict_slashes=False)
@public
def service(service_id: str):
    """One published service."""
    _check_parameters(set())
    listing = db.session.execute(select(Listing).where(Listing.id == service_id[:36],
                                                       Listing.status.in_(PUBLIC_STATUSES))
                                 .options(*LISTING_LOAD)).scalar_one_or_none()
    if listing is None:
        raise ApiError(f"There is no published service with id '{service_id[:40]}'.", 404)
    return jsonify(oruk.service(listing))


# --- taxonomies and vocabularies ----------------------------------------------------------------------


@bp.get("/taxonomies", strict_slashes=False)
@public
def taxonomies():
    """Every term of our vocabularies (categories, needs, accessibility features).

    ``vocabulary`` (one we do not hold: an empty page), ``parent_id`` (a term's narrower
    terms), ``root_only`` (true: top-level terms only) and ``text`` narrow it.
    """
    _check_parameters(PAGING | {"vocabulary", "text", "parent_id", "root_only"})
    query = select(Term)
    vocabulary = _bounded("vocabulary", 100)
    if vocabulary:
        held = vocabulary in {item.value for item in Vocabulary}
        query = query.where(Term.vocabulary == Vocabulary(vocabulary)) if held else query.where(false())
    parent = _bounded("parent_id", 100)
    if parent:
        query = query.where(Term.parent_id == parent)
    root_only = (request.args.get("root_only") or "").strip().lower()
    if root_only not in ("", "true", "false", "1", "0", "yes", "no"):
        raise ApiError("'root_only' must be true or false.")
    if root_only in ("true", "1", "yes"):
        query = query.where(Term.parent_id.is_(None))
    text = _bounded("text", 100).lower()
    if text:
        query = query.where(func.lower(Term.name).contains(text))
    return jsonify(_paged_query(query, oruk.taxonomy, (Term.vocabulary, Term.position, Term.name, Term.id)))


@bp.get("/taxonomies/<string:taxonomy_id>", strict_slashes=False)
@public
def taxonomy(taxonomy_id: str):
    """One term."""
    _check_parameters(set())
    term = db.session.get(Term, taxonomy_id[:36])
    if term is None:
        raise ApiError(f"There is no taxonomy term with id '{taxonomy_id[:40]}'.", 404)
    return jsonify(oruk.taxonomy(term))


@bp.get("/vocabularies", strict_slashes=False)
@public
def vocabularies():
    """The names of our vocabularies."""
    _check_parameters(set())
    return jsonify([item.value for item in Vocabulary])


# --- organizations and locations ---------------------------------------------------------------------


def _public_organisations():
    return select(Organisation).where(Organisation.id.in_(
        select(Listing.organisation_id).where(Listing.status.in_(PUBLIC_STATUSES))))


def _public_locations():
    return select(Location).where(Location.id.in_(
        select(ServiceAtLocation.location_id).join(Listing).where(Listing.status.in_(PUBLIC_STATUSES))))


@bp.get("/organizations", strict_slashes=False)
@public
def organizations():
    """Organisations that run at least one published service."""
    _check_parameters(PAGING)
    return jsonify(_paged_query(_public_organisations(), oruk.organization, (Organisation.name, Organisation.id)))


@bp.get("/organizations/<string:organization_id>", strict_slashes=False)
@public
def organization(organization_id: str):
    """One organisation, with its published services' ids and names."""
    _check_parameters(set())
    found = db.session.execute(_public_organisations().where(Organisation.id == organization_id[:36])
                               .options(selectinload(Organisation.listings))).scalar_one_or_none()
    if found is None:
        raise ApiError(f"There is no organization with id '{organization_id[:40]}'.", 404)
    return jsonify({**oruk.organization(found), "services": [
        {"id": listing.id, "name": listing.name} for listing in sorted(found.listings, key=lambda x: x.name)
        if listing.status in PUBLIC_STATUSES]})


@bp.get("/locations", strict_slashes=False)
@public
def locations():
    """Venues of published services (masked ones at their postcode sector's centre)."""
    _check_parameters(PAGING)
    return jsonify(_paged_query(_public_locations(), oruk.location, (Location.town, Location.name, Location.id)))


@bp.get("/locations/<string:location_id>", strict_slashes=False)
@public
def location(location_id: str):
    """One venue."""
    _check_parameters(set())
    found = db.session.execute(_public_locations().where(Location.id == location_id[:36])).scalar_one_or_none()
    if found is None:
        raise ApiError(f"There is no location with id '{location_id[:40]}'.", 404)
    return jsonify(oruk.location(found))



@bp.get("/openapi.json")
@public
def openapi_document():
    """The OpenAPI 3.0 description of this API."""
    from local_offer.api.openapi import document

    return jsonify(document(mail.link("api.index").rstrip("/")))


@bp.get("/<path:anything>")
@public
def not_found(anything: str):
    """Anything else under /api/v1/ is a JSON 404 (with the CORS header), not the site's HTML page."""
    raise ApiError("Not found.", 404)
