"""What a search asks for and what it answers: the requests, hits and results the façade speaks in."""

from __future__ import annotations

from dataclasses import dataclass, field

from local_offer.search.sources import Place

#: The radius choices a results page offers, in miles.
RADII = (1, 3, 5, 10, 20)
SORTS = ("relevance", "distance", "checked")


@dataclass
class SearchRequest:
    """Everything a search can ask for; built from a query string or the API."""

    text: str = ""
    where: str = ""
    near: tuple[float, float] | None = None
    category: str | None = None
    needs: list[str] = field(default_factory=list)
    age: int | None = None
    free: bool = False
    funding: list[str] = field(default_factory=list)
    days: list[str] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)
    delivery: list[str] = field(default_factory=list)
    access: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    area: str | None = None
    radius: int | None = None
    sort: str | None = None
    page: int = 1
    per_page: int = 20
    #: True for the API's strict proximity: drop everything beyond the radius.
    strict_radius: bool = False
    #: True for the API: return every matching id in order (``SearchResults.ids``), load no rows.
    ids_only: bool = False
    #: The language of the page the search was typed on ("pl"): its words are read first.
    language: str | None = None


@dataclass
class Hit:
    """One listing in the results, with what the page shows beside it."""

    #: The listing row, loaded for the page of results.
    listing: object
    score: float
    miles: float | None
    beyond_radius: bool = False
    #: Where to put it on a map: its nearest venue's public point (a sector centre if masked).
    point: tuple[float, float] | None = None


@dataclass
class SearchResults:
    """A page of results and everything needed to show and refine it."""

    request: SearchRequest
    hits: list[Hit]
    total: int
    page: int
    pages: int
    sort: str
    words: list[str]
    place: Place | None
    place_error: str | None
    #: What the search took from the words (place, ages, days, time of year, cost), to show as tags.
    guesses: list
    counts: dict[str, dict[str, int]]
    information_pages: list[tuple[str, str]]
    suggestion: str | None
    relaxed: bool
    within_radius: int | None
    wider_radius: int | None
    timings: dict[str, float]
    #: Every matching listing id, in order (only when the request asked for ``ids_only``).
    ids: list[str] = field(default_factory=list)
    #: The words searched for as typed (accents kept), for headings: "zajęcia", not "zajecia".
    said: list[str] = field(default_factory=list)


class SearchError(ValueError):
    """The request cannot be searched as asked; the message says why."""
