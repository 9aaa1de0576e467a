"""Reading the directory: which listings families may see, by category, in pages and in batches.

Views, exports and the search index call these functions rather than building
queries themselves, so the rule "only published (or temporarily closed)
listings are public, and long-overdue ones are not listed" lives in one place.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from local_offer import reviews
from local_offer.extensions import db
from local_offer.models import (
    OPEN_REVISIONS,
    AuditEvent,
    ListingStatus,
    User,
    PUBLIC_STATUSES,
    Organisation,
    Listing,
    ListingRevision,
    ListingTerm,
    RevisionStatus,
    ServiceAtLocation,
    Term,
    Vocabulary,
)

#: How many listings are loaded at once when going through all of them.
BATCH_SIZE = 500

#: What a result card shows: less than a listing page needs.
CARD_LOAD = (
    selectinload(Listing.organisation),
    selectinload(Listing.listing_terms).selectinload(ListingTerm.term),
    selectinload(Listing.service_at_locations).selectinload(ServiceAtLocation.location),
    selectinload(Listing.schedules),
    selectinload(Listing.cost_options),
)
#: Loaded with a listing page: the card's relationships and the contacts.
LISTING_LOAD = CARD_LOAD + (selectinload(Listing.contacts),)


@dataclass
class Page:
    """One page of listings and what is needed to link to the others."""

    items: list[Listing]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """Return how many pages there are (at least one)."""
        return max(1, -(-self.total // self.per_page))


def public_listings() -> Select:
    """Return a query for the listings families may see."""
    return select(Listing).where(Listing.status.in_(PUBLIC_STATUSES))


def get_public_listing(listing_id: str) -> Listing | None:
    """Return a listing families may see, with everything its page shows, or None."""
    query = public_listings().where(Listing.id == listing_id).options(*LISTING_LOAD)
    return db.session.execute(query).scalar_one_or_none()


def top_categories() -> list[Term]:
    """Return the main categories, in their set order."""
    query = (
        select(Term)
        .where(Term.vocabulary == Vocabulary.CATEGORY, Term.parent_id.is_(None))
        .order_by(Term.position, Term.name)
        .options(selectinload(Term.children))
    )
    return list(db.session.execute(query).scalars())


@dataclass
class VocabularyTerm:
    """A vocabulary term as the filters show it: a plain copy, safe to keep between requests."""

    id: str
    code: str
    name: str
    description: str
    translations: dict
    vocabulary: Vocabulary
    children: list[VocabularyTerm]

    def label(self, locale: str, field: str = "name") -> str:
        """Return the name (or description) in the given language, else English."""
        return Term.label(self, locale, field)


_vocabulary_cache: dict[str, tuple[float, tuple]] = {}


def vocabulary_trees() -> tuple[dict[Vocabulary, list[VocabularyTerm]], dict[str, VocabularyTerm]]:
    """Return each vocabulary's top-level terms (children attached) and every term by code.

    Kept for VOCABULARY_CACHE_SECONDS (30 by default) per process: results pages show the
    whole vocabulary on every request, and coordinators change it rarely.
    """
    ttl = current_app.config.get("VOCABULARY_CACHE_SECONDS", 30)
    key = str(db.engine.url)
    cached = _vocabulary_cache.get(key)
    if cached and ttl and time.monotonic() - cached[0] < ttl:
        return cached[1]
    rows = db.session.execute(select(Term.id, Term.code, Term.name, Term.description, Term.translations,
                                     Term.vocabulary, Term.parent_id)
                              .order_by(Term.position, Term.name)).all()
    by_id = {row.id: VocabularyTerm(row.id, row.code, row.name, row.description, row.translations or {},
                                    row.vocabulary, []) for row in rows}
    tops: dict[Vocabulary, list[VocabularyTerm]] = {vocabulary: [] for vocabulary in Vocabulary}
    for row in rows:
        if row.parent_id is None:
            tops[row.vocabulary].append(by_id[row.id])
        elif row.parent_id in by_id:
            by_id[row.parent_id].children.append(by_id[row.id])
    result = (tops, {term.code: term for term in by_id.values()})
    stamp = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()[:16]
    _vocabulary_cache[key] = (time.monotonic(), result, stamp)
    return result


def vocabulary_stamp() -> str:
    """Return a digest of the vocabularies as ``vocabulary_trees`` has them: it moves when a coordinator edits one."""
    vocabulary_trees()
    return _vocabulary_cache[str(db.engine.url)][2]


def get_category(code: str) -> Term | None:
    """Return the category with this code, or None."""
    query = select(Term).where(Term.vocabulary == Vocabulary.CATEGORY, Term.code == code)
    return db.session.execute(query).scalar_one_or_none()


def descendant_ids(term: Term) -> list[str]:
    """Return the ids of a term and every term below it."""
    ids, frontier = [term.id], [term]
    while frontier:
        children = [child for parent in frontier for child in parent.children]
        ids.extend(child.id for child in children)
        frontier = children
    return ids


def paginate(query: Select, page: int, per_page: int) -> Page:
    """Run a listings query for one page, ordered by name."""
    total = db.session.execute(
        select(func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()
    items = db.session.execute(
        query.order_by(Listing.name, Listing.id)
        .options(*LISTING_LOAD)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).scalars().all()
    return Page(items=list(items), total=total, page=page, per_page=per_page)


def listed_listings() -> Select:
    """Return a query for the public listings that lists show: not hidden for an overdue review.

    The listing page itself uses ``get_public_listing``, so bookmarks keep working.
    """
    query = public_listings()
    cutoff = reviews.hidden_cutoff(reviews.current_date())
    if cutoff is not None:
        query = query.where(or_(Listing.review_due.is_(None), Listing.review_due >= cutoff))
    return query


def listings_in_category(term: Term, page: int, per_page: int) -> Page:
    """Return a page of public listings in a category or any category below it (hidden ones left out)."""
    in_category = select(ListingTerm.listing_id).where(ListingTerm.term_id.in_(descendant_ids(term)))
    return paginate(listed_listings().where(Listing.id.in_(in_category)), page, per_page)


def public_ids(order_by=Listing.id, limit: int | None = None, ours_only: bool = False) -> list[str]:
    """Return the ids of every public listing, in the given order (by id unless asked otherwise).

    ``ours_only`` leaves out neighbours' services pulled from their feeds (exports and the API do).
    """
    query = select(Listing.id).where(Listing.status.in_(PUBLIC_STATUSES)).order_by(order_by)
    if ours_only:
        query = query.where(Listing.feed_id.is_(None))
    return list(db.session.execute(query.limit(limit) if limit else query).scalars())


def in_batches(ids: list[str], options=LISTING_LOAD, progress: Callable[[Iterable], Iterable] | None = None,
               forget: bool = False) -> Iterator[list[Listing]]:
    """Yield the listings with these ids, a batch at a time, in the order of ``ids``, with ``options`` loaded.

    With ``forget`` each batch is dropped from the session once the caller has
    finished with it, so going through 50,000 listings needs the memory of one batch.
    """
    chunks = range(0, len(ids), BATCH_SIZE)
    for start in (progress(chunks) if progress else chunks):
        chunk = ids[start:start + BATCH_SIZE]
        found = {listing.id: listing for listing in db.session.execute(
            select(Listing).where(Listing.id.in_(chunk)).options(*options)).scalars()}
        yield [found[identifier] for identifier in chunk if identifier in found]
        if forget:
            db.session.expunge_all()


def count_waiting_changes() -> int:
    """Return how many changes wait for a coordinator's checks."""
    return db.session.execute(select(func.count()).select_from(ListingRevision)
                              .where(ListingRevision.status == RevisionStatus.PENDING)).scalar_one()


def organisation_listings(organisation_ids: list[str]) -> list[tuple[Listing, ListingRevision | None]]:
    """Return an organisation's listings, by name, each with the change open beside it (or None)."""
    listings = db.session.execute(
        select(Listing).where(Listing.organisation_id.in_(organisation_ids))
        .options(selectinload(Listing.organisation)).order_by(Listing.name)).scalars().all()
    open_revisions = {revision.listing_id: revision for revision in db.session.execute(
        select(ListingRevision).where(ListingRevision.listing_id.in_([listing.id for listing in listings]),
                                      ListingRevision.status.in_(OPEN_REVISIONS))).scalars()}
    return [(listing, open_revisions.get(listing.id)) for listing in listings]


def all_organisations() -> list[Organisation]:
    """Return every organisation, by name."""
    return list(db.session.execute(select(Organisation).order_by(Organisation.name)).scalars())


def waiting_changes() -> list[ListingRevision]:
    """Return new listings and changes waiting for checks, oldest first."""
    return list(db.session.execute(
        select(ListingRevision).where(ListingRevision.status == RevisionStatus.PENDING)
        .options(selectinload(ListingRevision.listing).selectinload(Listing.organisation),
                 selectinload(ListingRevision.created_by))
        .order_by(ListingRevision.submitted_at, ListingRevision.created_at)).scalars())


def find_listings(words: str, status: str, limit: int = 50) -> list[Listing]:
    """Find listings in any state by their or their organisation's name, and by status when it is one."""
    query = select(Listing).options(selectinload(Listing.organisation)).order_by(Listing.name).limit(limit)
    if words:
        like = f"%{words.lower()}%"
        query = query.join(Organisation).where(or_(func.lower(Listing.name).like(like),
                                                   func.lower(Organisation.name).like(like)))
    if status in {item.value for item in ListingStatus}:
        query = query.where(Listing.status == ListingStatus(status))
    return list(db.session.execute(query).scalars())


def listing_history(listing_id: str) -> tuple[list[AuditEvent], list[ListingRevision], dict[str, str]]:
    """Return a listing's audit events and changes, newest first, and the names of the people in them."""
    events = db.session.execute(select(AuditEvent).where(AuditEvent.entity_type == "listing",
                                                         AuditEvent.entity_id == listing_id)
                                .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())).scalars().all()
    revisions = db.session.execute(select(ListingRevision).where(ListingRevision.listing_id == listing_id)
                                   .order_by(ListingRevision.created_at.desc())).scalars().all()
    names = {user.id: user.name or user.email for user in db.session.execute(
        select(User).where(User.id.in_({event.actor_id for event in events if event.actor_id}))).scalars()}
    return list(events), list(revisions), names


def latest_revision(listing_id: str) -> ListingRevision | None:
    """Return a listing's most recent change, in any state, or None."""
    return db.session.execute(select(ListingRevision).where(ListingRevision.listing_id == listing_id)
                              .order_by(ListingRevision.created_at.desc())).scalars().first()
