"""The Open Referral UK version 3 (HSDS-UK 3.0) read API under /api/v3/, beside v1.

The Department for Education's family hubs service reads v3 feeds: ``/services``
then ``/services/{id}``, reading ``contents``.  Every path takes the parameters the
standard's OpenAPI document lists for it (and, on ``/services``, the UK profile's
``minimum_age``, ``maximum_age``, ``day``, ``start_time`` and ``end_time``); like v1 it
ignores and names what it does not honour, and refuses only malformed values.
``format=ndjson`` streams every result, one JSON object a line, without pages.
"""

from __future__ import annotations

import json
import tempfile
from datetime import datetime, timezone

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import false, func, or_, select
from werkzeug.exceptions import HTTPException
from werkzeug.wsgi import wrap_file

from local_offer import mail
from local_offer.api.common import (
    OURS,
    ApiError,
    age_and_session_conditions,
    boolean,
    bounded,
    check_parameters,
    narrowed,
    paging,
    search_ids,
)
from local_offer.api.views import json_error
from local_offer.auth import public
from local_offer.extensions import db
from local_offer.interchange import oruk3
from local_offer.listings.queries import LISTING_LOAD, in_batches
from local_offer.models import (
    PUBLIC_STATUSES,
    Listing,
    ListingTerm,
    Organisation,
    ServiceAtLocation,
    Term,
    Vocabulary,
)

bp = Blueprint("api_v3", __name__, url_prefix="/api/v3")

VERSION = "HSDS-UK-3.0"
PROFILE = "https://github.com/OpenReferralUK/uk-profile/blob/main/docs/index.md"
LISTED = {"search", "page", "per_page", "format"}
SERVICE_FILTERS = {"taxonomy_term_id", "taxonomy_id", "organization_id", "modified_after"}
SERVICE_PARAMETERS = LISTED | SERVICE_FILTERS | {"minimal", "full", "minimum_age", "maximum_age", "day",
                                                 "start_time", "end_time", "postcode", "proximity"}


bp.register_error_handler(HTTPException, json_error)  # as v1: JSON with its status


def _page(items: list, total: int, number: int, per_page: int) -> dict:
    """v3's page envelope."""
    pages = max(1, -(-total // per_page))
    return {"total_items": total, "total_pages": pages, "page_number": number, "size": len(items),
            "first_page": number == 1, "last_page": number >= pages, "empty": not items, "contents": items}


def _ndjson() -> bool:
    """Whether ``format=ndjson`` asks for every result streamed; json is the default; anything else a 400."""
    wanted = (request.args.get("format") or "json").strip().lower()
    if wanted not in ("json", "ndjson"):
        raise ApiError("'format' must be json or ndjson.")
    return wanted == "ndjson"


def _stream(items) -> Response:
    """Every result, one JSON object a line (no pages).

    ``items`` is a list or a zero-argument function giving an iterable.  The lines are
    written to a spooled file while the request's database session is open (memory
    stays bounded: past 8 MB it is on disk), then sent from there in chunks.
    """
    paging()  # ignored for a stream, but a malformed page is still a 400
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024, mode="w+b")
    for item in (items() if callable(items) else items):
        spool.write((json.dumps(item, ensure_ascii=False) + "\n").encode("utf-8"))
    spool.seek(0)
    return Response(wrap_file(request.environ, spool), mimetype="application/x-ndjson", direct_passthrough=True)


def _listed(query, serialise, order):
    """A page of rows (or every row streamed as NDJSON)."""
    if _ndjson():
        return _stream(lambda: (serialise(row) for row in db.session.execute(query.order_by(*order)).scalars()))
    number, per_page = paging()
    total = db.session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    rows = db.session.execute(query.order_by(*order).limit(per_page).offset((number - 1) * per_page)).scalars()
    return jsonify(_page([serialise(row) for row in rows], total, number, per_page))


# --- the front door ---------------------------------------------------------------------------------


@bp.get("/", strict_slashes=False)
@public
def index():
    """Which standard and profile this is, and where its OpenAPI document is."""
    check_parameters(set())
    return jsonify({"version": VERSION, "profile": PROFILE, "openapi_url": mail.link("api_v3.openapi_document")})


# --- services ---------------------------------------------------------------------------------------


def _modified_after():
    raw = (request.args.get("modified_after") or "").strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError("'modified_after' must be a date and time like 2026-03-01T00:00:00Z.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _term_and_owner_conditions() -> list:
    """``taxonomy_term_id`` (or a narrower term), ``taxonomy_id`` (a vocabulary), ``organization_id``, ``modified_after``."""
    conditions = []
    term_id = bounded("taxonomy_term_id", 200)
    if term_id:
        wanted, frontier = {term_id}, [term_id]
        while frontier:  # a term matches its narrower terms too
            frontier = [c for c in db.session.execute(select(Term.id).where(Term.parent_id.in_(frontier))).scalars()
                        if c not in wanted]
            wanted.update(frontier)
        conditions.append(Listing.id.in_(select(ListingTerm.listing_id).where(ListingTerm.term_id.in_(wanted))))
    vocabulary_id = bounded("taxonomy_id", 200)
    if vocabulary_id:
        vocabulary = oruk3.vocabulary_of(vocabulary_id)
        conditions.append(Listing.id.in_(select(ListingTerm.listing_id).join(Term).where(
            Term.vocabulary == vocabulary)) if vocabulary else false())  # a taxonomy we do not hold: nothing
    organisation_id = bounded("organization_id", 200)
    if organisation_id:
        conditions.append(Listing.organisation_id == organisation_id)
    after = _modified_after()
    if after is not None:
        conditions.append(Listing.updated_at >= after)
    return conditions


def _service_ids() -> list[str]:
    """The ids of the published services the parameters ask for, best first (or nearest with a postcode)."""
    conditions = age_and_session_conditions() + _term_and_owner_conditions()
    return narrowed(search_ids(bounded("search", 200)), conditions)


def _services(ids: list[str], serialise):
    for batch in in_batches(ids, options=LISTING_LOAD):
        for listing in batch:
            yield serialise(listing)


@bp.get("/services", strict_slashes=False)
@public
def services():
    """Published services in a page (``full``: fully nested; ``minimal``: ids and dates only, all at once)."""
    check_parameters(SERVICE_PARAMETERS)
    streaming, minimal, full = _ndjson(), boolean("minimal"), boolean("full")
    ids = _service_ids()
    if minimal:
        stamps = dict(db.session.execute(select(Listing.id, Listing.updated_at).where(Listing.id.in_(ids))).all()) \
            if len(ids) <= 30_000 else {}
        found = [{"id": i, "last_modified": oruk3._stamp(stamps[i])} for i in ids if i in stamps]
        return _stream(found) if streaming else jsonify(found)
    serialise = oruk3.service if full else oruk3.service_brief
    if streaming:
        return _stream(lambda: _services(ids, serialise))
    number, per_page = paging()
    chosen = ids[(number - 1) * per_page: number * per_page]
    return jsonify(_page(list(_services(chosen, serialise)), len(ids), number, per_page))


@bp.get("/services/<string:service_id>", strict_slashes=False)
@public
def service(service_id: str):
    """One published service, fully nested."""
    check_parameters(set())
    listing = db.session.execute(select(Listing).where(Listing.id == service_id[:36],
                                                       *OURS)
                                 .options(*LISTING_LOAD)).scalar_one_or_none()
    if listing is None:
        raise ApiError(f"There is no published service with id '{service_id[:40]}'.", 404)
    return jsonify(oruk3.service(listing))


# --- taxonomies and their terms ---------------------------------------------------------------------


def _terms_of(vocabulary: Vocabulary) -> list[Term]:
    return list(db.session.execute(select(Term).where(Term.vocabulary == vocabulary)
                                   .order_by(Term.position, Term.name, Term.id)).scalars())


@bp.get("/taxonomies", strict_slashes=False)
@public
def taxonomies():
    """Our vocabularies (categories, needs, accessibility) as v3 taxonomies."""
    check_parameters(LISTED)
    words = bounded("search", 100).lower()
    found = [oruk3.taxonomy(v) for v in Vocabulary
             if not words or words in v.value or words in oruk3.VOCABULARY_DESCRIPTIONS[v].lower()]
    if _ndjson():
        return _stream(found)
    number, per_page = paging()
    return jsonify(_page(found[(number - 1) * per_page: number * per_page], len(found), number, per_page))


@bp.get("/taxonomies/<string:identifier>", strict_slashes=False)
@public
def taxonomy(identifier: str):
    """One taxonomy with its terms."""
    check_parameters(set())
    vocabulary = oruk3.vocabulary_of(identifier[:40])
    if vocabulary is None:
        raise ApiError(f"There is no taxonomy with id '{identifier[:40]}'.", 404)
    return jsonify(oruk3.taxonomy(vocabulary, _terms_of(vocabulary)))


@bp.get("/taxonomy_terms", strict_slashes=False)
@public
def taxonomy_terms():
    """Every term; ``taxonomy_id`` (one vocabulary), ``parent_id`` (narrower terms), ``top_only``, ``search``."""
    check_parameters(LISTED | {"taxonomy_id", "top_only", "parent_id"})
    query = select(Term)
    vocabulary_id = bounded("taxonomy_id", 200)
    if vocabulary_id:
        vocabulary = oruk3.vocabulary_of(vocabulary_id)
        query = query.where(Term.vocabulary == vocabulary) if vocabulary else query.where(false())
    parent = bounded("parent_id", 200)
    if parent:
        query = query.where(Term.parent_id == parent)
    if boolean("top_only"):
        query = query.where(Term.parent_id.is_(None))
    words = bounded("search", 100).lower()
    if words:
        query = query.where(or_(func.lower(Term.name).contains(words), func.lower(Term.code).contains(words)))
    return _listed(query, oruk3.taxonomy_term, (Term.vocabulary, Term.position, Term.name, Term.id))


@bp.get("/taxonomy_terms/<string:term_id>", strict_slashes=False)
@public
def taxonomy_term(term_id: str):
    """One term."""
    check_parameters(set())
    term = db.session.get(Term, term_id[:36])
    if term is None:
        raise ApiError(f"There is no taxonomy term with id '{term_id[:40]}'.", 404)
    return jsonify(oruk3.taxonomy_term(term))


# --- organizations ------------------------------------------------------------------------------------


def _public_organisations():
    return select(Organisation).where(Organisation.id.in_(
        select(Listing.organisation_id).where(*OURS)))


def _organisation(organisation: Organisation, full: bool, full_service: bool) -> dict:
    if not (full or full_service):
        return oruk3.organization(organisation)
    ids = list(db.session.execute(select(Listing.id).where(
        Listing.organisation_id == organisation.id, *OURS)
        .order_by(Listing.name, Listing.id)).scalars())
    return oruk3.organization(organisation, list(_services(
        ids, oruk3.service if full_service else oruk3.service_brief)))


@bp.get("/organizations", strict_slashes=False)
@public
def organizations():
    """Organisations that run at least one published service (``full``/``full_service``: with their services)."""
    check_parameters(LISTED | {"full", "full_service"})
    full, full_service = bool(boolean("full")), bool(boolean("full_service"))
    query = _public_organisations()
    words = bounded("search", 100).lower()
    if words:
        query = query.where(func.lower(Organisation.name).contains(words))
    return _listed(query, lambda found: _organisation(found, full, full_service), (Organisation.name, Organisation.id))


@bp.get("/organizations/<string:organization_id>", strict_slashes=False)
@public
def organization(organization_id: str):
    """One organisation with its published services (fully nested with ``full_service``)."""
    check_parameters({"full_service"})
    found = db.session.execute(_public_organisations().where(Organisation.id == organization_id[:36])
                               ).scalar_one_or_none()
    if found is None:
        raise ApiError(f"There is no organization with id '{organization_id[:40]}'.", 404)
    return jsonify(_organisation(found, True, bool(boolean("full_service"))))


# --- services at locations ----------------------------------------------------------------------------


def _features(listing: Listing) -> list[tuple[str, str]]:
    return [(link.term.name, link.details or "") for link in listing.terms(Vocabulary.ACCESSIBILITY)]


def _links(chosen: list[str], listing_of: dict[str, str], full: bool):
    """Serialise services at locations by id, a batch of listings at a time, in the order given."""
    for start in range(0, len(chosen), 500):
        part = chosen[start:start + 500]
        by_link = {}
        for batch in in_batches(list(dict.fromkeys(listing_of[i] for i in part)), options=LISTING_LOAD):
            for listing in batch:
                by_link.update({link.id: (link, listing) for link in listing.service_at_locations})
        for identifier in part:
            if identifier in by_link:
                link, listing = by_link[identifier]
                yield oruk3.service_at_location(link, _features(listing), with_service=full)


@bp.get("/service_at_locations", strict_slashes=False)
@public
def service_at_locations():
    """Each published service at each of its venues, in the services' order (nearest first with a postcode)."""
    check_parameters(LISTED | SERVICE_FILTERS | {"full", "postcode", "proximity", "minimum_age", "maximum_age",
                                                 "day", "start_time", "end_time"})
    streaming, full = _ndjson(), bool(boolean("full"))
    order = {identifier: index for index, identifier in enumerate(_service_ids())}
    links = [row for row in db.session.execute(select(ServiceAtLocation.id, ServiceAtLocation.listing_id)).all()
             if row.listing_id in order]
    links.sort(key=lambda row: (order[row.listing_id], row.id))
    listing_of = {row.id: row.listing_id for row in links}
    ids = [row.id for row in links]
    if streaming:
        return _stream(lambda: _links(ids, listing_of, full))
    number, per_page = paging()
    chosen = ids[(number - 1) * per_page: number * per_page]
    return jsonify(_page(list(_links(chosen, listing_of, full)), len(ids), number, per_page))


@bp.get("/service_at_locations/<string:link_id>", strict_slashes=False)
@public
def service_at_location(link_id: str):
    """One service at one venue, with both."""
    check_parameters(set())
    link = db.session.get(ServiceAtLocation, link_id[:36])
    if link is None or link.listing.status not in PUBLIC_STATUSES or link.listing.feed_id is not None:
        raise ApiError(f"There is no service at a location with id '{link_id[:40]}'.", 404)
    return jsonify(oruk3.service_at_location(link, _features(link.listing), with_service=True))


@bp.get("/openapi.json")
@public
def openapi_document():
    """The OpenAPI 3.0 description of this API."""
    from local_offer.api.openapi3 import document

    return jsonify(document(mail.link("api_v3.index").rstrip("/")))


@bp.get("/<path:anything>")
@public
def not_found(anything: str):
    """Anything else under /api/v3/ is a JSON 404 (with the CORS header), not the site's HTML page."""
    raise ApiError("Not found.", 404)
