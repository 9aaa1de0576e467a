"""Reading the directory: which listings families may see, by category and by words.

Views call these functions rather than building queries themselves, so the
rule "only published (or temporarily closed) listings are public" lives in
one place.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from local_offer.extensions import db
from local_offer.models import (
    Listing,
    ListingStatus,
    ListingTerm,
    ServiceAtLocation,
    Term,
    Vocabulary,
)

PUBLIC_STATUSES = (ListingStatus.PUBLISHED, ListingStatus.TEMPORARILY_CLOSED)

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


def top_terms(vocabulary: Vocabulary) -> list[Term]:
    """Return a vocabulary's top-level terms with their children, in order."""
    query = (
        select(Term)
        .where(Term.vocabulary == vocabulary, Term.parent_id.is_(None))
        .order_by(Term.position, Term.name)
        .options(selectinload(Term.children))
    )
    return list(db.session.execute(query).scalars())


def all_terms() -> list[Term]:
    """Return every vocabulary term."""
    return list(db.session.execute(select(Term)).scalars())


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
    _vocabulary_cache[key] = (time.monotonic(), result)
    return result


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
    from local_offer import reviews

    query = public_listings()
    cutoff = reviews.hidden_cutoff(reviews.current_date())
    if cutoff is not None:
        query = query.where(or_(Listing.review_due.is_(None), Listing.review_due >= cutoff))
    return query


def listings_in_category(term: Term, page: int, per_page: int) -> Page:
    """Return a page of public listings in a category or any category below it (hidden ones left out)."""
    in_category = select(ListingTerm.listing_id).where(ListingTerm.term_id.in_(descendant_ids(term)))
    return paginate(listed_listings().where(Listing.id.in_(in_category)), page, per_page)
