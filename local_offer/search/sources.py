"""What the search package is handed when the app starts: its documents, facts and change feed.

Nothing in ``search/`` imports the rest of Local Offer.  The application gives
the service one object that satisfies ``SearchSources`` (see
``local_offer.search_sources``): the documents to index, each listing's facts
for the filters, who may be seen, the outbox of changes, the synonyms, the
gazetteer, and what to do once the index has been warmed.  Tests can hand in
another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from flask import Flask

from local_offer.search.facets import FacetValues, Record

#: Information pages are indexed beside listings under this prefix: "page:short-breaks".
PAGE_PREFIX = "page:"

Progress = Callable[[Iterable], Iterable]


@dataclass(frozen=True)
class Document:
    """What the text index holds for one listing or information page."""

    #: A listing's id, or PAGE_PREFIX + an information page's slug.
    id: str
    #: "listing" or "page": pages are shown beside listings, not among them.
    kind: str
    name: str
    #: Vocabulary names (categories and needs, in every language).
    terms: str
    body: str
    #: Shown for information pages only.
    title: str = ""
    slug: str = ""


@dataclass(frozen=True)
class Place:
    """Where a search is centred: what the person typed, found, or their own location."""

    latitude: float
    longitude: float
    #: What was found, written properly ("ST16 2AD", "Leek", "your location").
    label: str
    #: postcode, sector, outward, place or location.
    kind: str


class SearchSources(Protocol):
    """Everything the search service reads from the application (one object, given at start-up)."""

    #: Each filter group's values, in the order counts are shown.
    facet_values: FacetValues

    # --- documents and who may be seen ------------------------------------------------

    def documents(self, ids: list[str]) -> tuple[list[Document], list[str]]:
        """Return documents for the ids that should be searchable, and the ids to delete."""

    def all_documents(self, progress: Progress | None = None) -> Iterator[Document]:
        """Yield a document for every public listing and information page."""

    def expected_ids(self) -> set[str]:
        """Return the ids the index should hold: public listings and information pages."""

    def load_listings(self, ids: list[str]) -> dict[str, object]:
        """Return the listings with these ids (for a page of hits), keyed by id."""

    def hidden_cutoff(self) -> date | None:
        """Return the review date before which listings are hidden today, or None when hiding is off."""

    # --- facts for filters ------------------------------------------------------------

    def facet_records(self, ids: list[str] | None = None) -> dict[str, Record]:
        """Return the filterable facts of public listings: all of them, or those with these ids."""

    def term_ancestors(self) -> dict[str, list[str]]:
        """Map each vocabulary term id to the ids of the terms above it."""

    def vocabulary_terms(self) -> list[tuple[str, str, str]]:
        """Return every term as (id, code, vocabulary name), for the filter counts."""

    def term_ids(self, vocabulary: str, codes: list[str]) -> dict[str, str]:
        """Return the ids of the codes a vocabulary has, keyed by code (unknown codes are left out)."""

    # --- places -----------------------------------------------------------------------

    def find_place(self, text: str) -> tuple[Place | None, str | None]:
        """Return the place a person typed, or (None, a message saying why it was not found)."""

    # --- the outbox and change feed -----------------------------------------------------

    def last_change(self) -> int:
        """Return the sequence number of the newest recorded change (0 when there is none)."""

    def changes(self, after: int, fresh: bool = False) -> list[tuple[int, str, float]]:
        """Return (seq, document id, recorded at in seconds since the epoch) of every change after ``after``.

        Oldest first.  With ``fresh``, read in a new transaction, so it sees every change
        committed before the call.
        """

    def settled_change(self, before: float) -> int:
        """Return the newest change recorded before ``before`` (seconds since the epoch), or 0."""

    def legacy_indexed_through(self) -> int:
        """Return the change an index written before cursors holds everything up to (from the outbox's marks)."""

    def record_changes(self, ids: list[str]) -> None:
        """Record changes for these ids, so the next sync reindexes them (and commit)."""

    # --- words -----------------------------------------------------------------------

    def synonyms_stamp(self) -> object:
        """Return something that changes whenever a synonym group does."""

    def synonym_groups(self) -> list[list[str]]:
        """Return every synonym group: each a list of ways of saying one thing."""

    def language_books(self) -> dict:
        """Return each language's search words by language code (``search.languages.Book``)."""

    def related_stamp(self) -> object:
        """Return something that changes whenever a related-terms entry is added, changed or removed."""

    def content_stamp(self) -> object:
        """Return something that changes whenever a change is recorded or the words change (one cheap read).

        Pages kept as rendered are keyed by it (with the index version), so it is read on every
        request they answer; an application may answer it in one query.
        """
        return self.last_change(), self.synonyms_stamp(), self.related_stamp()

    def related_terms(self) -> list[tuple[list[str], list[str]]]:
        """Return every related-terms entry as (phrases, terms).

        The phrases are the everyday ways families say something ("being bullied", "no
        friends"); the terms are the service words that help with it ("anti-bullying",
        "mentoring"), not synonyms: search may use them as extra, lower-weighted alternatives
        when a query matches one of the phrases.  Both lists are cleaned, without repeats.
        """

    def popular_searches(self, days: int, limit: int) -> list[str]:
        """Return the words of the commonest searches of the last ``days`` days."""

    # --- after warming -----------------------------------------------------------------

    def generation_changed(self) -> None:
        """Forget what this process cached from the previous index generation (a rebuild, after bulk changes)."""

    def after_warm(self, app: Flask) -> None:
        """Do what should follow warming the index (render result cards ahead), on the warmer's thread."""
