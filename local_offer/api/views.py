"""The Open Referral UK version 1 read API under /api/v1/.

Every list answers with and without a trailing slash (no redirect), in the
standard's page envelope; every response carries ``Access-Control-Allow-Origin: *``;
bad parameters get a JSON error with a 4xx status.  Services are found and
ranked by the same search façade as the website, then narrowed by the
standard's filters (which combine with AND).
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from sqlalchemy import false, func, select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException

from local_offer import mail
from local_offer.api.common import (
    OURS,
    ApiError,
    age_and_session_conditions,
    bounded,
    boolean,
    check_parameters,
    cors_and_ignored,
    ignore,
    narrowed,
    paging,
    printable,
    search_ids,
)
from local_offer.auth import public
from local_offer.extensions import db
from local_offer.interchange import oruk
from local_offer.listings.queries import LISTING_LOAD
from local_offer.models import (
    PUBLIC_STATUSES,
    Listing,
    ListingTerm,
    Location,
    Organisation,
    ServiceAtLocation,
    Term,
    Vocabulary,
)
from local_offer.request_log import request_id

bp = Blueprint("api", __name__, url_prefix="/api/v1")

VERSION = "HSDS-UK-1.0"
PAGING = {"page", "per_page"}
SERVICE_PARAMETERS = PAGING | {"text", "postcode", "proximity", "taxonomy_id", "vocabulary", "minimum_age",
                               "maximum_age", "day", "start_time", "end_time"}
#: Parameters that may be given more than once (any of the values matches).
REPEATABLE = {"taxonomy_id", "vocabulary"}
#: Honoured by always doing it: every service is sent with everything it embeds.
ALWAYS_DONE = {"include"}


@bp.after_app_request
def allow_any_origin(response):
    """Open data: any web page may read the API (errors too, including ones raised before routing)."""
    if request.path.startswith("/api/"):
        cors_and_ignored(response)
    return response


@bp.errorhandler(HTTPException)
def json_error(error: HTTPException):
    """Answer errors in JSON, with their status."""
    message = error.description if isinstance(error, ApiError) else {
        404: "Not found.", 405: "Only GET is supported.", 429: "Too many requests."}.get(error.code, error.name)
    return jsonify({"error": message, "status": error.code, "request_id": request_id()}), error.code


def _check_parameters(allowed: set[str]) -> None:
    check_parameters(allowed, REPEATABLE, ALWAYS_DONE)


def page(items: list, total: int, number: int, per_page: int) -> dict:
    """The ORUK v1 page envelope; ``size`` is the number of items returned."""
    pages = max(1, -(-total // per_page))
    return {"totalElements": total, "totalPages": pages, "number": number, "size": len(items),
            "first": number == 1, "last": number >= pages, "empty": not items, "content": items}


def _paged_query(query, serialise, order) -> dict:
    number, per_page = paging()
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
    conditions = age_and_session_conditions()  # checked before searching: a bad value is a 400 at once
    ids = search_ids(bounded("text", 200))
    return narrowed(ids, _term_conditions() + conditions)


def _term_conditions() -> list:
    """SQL conditions for ``taxonomy_id`` (any of them, or a narrower term) and ``vocabulary``."""
    conditions = []
    taxonomy_ids = [value for value in request.args.getlist("taxonomy_id") if value]
    if any(len(value) > 200 for value in taxonomy_ids):
        raise ApiError("'taxonomy_id' must be 200 characters or fewer.")
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
            ignore(*(f"vocabulary={printable(v)}" for v in unheld))
        if held:
            conditions.append(Listing.id.in_(select(ListingTerm.listing_id).join(Term).where(
                Term.vocabulary.in_(held))))
    return conditions


@bp.get("/services", strict_slashes=False)
@public
def services():
    """Published services, best first, in the page envelope."""
    _check_parameters(SERVICE_PARAMETERS)
    number, per_page = paging()
    ids = _service_ids()
    chosen = ids[(number - 1) * per_page: number * per_page]
    loaded = {listing.id: listing for listing in db.session.execute(
        select(Listing).where(Listing.id.in_(chosen), *OURS)
        .options(*LISTING_LOAD)).scalars()}
    return jsonify(page([oruk.service(loaded[i]) for i in chosen if i in loaded], len(ids), number, per_page))


@bp.get("/services/<string:service_id>", strict_slashes=False)
@public
def service(service_id: str):
    """One published service."""
    _check_parameters(set())
    listing = db.session.execute(select(Listing).where(Listing.id == service_id[:36],
                                                       *OURS)
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
    vocabulary = bounded("vocabulary", 100)
    if vocabulary:
        held = vocabulary in {item.value for item in Vocabulary}
        query = query.where(Term.vocabulary == Vocabulary(vocabulary)) if held else query.where(false())
    parent = bounded("parent_id", 100)
    if parent:
        query = query.where(Term.parent_id == parent)
    if boolean("root_only"):
        query = query.where(Term.parent_id.is_(None))
    text = bounded("text", 100).lower()
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
        select(Listing.organisation_id).where(*OURS)))


def _public_locations():
    return select(Location).where(Location.id.in_(
        select(ServiceAtLocation.location_id).join(Listing).where(*OURS)))


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
        if listing.status in PUBLIC_STATUSES and listing.feed_id is None]})


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
