"""The search façade: the only way views, commands and the API search or index.

    service = get_service()
    results = service.search(SearchRequest(text="autism swimming", where="Leek"))
    record_change(listing.id)      # in the same transaction as the edit
    service.sync()                  # after commit: index what changed

Text relevance comes from the engine (Whoosh today, in ``engine.py``); filters,
counts and distances from numpy arrays (``facets.py``); the parent's words are
read by ``understanding.py``.  The database is the source of truth: every
change is first written as a ``SearchChange`` row in the same transaction (the
outbox), then indexed; a failed index write leaves the row pending for
``sync()`` to retry, and every worker reads new rows to refresh its filters.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from flask import Flask, current_app
from sqlalchemy import func, select, update

from local_offer import geo, reviews
from local_offer.extensions import db
from local_offer.i18n import _
from local_offer.listings import PUBLIC_STATUSES, LISTING_LOAD
from local_offer.models import (
    Listing,
    SearchChange,
    SynonymGroup,
    Term,
    Vocabulary,
    utcnow,
)
from local_offer.search import engine as engine_module
from local_offer.search import facets as facets_module
from local_offer.search.understanding import concepts, understand

PAGE_PREFIX = "page:"
RADII = (1, 3, 5, 10, 20)
#: With a radius, show at least this many results, labelling those beyond it.
MINIMUM_SHOWN = 5
SORTS = ("relevance", "distance", "checked")
#: A text match this far below the best is not shown (no page of loosely related junk).
RELATIVE_SCORE_FLOOR = 0.12
FEW_RESULTS = 3
WARM_DELAY_SECONDS = 2.0
_TAGS = re.compile(r"<[^>]+>")


# --- documents ---------------------------------------------------------------------------


def listing_document(listing: Listing) -> dict:
    """Turn a listing into the fields the text index holds."""
    term_names = []
    accessibility = []
    for link in listing.listing_terms:
        names = [link.term.name] + [t.get("name", "") for t in (link.term.translations or {}).values()]
        if link.term.vocabulary is Vocabulary.ACCESSIBILITY:
            accessibility.append(f"{link.term.name} {link.details}")
        else:
            term_names.extend(names)
    body = " ".join([
        listing.summary or "", _TAGS.sub(" ", listing.description or ""), listing.eligibility or "", listing.how_to_access or "",
        " ".join(accessibility), listing.organisation.name if listing.organisation else "",
        " ".join(location.town for location in listing.locations),
    ])
    return {
        engine_module.ID_FIELD: listing.id, engine_module.TYPE: "listing",
        engine_module.NAME: listing.name, engine_module.TERMS: " ".join(term_names),
        engine_module.BODY: body,
    }


def page_document(page) -> dict:
    """Turn an information page into the fields the text index holds."""
    return {
        engine_module.ID_FIELD: PAGE_PREFIX + page.slug, engine_module.TYPE: "page",
        engine_module.NAME: page.title, engine_module.TERMS: "",
        engine_module.BODY: page.summary + " " + _TAGS.sub(" ", str(page.body)), engine_module.TITLE: page.title,
        engine_module.SLUG: page.slug,
    }


def record_change(document_id: str) -> None:
    """Note in the current transaction that a listing (or page) must be reindexed."""
    db.session.add(SearchChange(document_id=document_id))


# --- requests and results ----------------------------------------------------------------


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


@dataclass
class Hit:
    """One listing in the results, with what the page shows beside it."""

    listing: Listing
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
    place: geo.Point | None
    place_error: str | None
    age_from_text: int | None
    day_from_text: str | None
    counts: dict[str, dict[str, int]]
    information_pages: list[tuple[str, str]]
    suggestion: str | None
    relaxed: bool
    within_radius: int | None
    wider_radius: int | None
    timings: dict[str, float]
    #: Every matching listing id, in order (only when the request asked for ``ids_only``).
    ids: list[str] = field(default_factory=list)


class SearchError(ValueError):
    """The request cannot be searched as asked; the message says why."""


# --- the service -------------------------------------------------------------------------


class SearchService:
    """One per process: the engine, the facet arrays and the synonyms, kept fresh."""

    def __init__(self, folder: str | Path):
        """Point at the index folder; load everything lazily."""
        self.engine = engine_module.Engine(folder)
        self._lock = threading.RLock()
        self._table: facets_module.FacetTable | None = None
        self._last_seq = 0
        self._synonyms: list[list[str]] | None = None
        self._synonyms_stamp = None
        self._warmed_for = None
        self._warmer: threading.Thread | None = None

    # --- freshness -----------------------------------------------------------------

    def refresh(self) -> None:
        """Bring the filters up to date with changes other processes recorded (cheap when none)."""
        with self._lock:
            if self._table is None:
                self._last_seq = db.session.execute(select(func.coalesce(func.max(SearchChange.seq), 0))).scalar_one()
                self._table = facets_module.build_table()
                return
            rows = db.session.execute(select(SearchChange.seq, SearchChange.document_id)
                                      .where(SearchChange.seq > self._last_seq)
                                      .order_by(SearchChange.seq)).all()
            if not rows:
                return
            self._last_seq = rows[-1].seq
            ids = sorted({row.document_id for row in rows if not row.document_id.startswith(PAGE_PREFIX)})
            if ids:
                fresh = facets_module.load_records(ids)
                self._table = self._table.with_changes({i: fresh.get(i) for i in ids})

    def table(self) -> facets_module.FacetTable:
        """Return the current facet table."""
        self.refresh()
        return self._table

    def warm_concepts(self) -> list[list[list[str]]]:
        """Return the concepts worth scoring ahead: every synonym, and last month's top searches."""
        from local_offer.search.demand import top_searches

        groups = self.synonyms()
        wanted, seen = [], set()
        texts = [variant for group in groups for variant in group]
        texts += [words for words, _ in top_searches(days=30, limit=100)]
        for text in texts:
            for concept in concepts(understand(text).words, groups):
                key = tuple(tuple(words) for words in concept.alternatives)
                if key not in seen:
                    seen.add(key)
                    wanted.append(concept.alternatives)
        return wanted

    def _warm_if_new(self) -> None:
        """After the index changes, score the common concepts on a background thread."""
        if not current_app.config.get("SEARCH_WARM", True):
            return
        version = self.engine._version
        if version is None or version == self._warmed_for:
            return
        if self._warmer is not None and self._warmer.is_alive():
            return
        self._warmed_for = version
        wanted = self.warm_concepts()
        # A short delay: the search that noticed the change (often the publisher checking
        # their edit) runs first, without the warmer competing for the interpreter.
        self._warmer = threading.Timer(WARM_DELAY_SECONDS, self._warm, args=(current_app._get_current_object(), wanted))
        self._warmer.daemon = True
        self._warmer.name = "search-warmer"
        self._warmer.start()

    def _warm(self, app, wanted) -> None:
        """Score the common concepts, then render result cards ahead (on the warmer's thread)."""
        try:
            self.engine.warm(wanted)
            if app.config.get("CARD_PRERENDER", True):
                from local_offer.filters import prerender_cards

                prerender_cards(app)
        except Exception:  # warming is an optimisation; never let it take a worker down
            app.logger.exception("Search warming failed")

    def wait_until_warm(self, timeout: float = 600) -> None:
        """Wait for the background warming to finish (benchmarks and tests)."""
        if self._warmer is not None:
            self._warmer.join(timeout)

    def synonyms(self) -> list[list[str]]:
        """Return the synonym groups, reloaded when a coordinator has changed them."""
        stamp = db.session.execute(select(func.count(SynonymGroup.id), func.max(SynonymGroup.updated_at))).one()
        if self._synonyms is None or stamp != self._synonyms_stamp:
            self._synonyms = [list(group.terms) for group in db.session.execute(select(SynonymGroup)).scalars()]
            self._synonyms_stamp = stamp
        return self._synonyms

    # --- indexing ------------------------------------------------------------------

    def sync(self, limit: int = 5000) -> tuple[int, int]:
        """Index pending changes from the outbox; return (indexed, failed). Failures stay pending."""
        pending = db.session.execute(select(SearchChange).where(SearchChange.indexed_at.is_(None))
                                     .order_by(SearchChange.seq).limit(limit)).scalars().all()
        if not pending:
            return 0, 0
        ids = sorted({change.document_id for change in pending})
        try:
            documents, deletions = self._documents_for(ids)
            self.engine.write(documents, deletions)
        except Exception as error:  # recorded and retried, never lost
            db.session.rollback()
            db.session.execute(update(SearchChange).where(SearchChange.seq.in_([c.seq for c in pending]))
                               .values(attempts=SearchChange.attempts + 1, last_error=str(error)[:2000]))
            db.session.commit()
            current_app.logger.warning("Search index update failed; will retry: %s", error)
            return 0, len(ids)
        now = utcnow()
        db.session.execute(update(SearchChange).where(SearchChange.seq.in_([c.seq for c in pending]))
                           .values(indexed_at=now, last_error=""))
        db.session.commit()
        self.refresh()
        return len(ids), 0

    def _documents_for(self, ids: list[str]) -> tuple[list[dict], list[str]]:
        """Build documents for the ids that should be searchable and list the ones to delete."""
        from local_offer.pages.content import get_page

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

    def all_documents(self, progress=None):
        """Yield a document for every public listing and information page."""
        from local_offer.pages.content import all_pages

        ids = db.session.execute(select(Listing.id).where(Listing.status.in_(PUBLIC_STATUSES))
                                 .order_by(Listing.id)).scalars().all()
        chunks = range(0, len(ids), 500)
        for start in (progress(chunks) if progress else chunks):
            batch = db.session.execute(select(Listing).where(Listing.id.in_(ids[start:start + 500]))
                                       .options(*LISTING_LOAD)).scalars().all()
            for listing in batch:
                yield listing_document(listing)
            db.session.expunge_all()
        for page in all_pages():
            yield page_document(page)

    def rebuild(self, progress=None) -> int:
        """Rebuild the whole index into a new generation, replay changes made meanwhile, switch."""
        started_seq = db.session.execute(select(func.coalesce(func.max(SearchChange.seq), 0))).scalar_one()
        count = self.engine.rebuild(self.all_documents(progress), procs=current_app.config["SEARCH_INDEX_PROCS"])
        db.session.execute(update(SearchChange).where(SearchChange.seq <= started_seq,
                                                      SearchChange.indexed_at.is_(None))
                           .values(indexed_at=utcnow()))
        db.session.commit()
        self.sync()  # changes recorded while the rebuild ran
        with self._lock:
            self._table = None
        self.refresh()
        return count

    def ensure_index(self) -> bool:
        """Build the index if there is none; return True if it was built."""
        if self.engine.exists():
            return False
        self.rebuild()
        return True

    def check(self, repair: bool = True) -> dict[str, list[str]]:
        """Compare the index with the database; optionally queue and apply the repairs."""
        from local_offer.pages.content import all_pages

        expected = set(db.session.execute(select(Listing.id).where(Listing.status.in_(PUBLIC_STATUSES))).scalars())
        expected |= {PAGE_PREFIX + page.slug for page in all_pages()}
        indexed = self.engine.document_ids()
        report = {"missing": sorted(expected - indexed), "extra": sorted(indexed - expected)}
        if repair and (report["missing"] or report["extra"]):
            for document_id in report["missing"] + report["extra"]:
                record_change(document_id)
            db.session.commit()
            self.sync()
        return report

    # --- searching -----------------------------------------------------------------

    def is_place(self, text: str) -> bool:
        """Say whether text names a place or postcode the gazetteer knows."""
        try:
            geo.lookup(text)
            return True
        except geo.UnknownPlace:
            return False

    def search(self, request: SearchRequest) -> SearchResults:
        """Answer a search: text, place, filters, counts, sorting and one page of hits."""
        timings: dict[str, float] = {}
        started = time.perf_counter()
        table = self.table()
        understood = understand(request.text, is_place=self.is_place if not request.where and not request.near else None)
        age = request.age if request.age is not None else understood.age
        days = list(request.days) or ([understood.day] if understood.day else [])
        where = request.where or understood.place or ""

        place, place_error = None, None
        if request.near:
            place = geo.Point(request.near[0], request.near[1], "your location", "location")
        elif where:
            try:
                place = geo.lookup(where)
            except geo.UnknownPlace as error:
                place_error = str(error)
        timings["understand"] = time.perf_counter() - started

        words = understood.words
        self.engine.searcher()
        self._warm_if_new()
        text_mask, scores, matches = None, None, None
        if words:
            found = concepts(words, self.synonyms())
            matches = self.engine.match([concept.alternatives for concept in found])
            if matches.listings:
                best = max(matches.listings.values())
                kept = {i: s for i, s in matches.listings.items() if s >= best * RELATIVE_SCORE_FLOOR}
            else:
                kept = {}
            text_mask = table.mask_of_ids(kept)
            scores = np.zeros(table.size)
            for listing_id, score in kept.items():
                row = table.row_of.get(listing_id)
                if row is not None:
                    scores[row] = score
        timings["text"] = time.perf_counter() - started

        groups = self._filter_masks(table, request, age, days)
        base = text_mask if text_mask is not None else table.everything()
        # Listings long overdue for review are hidden from results and counts until confirmed.
        cutoff = reviews.hidden_cutoff(reviews.current_date())
        if cutoff is not None:
            base = base & table.reviewed_mask(cutoff)
        combined = base.copy()
        for mask in groups.values():
            combined &= mask
        counts = {} if request.ids_only else self._counts(table, request, base, groups, age, days)
        timings["filters"] = time.perf_counter() - started

        distances = table.nearest_miles(place.latitude, place.longitude) if place else None
        sort = request.sort if request.sort in SORTS else ("relevance" if words else "distance" if place else "checked")
        if sort == "distance" and place is None:
            sort = "relevance" if words else "checked"
        if sort == "relevance" and not words:
            sort = "distance" if place else "checked"

        rows = np.flatnonzero(combined)
        within_radius = wider_radius = None
        beyond = np.zeros(0, dtype=bool)
        if place is not None and request.radius:
            near = distances[rows] <= request.radius
            # Services with no venue (online, phone, county-wide) are kept and labelled.
            no_venue = ~table.has_venue[rows]
            within_radius = int((near | no_venue).sum())
            if request.strict_radius:
                rows = rows[near]
            elif within_radius < MINIMUM_SHOWN:
                order = np.argsort(distances[rows], kind="stable")
                extra = [r for r in rows[order] if not (distances[r] <= request.radius or not table.has_venue[r])]
                keep = set(rows[near | no_venue].tolist()) | set(extra[: MINIMUM_SHOWN - within_radius])
                rows = np.array(sorted(keep), dtype=np.int64)
                wider_radius = next((r for r in RADII if r > request.radius), None)
            else:
                rows = rows[near | no_venue]
            beyond = (distances[rows] > request.radius) & table.has_venue[rows]
        beyond_set = set(rows[beyond].tolist()) if beyond.size else set()

        rows = self._sorted(rows, sort, scores, distances, table)
        total = len(rows)
        if request.ids_only:
            return SearchResults(
                request=request, hits=[], total=total, page=1, pages=1, sort=sort, words=words, place=place,
                place_error=place_error, age_from_text=None, day_from_text=None, counts={},
                information_pages=[], suggestion=None, relaxed=bool(matches and matches.relaxed),
                within_radius=within_radius, wider_radius=None, timings=timings,
                ids=[table.ids[r] for r in rows])
        pages = max(1, -(-total // request.per_page))
        if request.page > pages and total:
            raise SearchError(_("There are only %(pages)s pages of results.", pages=pages))
        page_rows = rows[(request.page - 1) * request.per_page: request.page * request.per_page]
        page_ids = [table.ids[r] for r in page_rows]
        # Plain rows: the view loads relationships only for cards it has not rendered before.
        loaded = {listing.id: listing for listing in db.session.execute(
            select(Listing).where(Listing.id.in_(page_ids))).scalars()}
        hits = [Hit(loaded[table.ids[r]], float(scores[r]) if scores is not None else 0.0,
                    float(distances[r]) if distances is not None and np.isfinite(distances[r]) else None,
                    r in beyond_set, table.nearest_point(r, place))
                for r in page_rows if table.ids[r] in loaded]
        timings["page"] = time.perf_counter() - started

        suggestion = None
        if matches is not None and total < FEW_RESULTS and matches.unknown_words:
            corrected = [self.engine.suggest(word) or word for word in matches.unknown_words]
            if corrected != matches.unknown_words:
                replaced = " ".join(corrected[matches.unknown_words.index(w)] if w in matches.unknown_words else w
                                    for w in words)
                suggestion = replaced
        timings["total"] = time.perf_counter() - started
        return SearchResults(
            request=request, hits=hits, total=total, page=request.page, pages=pages, sort=sort,
            words=words, place=place, place_error=place_error,
            age_from_text=understood.age if request.age is None else None,
            day_from_text=understood.day if not request.days else None, counts=counts,
            information_pages=matches.pages[:3] if matches else [], suggestion=suggestion,
            relaxed=bool(matches and matches.relaxed), within_radius=within_radius,
            wider_radius=wider_radius, timings=timings)

    @staticmethod
    def _sorted(rows: np.ndarray, sort: str, scores, distances, table) -> np.ndarray:
        """Order result rows: by relevance (nearer breaks ties), distance, or most recently checked."""
        if rows.size == 0:
            return rows
        if sort == "relevance" and scores is not None:
            key = -scores[rows]
            if distances is not None:
                # Near the place, a close match beats a somewhat better one ten miles away
                # (relevance halves at 10 miles); services with no venue are not penalised.
                near = np.where(np.isfinite(distances[rows]), np.minimum(distances[rows], 60.0), 0.0)
                key = key / (1.0 + near / 10.0)
            return rows[np.argsort(key, kind="stable")]
        if sort == "distance" and distances is not None:
            return rows[np.argsort(distances[rows], kind="stable")]
        return rows[np.argsort(-table.assured[rows], kind="stable")]

    def _term_ids(self, vocabulary: Vocabulary, codes: list[str]) -> list[str]:
        """Return the ids of the given codes in a vocabulary, refusing unknown codes."""
        if not codes:
            return []
        found = dict(db.session.execute(select(Term.code, Term.id).where(
            Term.vocabulary == vocabulary, Term.code.in_(codes))).all())
        unknown = [code for code in codes if code not in found]
        if unknown:
            raise SearchError(_("There is no %(filter)s filter called %(value)s.", filter=vocabulary.value, value=", ".join(unknown)))
        return [found[code] for code in codes]

    def _filter_masks(self, table, request: SearchRequest, age, days) -> dict[str, np.ndarray]:
        """Build one mask per filter group the request uses (OR within a group, AND across)."""
        masks: dict[str, np.ndarray] = {}

        def any_of(arrays):
            result = np.zeros(table.size, dtype=bool)
            for array in arrays:
                result |= array
            return result

        if request.category:
            (term_id,) = self._term_ids(Vocabulary.CATEGORY, [request.category])
            masks["category"] = table.term_mask(term_id)
        if request.needs:
            masks["need"] = any_of(table.term_mask(t) for t in self._term_ids(Vocabulary.NEED, request.needs))
        if request.access:
            mask = table.everything()
            for term_id in self._term_ids(Vocabulary.ACCESSIBILITY, request.access):
                mask = mask & table.term_mask(term_id)
            masks["access"] = mask
        if age is not None:
            masks["age"] = table.age_mask(age)
        if request.free:
            masks["free"] = table.free
        if request.funding:
            masks["funding"] = any_of(table.funding[f] for f in request.funding)
        if days:
            masks["day"] = any_of(table.days[d] for d in days)
        if request.periods:
            masks["period"] = any_of(table.periods[p] for p in request.periods)
        if request.delivery:
            masks["delivery"] = any_of(table.delivery[d] for d in request.delivery)
        if request.kinds:
            masks["kind"] = any_of(table.kind[k] for k in request.kinds)
        if request.levels:
            masks["level"] = any_of(table.level[v] for v in request.levels)
        if request.area == "in":
            masks["area"] = table.in_area
        elif request.area == "out":
            masks["area"] = ~table.in_area
        return masks

    def _counts(self, table, request, base, groups, age, days) -> dict[str, dict[str, int]]:
        """Count, for each filter option, how many results choosing it would leave."""
        def base_without(group: str) -> np.ndarray:
            mask = base.copy()
            for name, other in groups.items():
                if name != group:
                    mask &= other
            return mask

        from local_offer.listings import vocabulary_trees

        counts: dict[str, dict[str, int]] = {}
        terms = [(term.id, term.code, term.vocabulary) for term in vocabulary_trees()[1].values()]
        for group, vocabulary in (("category", Vocabulary.CATEGORY), ("need", Vocabulary.NEED),
                                  ("access", Vocabulary.ACCESSIBILITY)):
            mask = base_without(group)
            counts[group] = {code: int((mask & table.term_mask(term_id)).sum())
                             for term_id, code, vocab in terms if vocab is vocabulary}
        simple = {
            "funding": table.funding, "day": table.days, "period": table.periods,
            "delivery": table.delivery, "kind": table.kind, "level": table.level,
        }
        for group, arrays in simple.items():
            mask = base_without(group)
            counts[group] = {value: int((mask & array).sum()) for value, array in arrays.items()}
        mask = base_without("free")
        counts["free"] = {"yes": int((mask & table.free).sum())}
        mask = base_without("area")
        counts["area"] = {"in": int((mask & table.in_area).sum()), "out": int((mask & ~table.in_area).sum())}
        return counts


def get_service() -> SearchService:
    """Return this app's search service."""
    return current_app.extensions["local_offer_search"]


def log_search(text: str, filters: dict, place, results: int) -> None:
    """Record a search, anonymously and without waiting, for the unmet-demand report."""
    current_app.extensions["local_offer_demand"].record(text, filters, place, results)


def init_app(app: Flask) -> None:
    """Create the app's search service over the index folder in the instance, and its demand log."""
    from local_offer.search.demand import DemandLog

    app.extensions["local_offer_search"] = SearchService(Path(app.instance_path) / "search")
    app.extensions["local_offer_demand"] = DemandLog(app)

    @app.teardown_appcontext
    def _release(exception=None):
        """Nothing to release per request: the searcher is shared and refreshed on use."""
        return None
