"""What the search package reads from the directory, handed to it when the app starts.

``local_offer.search`` imports nothing of the application; ``DirectorySources``
is the one object that tells it what to index (public listings and information
pages), each listing's facts for the filters, who may be seen (overdue reviews
hide listings), where places are (the gazetteer), the outbox of changes
(``SearchChange`` rows, written by ``models.record_change`` in the same
transaction as each edit), the synonyms and related terms coordinators keep,
what families searched for lately, and that result cards are rendered ahead
after warming.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timezone

from flask import Flask, current_app
from sqlalchemy import func, select

from local_offer import demand, geo, reviews
from local_offer.extensions import db
from local_offer.information_pages import all_pages, get_page
from local_offer.listings import cards
from local_offer.listings.queries import LISTING_LOAD, in_batches, public_ids, vocabulary_trees
from local_offer.listings.recurrence import parse_byday, parse_dates
from local_offer.models import (
    FUNDING_FLAGS,
    PUBLIC_STATUSES,
    DeliveryMethod,
    Listing,
    ListingKind,
    ListingLevel,
    ListingTerm,
    Location,
    PostcodeSector,
    RelatedTerms,
    Schedule,
    SchedulePeriod,
    SearchChange,
    ServiceAtLocation,
    SynonymGroup,
    Term,
    Vocabulary,
    Weekday,
    record_change,
)
from local_offer.postcodes import sector_of
from local_offer.search import PAGE_PREFIX, Document, Place
from local_offer.search import languages
from local_offer.search.facets import NO_REVIEW_DATE, Record

_TAGS = re.compile(r"<[^>]+>")
#: Session periods a listing can be filtered by; "all year" counts as both.
FILTER_PERIODS = tuple(period.value for period in SchedulePeriod if period is not SchedulePeriod.ALL_YEAR)
WEEKDAYS = [day.value for day in Weekday]
#: Each filter group's values, in the order the results page counts them.
FACET_VALUES = {
    "funding": tuple(FUNDING_FLAGS),
    "day": tuple(day.value for day in Weekday),
    "period": FILTER_PERIODS,
    "delivery": tuple(method.value for method in DeliveryMethod),
    "kind": tuple(kind.value for kind in ListingKind),
    "level": tuple(level.value for level in ListingLevel),
}
#: Keep each IN (...) list well under SQLite's limit on bound parameters.
CHUNK = 900


#: Vocabulary names indexed beside the English: Polish, as since the first release. Each language
#: added since reaches listings through its concept words in the synonym groups instead
#: (content/languages), so the terms field, and every listing's score, stays as it was.
INDEXED_TRANSLATIONS = frozenset({"pl"})


def listing_document(listing: Listing) -> Document:
    """Turn a listing into what the text index holds."""
    term_names = []
    accessibility = []
    for link in listing.listing_terms:
        names = [link.term.name] + [t.get("name", "") for code, t in (link.term.translations or {}).items()
                                    if code in INDEXED_TRANSLATIONS]
        if link.term.vocabulary is Vocabulary.ACCESSIBILITY:
            accessibility.append(f"{link.term.name} {link.details}")
        else:
            term_names.extend(names)
    body = " ".join([
        listing.summary or "", _TAGS.sub(" ", listing.description or ""), listing.eligibility or "",
        listing.how_to_access or "", " ".join(accessibility),
        listing.organisation.name if listing.organisation else "",
        " ".join(location.town for location in listing.locations),
    ])
    return Document(id=listing.id, kind="listing", name=listing.name, terms=" ".join(term_names), body=body)


def page_document(page) -> Document:
    """Turn an information page into what the text index holds."""
    return Document(id=PAGE_PREFIX + page.slug, kind="page", name=page.title, terms="",
                    body=page.summary + " " + _TAGS.sub(" ", str(page.body)), title=page.title, slug=page.slug)


def facet_records(listing_ids: list[str] | None = None) -> dict[str, Record]:
    """Read the filterable facts of public listings (all, or the given ids) in bulk queries."""
    query = select(Listing.id, Listing.min_age, Listing.max_age, Listing.is_free,
                   *(getattr(Listing, column) for column in FUNDING_FLAGS.values()), Listing.in_area,
                   Listing.kind, Listing.level, Listing.delivery_methods,
                   Listing.assured_date, Listing.review_due).where(Listing.status.in_(PUBLIC_STATUSES))
    if listing_ids is not None:
        query = query.where(Listing.id.in_(listing_ids))
    records: dict[str, Record] = {}
    for row in db.session.execute(query):
        records[row.id] = Record(
            id=row.id, min_age=row.min_age if row.min_age is not None else 0,
            max_age=row.max_age if row.max_age is not None else 25, free=bool(row.is_free),
            funding={code for code, column in FUNDING_FLAGS.items() if getattr(row, column)},
            in_area=bool(row.in_area), kind=row.kind.value,
            level=row.level.value, delivery=set(row.delivery_methods or []), days=set(), periods=set(),
            terms=set(), assured=row.assured_date.toordinal() if row.assured_date else 0,
            review_due=row.review_due.toordinal() if row.review_due else NO_REVIEW_DATE)
    ids = list(records)
    for start in range(0, len(ids), CHUNK):
        _add_links(records, ids[start:start + CHUNK])
    return records


def _add_links(records: dict[str, Record], chunk: list[str]) -> None:
    """Add the terms, session days and periods, and venue positions of some listings to their records."""
    for listing_id, term_id in db.session.execute(
            select(ListingTerm.listing_id, ListingTerm.term_id).where(ListingTerm.listing_id.in_(chunk))):
        records[listing_id].terms.add(term_id)
    for listing_id, weekday, byday, dates, period in db.session.execute(
            select(Schedule.listing_id, Schedule.weekday, Schedule.byday, Schedule.dates, Schedule.period)
            .where(Schedule.listing_id.in_(chunk))):
        record = records[listing_id]
        # every day its rule falls on: a monthly Saturday is a Saturday; one-off dates their weekdays
        days, _ordinals = parse_byday(byday or (weekday.value if weekday is not None else ""))
        record.days.update(day.value for day in days)
        record.days.update(WEEKDAYS[day.weekday()] for day in parse_dates(dates))
        record.periods.update(FILTER_PERIODS if period is SchedulePeriod.ALL_YEAR else (period.value,))
    venues = db.session.execute(
        select(ServiceAtLocation.listing_id, Location.latitude, Location.longitude,
               Location.mask_address, Location.postcode)
        .join(Location, Location.id == ServiceAtLocation.location_id)
        .where(ServiceAtLocation.listing_id.in_(chunk))).all()
    sectors = _sector_centres({sector_of(v.postcode) for v in venues if v.mask_address})
    for venue in venues:
        if venue.mask_address:
            point = sectors.get(sector_of(venue.postcode))
        elif venue.latitude is not None and venue.longitude is not None:
            point = (venue.latitude, venue.longitude)
        else:
            point = None
        if point:
            records[venue.listing_id].venues.append(point)


def _sector_centres(sectors: set[str]) -> dict[str, tuple[float, float]]:
    """Return the centres of the given postcode sectors that the gazetteer knows."""
    sectors.discard("")
    if not sectors:
        return {}
    rows = db.session.execute(select(PostcodeSector.sector, PostcodeSector.latitude, PostcodeSector.longitude)
                              .where(PostcodeSector.sector.in_(sectors)))
    return {sector: (lat, lon) for sector, lat, lon in rows}


class DirectorySources:
    """The directory, as the search service reads it (see ``local_offer.search.SearchSources``)."""

    facet_values = FACET_VALUES

    # --- documents and who may be seen ------------------------------------------------

    def documents(self, ids: list[str]) -> tuple[list[Document], list[str]]:
        """Return documents for the ids that should be searchable, and the ids to delete."""
        listing_ids = [i for i in ids if not i.startswith(PAGE_PREFIX)]
        listings = {listing.id: listing for listing in db.session.execute(
            select(Listing).where(Listing.id.in_(listing_ids), Listing.status.in_(PUBLIC_STATUSES))
            .options(*LISTING_LOAD)).scalars()} if listing_ids else {}
        documents, deletions = [], []
        for document_id in ids:
            if document_id.startswith(PAGE_PREFIX):
                page = get_page(document_id[len(PAGE_PREFIX):])
                (documents.append(page_document(page)) if page else deletions.append(document_id))
            elif document_id in listings:
                documents.append(listing_document(listings[document_id]))
            else:
                deletions.append(document_id)
        return documents, deletions

    def all_documents(self, progress=None) -> Iterator[Document]:
        """Yield a document for every public listing and information page."""
        for batch in in_batches(public_ids(), progress=progress, forget=True):
            yield from (listing_document(listing) for listing in batch)
        for page in all_pages():
            yield page_document(page)

    def expected_ids(self) -> set[str]:
        """Return the ids the index should hold: public listings and information pages."""
        return set(public_ids()) | {PAGE_PREFIX + page.slug for page in all_pages()}

    def load_listings(self, ids: list[str]) -> dict[str, Listing]:
        """Return plain listing rows (a card loads its relationships only when not rendered before)."""
        return {listing.id: listing for listing in db.session.execute(
            select(Listing).where(Listing.id.in_(ids))).scalars()}

    def hidden_cutoff(self) -> date | None:
        """Return the review date before which listings are hidden today, or None when hiding is off."""
        return reviews.hidden_cutoff(reviews.current_date())

    # --- facts for filters ------------------------------------------------------------

    def facet_records(self, ids: list[str] | None = None) -> dict[str, Record]:
        """Return the filterable facts of public listings: all of them, or those with these ids."""
        return facet_records(ids)

    def term_ancestors(self) -> dict[str, list[str]]:
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

    def vocabulary_terms(self) -> list[tuple[str, str, str]]:
        """Return every term as (id, code, vocabulary name), in the vocabularies' order."""
        return [(term.id, term.code, term.vocabulary.value) for term in vocabulary_trees()[1].values()]

    def term_ids(self, vocabulary: str, codes: list[str]) -> dict[str, str]:
        """Return the ids of the codes a vocabulary has, keyed by code."""
        return dict(db.session.execute(select(Term.code, Term.id).where(
            Term.vocabulary == Vocabulary(vocabulary), Term.code.in_(codes))).all())

    # --- places -----------------------------------------------------------------------

    def find_place(self, text: str) -> tuple[Place | None, str | None]:
        """Return the place a person typed, or (None, the gazetteer's message saying why not)."""
        try:
            point = geo.lookup(text)
        except geo.UnknownPlace as error:
            return None, str(error)
        return Place(point.latitude, point.longitude, point.label, point.kind), None

    # --- the outbox and change feed -----------------------------------------------------

    def last_change(self) -> int:
        """Return the sequence number of the newest recorded change (0 when there is none)."""
        return db.session.execute(select(func.coalesce(func.max(SearchChange.seq), 0))).scalar_one()

    def changes(self, after: int, fresh: bool = False) -> list[tuple[int, str, float]]:
        """Return (seq, document id, recorded at as seconds since the epoch) of every change after ``after``."""
        if fresh:
            db.session.commit()  # end the caller's transaction: SQLite would otherwise read its old snapshot
        return [(seq, document_id, changed_at.timestamp()) for seq, document_id, changed_at in db.session.execute(
            select(SearchChange.seq, SearchChange.document_id, SearchChange.changed_at)
            .where(SearchChange.seq > after).order_by(SearchChange.seq)).all()]

    def settled_change(self, before: float) -> int:
        """Return the newest change recorded before ``before`` (seconds since the epoch), or 0."""
        moment = datetime.fromtimestamp(before, timezone.utc)
        return db.session.execute(select(func.coalesce(func.max(SearchChange.seq), 0))
                                  .where(SearchChange.changed_at < moment)).scalar_one()

    def legacy_indexed_through(self) -> int:
        """Return the change before the oldest one not marked indexed (indexes written before cursors)."""
        oldest = db.session.execute(select(func.min(SearchChange.seq))
                                    .where(SearchChange.indexed_at.is_(None))).scalar_one()
        return self.last_change() if oldest is None else oldest - 1

    def record_changes(self, ids: list[str]) -> None:
        """Record changes for these ids, so the next sync reindexes them."""
        for document_id in ids:
            record_change(document_id)
        db.session.commit()

    # --- words -----------------------------------------------------------------------

    def synonyms_stamp(self) -> object:
        """Return the groups' count and latest change: it moves whenever a coordinator edits them."""
        return tuple(db.session.execute(select(func.count(SynonymGroup.id), func.max(SynonymGroup.updated_at))).one())

    def synonym_groups(self) -> list[list[str]]:
        """Return every synonym group."""
        return [list(group.terms) for group in db.session.execute(select(SynonymGroup)).scalars()]

    def language_books(self) -> dict:
        """Return each language's search words (``content/languages``), read again when a file changes."""
        return languages.books(current_app.config["CONTENT_PATH"])

    def related_stamp(self) -> object:
        """Return the related terms' count and latest change: it moves whenever a coordinator edits them."""
        return tuple(db.session.execute(select(func.count(RelatedTerms.id), func.max(RelatedTerms.updated_at))).one())

    def content_stamp(self) -> object:
        """Return the newest change and the words' counts and latest edits, in one query."""
        return tuple(db.session.execute(select(
            select(func.max(SearchChange.seq)).scalar_subquery(),
            select(func.count(SynonymGroup.id)).scalar_subquery(),
            select(func.max(SynonymGroup.updated_at)).scalar_subquery(),
            select(func.count(RelatedTerms.id)).scalar_subquery(),
            select(func.max(RelatedTerms.updated_at)).scalar_subquery())).one())

    def related_terms(self) -> list[tuple[list[str], list[str]]]:
        """Return every related-terms entry as (what families say, the words to look for)."""
        return [(list(entry.phrases), list(entry.terms))
                for entry in db.session.execute(select(RelatedTerms).order_by(RelatedTerms.created_at,
                                                                               RelatedTerms.id)).scalars()]

    def popular_searches(self, days: int, limit: int) -> list[str]:
        """Return the words of the commonest searches of the last ``days`` days."""
        return [words for words, _count in demand.top_searches(days=days, limit=limit)]

    # --- after warming -----------------------------------------------------------------

    def generation_changed(self) -> None:
        """Drop the rendered result cards: bulk changes (a rebuild follows them) need not bump listing versions."""
        cards.forget_cards()

    def after_warm(self, app: Flask) -> None:
        """Render the cards of the most recently checked listings ahead of searches (at start-up, after requests)."""
        from local_offer import warmup

        cards.prerender_cards(app, pause=lambda: warmup.pause(app))
