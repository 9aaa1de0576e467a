"""Routes of the public directory."""

from __future__ import annotations

from urllib.parse import parse_qsl

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request
from werkzeug.datastructures import MultiDict

from local_offer.auth import public
from local_offer import demand, filters, geo, information_pages, page_cache, reviews
from local_offer.listings import calendar, cards, labels as listing_labels, links, queries as listings
from local_offer.directory import search_params
from local_offer.directory.forms import SearchForm
from local_offer.errors import refuse
from local_offer.i18n import _
from local_offer.models import ListingKind, ListingLevel, SchedulePeriod, Vocabulary, Weekday
from local_offer.information_pages import key_pages
from local_offer.search import RADII, SearchError, get_service, without_guess

bp = Blueprint("directory", __name__)
bp.add_app_template_global(links.listing_url, "listing_url")
bp.add_app_template_global(links.directions_url, "directions_url")
bp.add_app_template_global(links.listing_page_link, "listing_page_link")
bp.add_app_template_global(links.listing_ref, "listing_ref")

MAX_PAGE = 1000


def _page_number() -> int:
    """Read ``?page=``: a whole number from 1, else a 400 that says so."""
    raw = request.args.get("page", "1")
    if not raw.isdecimal() or not 1 <= int(raw) <= MAX_PAGE:
        refuse(400, _("The page number must be a whole number from 1 to %(max)s.", max=MAX_PAGE))
    return int(raw)


def _listings_state(service) -> tuple:
    """Return what a page of listings is built from (its kept copy's key): index, words, vocabularies, review settings."""
    return service.page_state(), listings.vocabulary_stamp(), reviews.settings()


@bp.get("/")
@public
def home():
    """Show the search boxes, the main categories and the key information pages."""
    kept = page_cache.serve("home", (information_pages.stamp(), _listings_state(get_service())))
    if kept is not None:
        return kept
    return page_cache.keep(render_template(
        "directory/home.html",
        form=SearchForm(formdata=None),
        categories=listings.top_categories(),
        pages=key_pages(),
    ))


@bp.get("/search")
@public
def search():
    """Search listings by words, place and filters; show counts, distances and pages."""
    args = request.args
    service = get_service()
    kept = page_cache.serve("search", _listings_state(service), again=demand.log_search)
    if kept is not None:
        return kept
    form = SearchForm(formdata=args)
    try:
        search_request = search_params.parse(args, current_app.config["PER_PAGE"])
        results = service.search(search_request)
    except SearchError as error:
        return render_template("directory/search.html", form=form, results=None,
                               problem=str(error), **_filter_context(args)), 400
    cards.prepare_cards([hit.listing for hit in results.hits])
    chosen = {key: args.getlist(key) for key in args if key not in ("q", "where", "lat", "lng", "page")}
    logged = (search_request.text, chosen, results.place, results.total)
    demand.log_search(*logged)
    return page_cache.keep(render_template("directory/search.html", form=form, results=results, problem=None,
                                           back=links.safe_back(request.full_path), **_filter_context(args, results)),
                           again_args=logged)


def _filter_context(args, results=None) -> dict:
    """Give the results template the vocabularies, active filters and link builders."""
    tops, by_code = listings.vocabulary_trees()
    return {
        "categories": tops[Vocabulary.CATEGORY],
        "need_areas": tops[Vocabulary.NEED],
        "features": tops[Vocabulary.ACCESSIBILITY],
        "active": _active_filters(args, by_code),
        "guessed": _guessed(args, results),
        "args": args,
        "without": lambda name, value=None: search_params.without(args, name, value),
        "with_value": lambda name, value: search_params.with_value(args, name, value),
        "radii": RADII,
    }


def _active_filters(args, names) -> list[search_params.ActiveFilter]:
    """List the filters in force, each with a link that removes it."""
    describe = {
        "free": lambda v: _("Free only"),
        "age": lambda v: _("Age %(age)s", age=v),
        "area": lambda v: _("In the area") if v == "in" else _("Outside the area"),
        "radius": lambda v: _("Within %(miles)s miles", miles=v),
        "day": lambda v: str(listing_labels.WEEKDAY_LABELS[Weekday(v)]) if v in Weekday._value2member_map_ else v,
        "period": lambda v: str(listing_labels.PERIOD_LABELS[SchedulePeriod(v)]) if v in SchedulePeriod._value2member_map_ else v,
        "delivery": lambda v: str(listing_labels.DELIVERY_LABELS.get(v, v)),
        "funding": lambda v: str(listing_labels.FUNDING_LABELS.get(v, v)),
        "kind": lambda v: str(listing_labels.KIND_LABELS[ListingKind(v)]) if v in ListingKind._value2member_map_ else v,
        "level": lambda v: str(listing_labels.LEVEL_LABELS[ListingLevel(v)]) if v in ListingLevel._value2member_map_ else v,
    }
    active = []
    for name, value in args.items(multi=True):
        if not value or name in ("q", "where", "lat", "lng", "page", "sort", "view"):
            continue
        if name in ("category", "need", "access"):
            label = filters.term_label(names[value]) if value in names else value
        elif name in describe:
            label = describe[name](value)
        else:
            continue
        active.append(search_params.ActiveFilter(label, search_params.without(args, name, value)))
    return active


def filter_labels(args) -> list[str]:
    """Describe the filters of a search in words, as its results page shows them (for the alert form)."""
    return [str(active.label) for active in _active_filters(args, listings.vocabulary_trees()[1])]


def _guessed(args, results) -> list[search_params.ActiveFilter]:
    """List what the search took from the words, each with a link that searches without those words."""
    if results is None:
        return []
    labels = []
    for guess in results.guesses:
        if guess.kind == "place":
            label = _("Near %(place)s", place=results.place.label if results.place else guess.value)
        elif guess.kind == "age":
            youngest, oldest = guess.value
            label = (_("Age %(age)s", age=youngest) if youngest == oldest
                     else _("Ages %(youngest)s to %(oldest)s", youngest=youngest, oldest=oldest))
        elif guess.kind == "day":
            label = ", ".join(str(listing_labels.WEEKDAY_LABELS[Weekday(day)]) for day in sorted(guess.value))
        elif guess.kind == "when":
            days, period = guess.value
            label = (_("Weekends") if days == {"SA", "SU"} else _("After school") if days
                     else _("School holidays") if period == "school_holidays" else _("Term time"))
        elif guess.kind == "kind":
            label = _("Activities first")
        else:
            label = _("Free first") if guess.value == "free" else _("Free or low cost first")
        remaining = without_guess(args.get("q", ""), guess)
        labels.append(search_params.ActiveFilter(label, search_params.with_value(args, "q", remaining)))
    return labels


@bp.get("/categories/")
@public
def categories():
    """List every main category and the categories under it."""
    kept = page_cache.serve("categories", _listings_state(get_service()))
    if kept is not None:
        return kept
    return page_cache.keep(render_template("directory/categories.html", categories=listings.top_categories()))


@bp.get("/categories/<code>")
@public
def category(code: str):
    """Show a category: its subcategories and a page of its listings."""
    kept = page_cache.serve("category", _listings_state(get_service()))
    if kept is not None:
        return kept
    term = listings.get_category(code)
    if term is None:
        abort(404)
    page = _page_number()
    results = listings.listings_in_category(term, page, current_app.config["PER_PAGE"])
    if results.total and page > results.pages:
        abort(404)
    return page_cache.keep(render_template("directory/category.html", category=term, results=results))


@bp.get("/listings/<ref>")
@public
def listing(ref: str):
    """Show everything families need to know about one listing, at its readable address.

    An old ``/listings/<uuid>`` address, or one with a wrong name, redirects (301) to
    the right one, keeping a valid "Back to results" address.
    """
    found = links.find_listing(ref, lambda: listings.public_listings().options(*listings.LISTING_LOAD))
    if found is None:
        abort(404)
    back = links.safe_back(request.args.get("back"))
    if ref != links.listing_ref(found):
        return redirect(links.listing_url(found, back), code=301)
    return render_template("directory/listing.html", listing=found, back=back,
                           distance=_distance_from_search(found, back), calendar_ready=calendar.exportable(found))


@bp.get("/listings/<ref>/calendar.ics")
@public
def listing_calendar(ref: str):
    """Give a listing's sessions as a file to add to a calendar (weekly, skipping holidays or term as they do)."""
    found = links.find_listing(ref, lambda: listings.public_listings().options(*listings.LISTING_LOAD))
    if found is None:
        refuse(404, _("That service could not be found. It may have been withdrawn."))
    body = calendar.listing_ics(found)
    if body is None:
        refuse(404, _("This service's sessions cannot be added to a calendar. Contact the provider for dates."))
    filename = links.listing_ref(found)[:80] + ".ics"
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _distance_from_search(listing, back: str | None) -> tuple[str, float] | None:
    """Return (place, miles to the nearest venue) when the parent came from a search near a place."""
    if not back or "?" not in back:
        return None
    args = MultiDict(parse_qsl(back.split("?", 1)[1]))
    try:
        if args.get("lat") and args.get("lng"):
            point = (float(args["lat"]), float(args["lng"]))
            south, west, north, east = search_params.UK_BOUNDS
            if not (south <= point[0] <= north and west <= point[1] <= east):
                return None
            label = _("your location")
        elif args.get("where", "").strip():
            found = geo.lookup(args["where"].strip())
            point, label = (found.latitude, found.longitude), found.label
        else:
            return None
    except (ValueError, geo.UnknownPlace):
        return None
    venues = [geo.public_point(location) for location in listing.locations]
    miles = [geo.distance_miles(point, venue) for venue in venues if venue]
    return (label, min(miles)) if miles else None
