"""Filters, counts and distances as compact numpy arrays beside the text index.

Whoosh is slow at facet counts and geographic ranges (see search/engine.py), so
every public listing's filterable facts live here: one row per listing, keyed
by listing id (never by Whoosh document number).  A filter is a boolean mask;
a count is a sum; distances to every venue at once are one vectorised
haversine.  The application hands the service the records (it reads them from
the database in a few bulk queries); the table is patched row by row as the
change feed reports edits.  Which values each filter group has (the days, the
kinds, ...) is handed in too, so nothing here knows the data model.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date

import numpy as np

EARTH_MILES = 3958.7613
#: The filter groups whose values are handed in (``FacetValues``), with the Record field each reads.
GROUPS = {"funding": "funding", "day": "days", "period": "periods", "delivery": "delivery", "kind": "kind",
          "level": "level"}
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


#: Each filter group's possible values: {"day": ("MO", ...), "kind": ("provider", ...), ...}.
FacetValues = dict[str, tuple[str, ...]]


class FacetTable:
    """Every public listing's filterable facts, as arrays."""

    def __init__(self, records: dict[str, Record], ancestors: dict[str, list[str]], values: FacetValues):
        """Build the arrays from records; ``ancestors`` maps a term id to its parents' ids."""
        self.ancestors = ancestors
        self.values = values
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
        self.has_venue = np.fromiter((bool(r.venues) for r in rows), dtype=bool, count=n)
        #: One boolean array per value of each filter group: self.groups["day"]["SA"].
        self.groups = {group: {value: np.fromiter((_has(getattr(r, field), value) for r in rows), dtype=bool, count=n)
                               for value in values[group]} for group, field in GROUPS.items()}
        self.terms: dict[str, np.ndarray] = {}
        for row, record in enumerate(rows):
            expanded = set(record.terms)
            for term_id in record.terms:
                expanded.update(ancestors.get(term_id, ()))
            for term_id in expanded:
                if term_id not in self.terms:
                    self.terms[term_id] = np.zeros(n, dtype=bool)
                self.terms[term_id][row] = True
        self._set_venues(rows)

    def _set_venues(self, rows: list[Record]) -> None:
        """Lay every venue out in row order: (row, latitude, longitude) arrays, in radians."""
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
        """Return a new table with some listings replaced, added or (None) removed.

        Only the changed rows are written, into copies of the arrays (the table
        searches are reading is never touched): the result is the table a full build
        from the records would make, in the same row order (replaced listings keep
        their rows, removed ones close up, new ones come last), without reading every
        listing again.  So the table keeps no records, and loads quickly (``shared.py``).
        """
        replaced = [(self.row_of[i], r) for i, r in changed.items() if r is not None and i in self.row_of]
        removed = [self.row_of[i] for i, r in changed.items() if r is None and i in self.row_of]
        added = {i: r for i, r in changed.items() if r is not None and i not in self.row_of}
        table = self._patched(replaced)
        if removed:
            table = table._without(removed)
        if added:
            table = table._joined(FacetTable(added, self.ancestors, self.values))
        return table

    def _patched(self, rows: list[tuple[int, Record]]) -> FacetTable:
        """Return a copy of this table with the given rows' facts replaced."""
        table = copy.copy(self)
        for name, read in COLUMNS.items():
            column = getattr(self, name).copy()
            for row, record in rows:
                column[row] = read(record)
            setattr(table, name, column)
        table.groups = {group: {value: array.copy() for value, array in arrays.items()}
                        for group, arrays in self.groups.items()}
        table.terms = {term_id: array.copy() for term_id, array in self.terms.items()}
        for row, record in rows:
            for group, field_name in GROUPS.items():
                for value, array in table.groups[group].items():
                    array[row] = _has(getattr(record, field_name), value)
            expanded = set(record.terms)
            for term_id in record.terms:
                expanded.update(self.ancestors.get(term_id, ()))
            for term_id, array in table.terms.items():
                array[row] = term_id in expanded
            for term_id in expanded - table.terms.keys():
                table.terms[term_id] = np.zeros(self.size, dtype=bool)
                table.terms[term_id][row] = True
        if rows:  # the changed rows' venues out, their new ones in, kept in row order (stable)
            changed = np.zeros(self.size, dtype=bool)
            changed[[row for row, _record in rows]] = True
            keep = ~changed[self.venue_row]
            new = [(row, lat, lon) for row, record in rows for lat, lon in record.venues]
            venue_row = np.concatenate([self.venue_row[keep], np.array([v[0] for v in new], dtype=np.int32)])
            order = np.argsort(venue_row, kind="stable")
            table.venue_row = venue_row[order]
            table.venue_lat = np.concatenate([self.venue_lat[keep], np.radians([v[1] for v in new])])[order]
            table.venue_lon = np.concatenate([self.venue_lon[keep], np.radians([v[2] for v in new])])[order]
        return table

    def _without(self, rows: list[int]) -> FacetTable:
        """Return a copy of this table without the given rows (the rest close up, in order)."""
        keep = np.ones(self.size, dtype=bool)
        keep[rows] = False
        table = copy.copy(self)
        table.ids = [listing_id for listing_id, kept in zip(self.ids, keep) if kept]
        table.row_of = {listing_id: row for row, listing_id in enumerate(table.ids)}
        table.size = len(table.ids)
        for name in COLUMNS:
            setattr(table, name, getattr(self, name)[keep])
        table.groups = {group: {value: array[keep] for value, array in arrays.items()}
                        for group, arrays in self.groups.items()}
        table.terms = {term_id: array[keep] for term_id, array in self.terms.items()}
        venues = keep[self.venue_row]
        table.venue_row = (np.cumsum(keep) - 1)[self.venue_row[venues]].astype(np.int32)
        table.venue_lat, table.venue_lon = self.venue_lat[venues], self.venue_lon[venues]
        return table

    def _joined(self, more: FacetTable) -> FacetTable:
        """Return a copy of this table with another's rows after its own."""
        table = copy.copy(self)
        table.ids = self.ids + more.ids
        table.row_of = {listing_id: row for row, listing_id in enumerate(table.ids)}
        table.size = self.size + more.size
        for name in COLUMNS:
            setattr(table, name, np.concatenate([getattr(self, name), getattr(more, name)]))
        table.groups = {group: {value: np.concatenate([array, more.groups[group][value]])
                                for value, array in arrays.items()} for group, arrays in self.groups.items()}
        table.terms = {term_id: np.concatenate([self.term_mask(term_id), more.term_mask(term_id)])
                       for term_id in self.terms.keys() | more.terms.keys()}
        table.venue_row = np.concatenate([self.venue_row, more.venue_row + self.size]).astype(np.int32)
        table.venue_lat = np.concatenate([self.venue_lat, more.venue_lat])
        table.venue_lon = np.concatenate([self.venue_lon, more.venue_lon])
        return table


#: The one-value-per-listing arrays, with how each is read from a record.
COLUMNS = {"min_age": lambda r: r.min_age, "max_age": lambda r: r.max_age, "assured": lambda r: r.assured,
           "review_due": lambda r: r.review_due, "free": lambda r: r.free, "in_area": lambda r: r.in_area,
           "has_venue": lambda r: bool(r.venues)}


def _has(field_value, value: str) -> bool:
    """Say whether a record's field (one value, or a set of them) holds the value."""
    return value in field_value if isinstance(field_value, set) else field_value == value
