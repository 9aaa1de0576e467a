"""What's on: the sessions in the coming week, this weekend or the next school holidays, near a place.

Listings are chosen by the search service with the results page's filters (age,
need, free, accessibility, a place and a distance), then each listing's sessions
are laid out day by day from their rules (``recurrence.occurrences``) against the
council's term dates: a monthly Saturday session is on this weekend's list only
when this Saturday is its Saturday.  Each choice has its own address
(``/whats-on?when=weekend&where=Leek``) and the page works without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import render_template, request, url_for
from flask_babel import get_timezone
from werkzeug.datastructures import MultiDict

from local_offer import geo, term_dates
from local_offer.auth import public
from local_offer.directory import search_params
from local_offer.directory.views import bp
from local_offer.i18n import _, _l
from local_offer.listings import queries as listings
from local_offer.listings.recurrence import Rule, occurrences
from local_offer.listings.when import in_words, times_in_words
from local_offer.models import Vocabulary
from local_offer.search import RADII, SearchError, get_service

WHEN = {"week": _l("The next 7 days"), "weekend": _l("This weekend"), "holidays": _l("The next school holidays")}
#: The filters the page offers, as the results page spells them in its address.
KEPT = ("when", "where", "lat", "lng", "radius", "age", "need", "free", "access", "page")
#: Listings looked at for one page (the nearest or best first), and sessions shown a page.
MOST_LISTINGS = 1000
PER_PAGE = 40
#: The longest school holiday looked for (the summer's six weeks and a bit).
LONGEST_HOLIDAY = 60
DEFAULT_RADIUS = 10


@dataclass(frozen=True)
class Occasion:
    """One session on one day: what a family would go to."""

    day: date
    opens: time | None
    closes: time | None
    listing: object
    notes: str
    miles: float | None

    @property
    def times(self) -> str:
        """"10am to midday", or "Times vary" when none are set."""
        return times_in_words(self.opens, self.closes) or str(_("Times vary"))


def today() -> date:
    """Today in the council's time zone."""
    return datetime.now(get_timezone()).date()


def window(when: str, start: date, terms) -> tuple[date, date] | None:
    """Return the first and last day of the choice, or None when the next holidays are not known."""
    if when == "weekend":
        saturday = start + timedelta(days=(5 - start.weekday()) % 7) if start.weekday() != 6 else start
        return (saturday, saturday + timedelta(days=1)) if saturday.weekday() == 5 else (start, start)
    if when == "holidays":
        day = start
        for _step in range(400):
            known = terms.is_term_day(day)
            if known is None:
                return None
            if known is False:
                break  # terms run weekends included, so the first day off is the holidays' first
            day += timedelta(days=1)
        else:
            return None
        first = day
        while day - first < timedelta(days=LONGEST_HOLIDAY) and terms.is_term_day(day + timedelta(days=1)) is False:
            day += timedelta(days=1)
        return first, day
    return start, start + timedelta(days=6)


def _request(args: MultiDict, when: str):
    """Build the search for listings that could have sessions in the window."""
    chosen = MultiDict([(key, value) for key, value in args.items(multi=True)
                        if key in ("where", "lat", "lng", "radius", "age", "need", "free", "access") and value])
    if when == "weekend":
        chosen.setlist("day", ["SA", "SU"])
    if when == "holidays":
        chosen.setlist("period", ["school_holidays"])
    if (chosen.get("where") or chosen.get("lat")) and not chosen.get("radius"):
        chosen["radius"] = str(DEFAULT_RADIUS)
    search = search_params.parse(chosen, PER_PAGE)
    search.ids_only, search.strict_radius = True, True
    return search


def _miles(listing, place) -> float | None:
    """How far the listing's nearest venue is from the place searched near."""
    if place is None:
        return None
    found = [geo.distance_miles((place.latitude, place.longitude), point)
             for point in (geo.public_point(venue) for venue in listing.locations) if point]
    return min(found) if found else None


def sessions_between(found_listings, first: date, last: date, terms, place=None) -> list[Occasion]:
    """Lay out the listings' sessions day by day between two dates, earliest first."""
    found = []
    for listing in found_listings:
        miles = _miles(listing, place)
        for row in listing.schedules:
            rule = Rule.of(row)
            for day in occurrences(rule, first, last, terms):
                found.append(Occasion(day, rule.opens, rule.closes, listing, rule.notes, miles))
    found.sort(key=lambda o: (o.day, o.opens or time.min, o.miles if o.miles is not None else 0, o.listing.name))
    return found


def link(args: MultiDict, **changes) -> str:
    """This page's address with some choices changed (page 1 again)."""
    kept = MultiDict([(k, v) for k, v in args.items(multi=True) if k in KEPT and k not in changes and k != "page"
                      and v != ""])
    for key, value in changes.items():
        if value not in (None, ""):
            kept.add(key, value)
    return url_for("directory.whats_on", **kept.to_dict(flat=False))


@bp.get("/whats-on")
@public
def whats_on():
    """Show what is on in the chosen days, near a place, filtered like search."""
    args = request.args
    when = args.get("when") or "week"
    status = 200
    problem = None
    if when not in WHEN:
        problem, when, status = _("Choose the next 7 days, this weekend or the next school holidays."), "week", 400
    terms = term_dates.calendar()
    start = today()
    span = window(when, start, terms)
    occasions: list[Occasion] = []
    place = None
    if span is None and problem is None:
        problem = _("The council has not given the school term dates for the coming holidays yet.")
    elif problem is None:
        try:
            results = get_service().search(_request(args, when))
        except SearchError as error:
            problem, status = str(error), 400
        else:
            place = results.place
            problem = results.place_error
            ids = results.ids[:MOST_LISTINGS]
            chosen = [listing for batch in listings.in_batches(ids, options=listings.CARD_LOAD) for listing in batch]
            occasions = sessions_between(chosen, span[0], span[1], terms, place)
    page = args.get("page", "1")
    page = int(page) if page.isdecimal() and 1 <= int(page) <= 1000 else 1
    pages = max(1, -(-len(occasions) // PER_PAGE))
    shown = occasions[(page - 1) * PER_PAGE: page * PER_PAGE]
    days: dict[date, list[Occasion]] = {}
    for occasion in shown:
        days.setdefault(occasion.day, []).append(occasion)
    tops, _by_code = listings.vocabulary_trees()
    return render_template(
        "directory/whats_on.html", when=when, choices=WHEN, span=span, days=days, total=len(occasions),
        page=page, pages=pages, problem=problem, place=place, args=args, link=lambda **c: link(args, **c),
        need_areas=tops[Vocabulary.NEED], features=tops[Vocabulary.ACCESSIBILITY], radii=RADII,
        sessions_of=lambda listing: in_words(listing.schedules, brief=True)), status
