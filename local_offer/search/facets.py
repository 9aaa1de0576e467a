"""Filters, counts and distances as compact numpy arrays beside the text index.

Whoosh is slow at facet counts and geographic ranges (see search/engine.py), so
every public listing's filterable facts live here: one row per listing, keyed
by listing id (never by Whoosh document number).  A filter is a boolean mask;
a count is a sum; distances to every venue at once are one vectorised
haversine.  The table is built from the database in a few bulk queries and
patched row by row as the change feed reports edits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
from sqlalchemy import select

from local_offer import geo
from local_offer.extensions import db
from local_offer.models import (
    Listing,
    ListingTerm,
    Location,
    PostcodeSector,
    Schedule,
    ServiceAtLocation,
    Term,
)
from local_offer.listings import PUBLIC_STATUSES

EARTH_MILES = 3958.7613
KINDS = ("provider", "activity", "support_service")
LEVELS = ("universal", "targeted", "specialist")
DELIVERY = ("venue", "online", "phone", "home_visit")
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
PERIODS = ("term_time", "school_holidays")
FUNDING = ("ehcp", "personal_budget", "direct_payments")
#: The review-date ordinal of a listing without one: never hidden for being overdue.
NO_REVIEW_DATE = np.iinfo(np.int32).max


@dataclass
class Record:
    """What the filters need to know about one listing."""

    id: str
    min_age: int
    max_age: int
    free: bool
    funding: set[str]
    in_area: bool
    county_wide: bool
    closed: bool
    kind: str
    level: str
    delivery: set[str]
    days: set[str]
    periods: set[str]
    terms: set[str]
    assured: int
    venues: list[tuple[float, float]] = field(default_factory=list)
    #: When the listing is due for review, as a date ordinal (NO_REVIEW_DATE when it has none).
    review_due: int = NO_REVIEW_DATE


class FacetTable:
    """Every public listing's filterable facts, as arrays."""

    def __init__(self, records: dict[str, Record], ancestors: dict[str, list[str]]):
        """Build the arrays from records; ``ancestors`` maps a term id to its parents' ids."""
        self.records = records
        self.ancestors = ancestors
        self.ids = list(records)
        self.row_of = {listing_id: row for row, listing_id in enumerate(self.ids)}
        n = len(self.ids)
        rows = [records[listing_id] for listing_id in self.ids]
        self.size = n
        self.min_age = np.fromiter((r.min_age for r in rows), dtype=np.int16, count=n)
        self.max_age = np.fromiter((r.max_age for r in rows), dtype=np.int16, count=n)
        self.assured = np.fromiter((r.assured for r in rows), dtype=np.int32, count=n)
        self.review_due = np.fromiter((r.review_due for r in rows), dtype=np.int32, count=n)
        self.free = np.fromiter((r.free for r in rows), dtype=bool, count=n)
        self.in_area = np.fromiter((r.in_area for r in rows), dtype=bool, count=n)
        self.county_wide = np.fromiter((r.county_wide for r in rows), dtype=bool, count=n)
        self.closed = np.fromiter((r.closed for r in rows), dtype=bool, count=n)
        self.has_venue = np.fromiter((bool(r.venues) for r in rows), dtype=bool, count=n)
        self.kind = {value: np.fromiter((r.kind == value for r in rows), dtype=bool, count=n) for value in KINDS}
        self.level = {value: np.fromiter((r.level == value for r in rows), dtype=bool, count=n) for value in LEVELS}
        self.funding = {value: np.fromiter((value in r.funding for r in rows), dtype=bool, count=n) for value in FUNDING}
        self.delivery = {value: np.fromiter((value in r.delivery for r in rows), dtype=bool, count=n) for value in DELIVERY}
        self.days = {value: np.fromiter((value in r.days for r in rows), dtype=bool, count=n) for value in DAYS}
        self.periods = {value: np.fromiter((value in r.periods for r in rows), dtype=bool, count=n) for value in PERIODS}
        self.terms: dict[str, np.ndarray] = {}
        for row, record in enumerate(rows):
            expanded = set(record.terms)
            for term_id in record.terms:
                expanded.update(ancestors.get(term_id, ()))
            for term_id in expanded:
                if term_id not in self.terms:
                    self.terms[term_id] = np.zeros(n, dtype=bool)
                self.terms[term_id][row] = True
        venue_rows = [(row, lat, lon) for row, r in enumerate(rows) for lat, lon in r.venues]
        self.venue_row = np.array([v[0] for v in venue_rows], dtype=np.int32)
        self.venue_lat = np.radians(np.array([v[1] for v in venue_rows], dtype=np.float64))
        self.venue_lon = np.radians(np.array([v[2] for v in venue_rows], dtype=np.float64))

    def everything(self) -> np.ndarray:
        """Return a mask selecting every listing."""
        return np.ones(self.size, dtype=bool)

    def mask_of_ids(self, ids) -> np.ndarray:
        """Return a mask selecting the given listing ids (unknown ids are ignored)."""
        mask = np.zeros(self.size, dtype=bool)
        rows = [self.row_of[i] for i in ids if i in self.row_of]
        mask[rows] = True
        return mask

    def reviewed_mask(self, cutoff: date | None) -> np.ndarray:
        """Return a mask of listings not hidden for an overdue review (due on or after the cutoff).

        ``cutoff`` is ``reviews.hidden_cutoff(today)``; None (hiding is off) selects every listing.
        """
        if cutoff is None:
            return self.everything()
        return self.review_due >= cutoff.toordinal()

    def term_mask(self, term_id: str) -> np.ndarray:
        """Return a mask of listings tagged with a term or any term below it."""
        return self.terms.get(term_id, np.zeros(self.size, dtype=bool))

    def age_mask(self, age: int) -> np.ndarray:
        """Return a mask of listings whose age range includes the age."""
        return (self.min_age <= age) & (self.max_age >= age)

    def nearest_miles(self, latitude: float, longitude: float) -> np.ndarray:
        """Return each listing's distance in miles to its nearest venue (inf without a venue)."""
        distances = np.full(self.size, np.inf)
        if self.venue_row.size:
            lat, lon = np.radians(latitude), np.radians(longitude)
            a = (np.sin((self.venue_lat - lat) / 2) ** 2
                 + np.cos(lat) * np.cos(self.venue_lat) * np.sin((self.venue_lon - lon) / 2) ** 2)
            miles = 2 * EARTH_MILES * np.arcsin(np.sqrt(a))
            np.minimum.at(distances, self.venue_row, miles)
        return distances

    def nearest_point(self, row: int, place) -> tuple[float, float] | None:
        """Return a listing's venue nearest the place (or its first venue), in degrees."""
        # Venues are stored in row order, so a listing's venues are one contiguous run.
        start, end = np.searchsorted(self.venue_row, [row, row + 1])
        venues = np.arange(start, end)
        if venues.size == 0:
            return None
        choice = venues[0]
        if place is not None and venues.size > 1:
            lat, lon = np.radians(place.latitude), np.radians(place.longitude)
            d = (self.venue_lat[venues] - lat) ** 2 + ((self.venue_lon[venues] - lon) * np.cos(lat)) ** 2
            choice = venues[int(np.argmin(d))]
        return (float(np.degrees(self.venue_lat[choice])), float(np.degrees(self.venue_lon[choice])))

    def with_changes(self, changed: dict[str, Record | None]) -> FacetTable:
        """Return a new table with some listings replaced, added or (None) removed."""
        records = dict(self.records)
        for listing_id, record in changed.items():
            if record is None:
                records.pop(listing_id, None)
            else:
                records[listing_id] = record
        return FacetTable(records, self.ancestors)


def load_records(listing_ids: list[str] | None = None) -> dict[str, Record]:
    """Read the filterable facts of public listings (all, or the given ids) in bulk queries."""
    query = select(Listing.id, Listing.min_age, Listing.max_age, Listing.is_free,
                   Listing.accepts_ehcp_funding, Listing.accepts_personal_budget,
                   Listing.accepts_direct_payments, Listing.in_area, Listing.service_area,
                   Listing.status, Listing.kind, Listing.level, Listing.delivery_methods,
                   Listing.assured_date, Listing.review_due).where(Listing.status.in_(PUBLIC_STATUSES))
    if listing_ids is not None:
        query = query.where(Listing.id.in_(listing_ids))
    records: dict[str, Record] = {}
    for row in db.session.execute(query):
        funding = {name for name, flag in zip(FUNDING, (row.accepts_ehcp_funding,
                   row.accepts_personal_budget, row.accepts_direct_payments)) if flag}
        records[row.id] = Record(
            id=row.id, min_age=row.min_age if row.min_age is not None else 0,
            max_age=row.max_age if row.max_age is not None else 25, free=bool(row.is_free),
            funding=funding, in_area=bool(row.in_area),
            county_wide=(row.service_area or "").strip().lower() in ("county-wide", "countywide"),
            closed=row.status.value == "temporarily_closed", kind=row.kind.value,
            level=row.level.value, delivery=set(row.delivery_methods or []), days=set(), periods=set(),
            terms=set(), assured=row.assured_date.toordinal() if row.assured_date else 0,
            review_due=row.review_due.toordinal() if row.review_due else NO_REVIEW_DATE)
    if not records:
        return records
    ids = list(records)
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        for listing_id, term_id in db.session.execute(
                select(ListingTerm.listing_id, ListingTerm.term_id).where(ListingTerm.listing_id.in_(chunk))):
            records[listing_id].terms.add(term_id)
        for listing_id, weekday, period in db.session.execute(
                select(Schedule.listing_id, Schedule.weekday, Schedule.period).where(Schedule.listing_id.in_(chunk))):
            record = records[listing_id]
            if weekday is not None:
                record.days.add(weekday.value)
            record.periods.update(PERIODS if period.value == "all_year" else (period.value,))
        venues = db.session.execute(
            select(ServiceAtLocation.listing_id, Location.latitude, Location.longitude,
                   Location.mask_address, Location.postcode)
            .join(Location, Location.id == ServiceAtLocation.location_id)
            .where(ServiceAtLocation.listing_id.in_(chunk))).all()
        sectors = _sector_centres({geo.sector_of(v.postcode) for v in venues if v.mask_address})
        for venue in venues:
            if venue.mask_address:
                point = sectors.get(geo.sector_of(venue.postcode))
            elif venue.latitude is not None and venue.longitude is not None:
                point = (venue.latitude, venue.longitude)
            else:
                point = None
            if point:
                records[venue.listing_id].venues.append(point)
    return records


def _sector_centres(sectors: set[str]) -> dict[str, tuple[float, float]]:
    """Return the centres of the given postcode sectors that the gazetteer knows."""
    sectors.discard("")
    if not sectors:
        return {}
    rows = db.session.execute(select(PostcodeSector.sector, PostcodeSector.latitude, PostcodeSector.longitude)
                              .where(PostcodeSector.sector.in_(sectors)))
    return {sector: (lat, lon) for sector, lat, lon in rows}


def load_ancestors() -> dict[str, list[str]]:
    """Map each term id to the ids of the terms above it (category and need trees)."""
    parents = dict(db.session.execute(select(Term.id, Term.parent_id)).all())
    ancestors = {}
    for term_id in parents:
        chain, current = [], parents.get(term_id)
        while current:
            chain.append(current)
            current = parents.get(current)
        ancestors[term_id] = chain
    return ancestors


def build_table() -> FacetTable:
    """Build the whole facet table from the database."""
    return FacetTable(load_records(), load_ancestors())


def today_ordinal() -> int:
    """Return today's date as an ordinal, for "checked recently" sorting."""
    return date.today().toordinal()
