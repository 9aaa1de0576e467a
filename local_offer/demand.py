"""What families look for: an anonymous log of searches, for the unmet-demand report.

Each search is recorded with its words (after removing anything that looks
like an email address, phone number, postcode or long number), its filters,
the outward code only of a postcode (or the town typed) and how many results
it found: no IP address, no cookie, nothing that identifies a person.  Each row
also keeps what the search was for as vocabulary concepts ("need:autism",
"activity:holiday-clubs", read from the filters chosen and from the words), an
age band and the outward code of the place: the unmet-demand report
(``demand_report``) is built from those, never from the words.

Searches never wait for the database: rows go onto an in-memory queue that a
background thread writes in batches.  ``flask demand prune`` (daily from cron)
folds rows older than the retention period (90 days by default) into daily
counts (by words, for search warm-up; and by concept, age band and area, for
the report) and deletes them.
"""

from __future__ import annotations

import math
import queue
import re
import threading
from datetime import datetime, timedelta, timezone

from flask import Flask, current_app
from sqlalchemy import delete, func, insert, select

from local_offer import geo
from local_offer.extensions import db
from local_offer.models import (
    OutwardCode,
    SearchDemand,
    SearchDemandArea,
    SearchLog,
    SynonymGroup,
    Term,
    Vocabulary,
)
from local_offer.postcodes import parse_postcode
from local_offer.search.understanding import GENERIC_ALONE, STOPWORDS, understand, words_of

_EMAIL = re.compile(r"\S+@\S+")
_PHONE = re.compile(r"(?:\+?\d[\d\s()-]{6,}\d)")
_POSTCODE = re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]?\s*[0-9][A-Z]{2}\b", re.IGNORECASE)
_OUTWARD = re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]?\b(?=\s|$)", re.IGNORECASE)
_LONG_NUMBER = re.compile(r"\d{4,}")


def scrub(text: str) -> str:
    """Remove email addresses, phone numbers, postcodes and long numbers from search words."""
    cleaned = _EMAIL.sub(" ", text or "")
    cleaned = _POSTCODE.sub(" ", cleaned)
    cleaned = _PHONE.sub(" ", cleaned)
    cleaned = _LONG_NUMBER.sub(" ", cleaned)
    cleaned = " ".join(word for word in cleaned.split() if not (_OUTWARD.fullmatch(word) and any(c.isdigit() for c in word)))
    return cleaned.lower()[:200]


def place_for_log(point: geo.Point | None) -> str:
    """Return what may be kept of a place: a town's name, or only a postcode's outward code."""
    if point is None or point.kind == "location":
        return ""
    if point.kind in ("postcode", "sector", "outward"):
        return point.label.split(" ")[0]
    return point.label[:100]


#: The age bands searches are counted in (inclusive, in years).
AGE_BANDS = (("0-4", 0, 4), ("5-10", 5, 10), ("11-15", 11, 15), ("16-18", 16, 18), ("19-25", 19, 25))
#: A search that found this many results or fewer (but some) counts as finding few.
FEW_RESULTS = 3
#: How far a town may be from the centre of the outward code it is counted in.
TOWN_KM = 12.0
#: The queued row's key for a town's position (used to find its outward code, never stored).
_NEAR = "_near"
#: The vocabularies searches are counted under, and the prefix each concept gets.
CONCEPT_PREFIX = {Vocabulary.NEED: "need", Vocabulary.CATEGORY: "activity"}


def age_band(youngest: int | None, oldest: int | None = None) -> str:
    """Return the band an age (or the band most of a range of ages) falls in: 12 -> "11-15"; "" for none."""
    if youngest is None:
        return ""
    oldest = youngest if oldest is None else oldest
    best, overlap = "", 0
    for name, low, high in AGE_BANDS:
        shared = min(high, oldest) - max(low, youngest) + 1
        if shared > overlap:
            best, overlap = name, shared
    return best


def _singular(word: str) -> str:
    """Fold a plural to its singular for matching ("playschemes" -> "playscheme")."""
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _phrase_key(text: str) -> tuple[str, ...]:
    """Return the words of a name or phrase that count for matching: folded, singular, no stop words."""
    return tuple(_singular(word) for word in words_of(text) if word not in STOPWORDS)


class ConceptTable:
    """Every way of saying a need or activity (term names, their parts, their synonyms) -> its concepts."""

    def __init__(self, terms, groups):
        """Build the table from (vocabulary, code, name, parent code) rows and the synonym groups."""
        self.codes = {"need": set(), "activity": set()}
        self.phrases: dict[tuple[str, ...], set[str]] = {}
        parents = {}
        for vocabulary, code, name, parent in terms:
            prefix = CONCEPT_PREFIX[vocabulary]
            self.codes[prefix].add(code)
            concept = f"{prefix}:{code}"
            parents[concept] = f"{prefix}:{parent}" if parent else None
            whole = _phrase_key(name)
            parts = [whole, _phrase_key(code.replace("-", " "))]
            parts += [_phrase_key(part) for part in re.split(r",|\band\b|\(|\)", name)]
            for key in parts:
                # A generic part of a longer name ("groups" of "Youth clubs and groups") says too little.
                if key and (key == whole or len(key) > 1 or key[0] not in GENERIC_ALONE):
                    self.phrases.setdefault(key, set()).add(concept)
        for group in groups:
            keys = [key for key in (_phrase_key(item) for item in group) if key]
            found = set().union(*(self.phrases.get(key, set()) for key in keys)) if keys else set()
            for key in keys:
                if found:
                    self.phrases.setdefault(key, set()).update(found)
        for key, concepts in self.phrases.items():
            # The most specific wins: "short breaks" is the short-breaks term, not all of social care.
            above = {parents.get(concept) for concept in concepts}
            above |= {parents.get(parent) for parent in above if parent}
            self.phrases[key] = {concept for concept in concepts if concept not in above}
        self.longest = max((len(key) for key in self.phrases), default=1)

    def match(self, words: list[str]) -> list[str]:
        """Return the concepts the words name, longest phrases first, each once, in the order said."""
        words = [_singular(word) for word in words]
        found, index = [], 0
        while index < len(words):
            for length in range(min(self.longest, len(words) - index), 0, -1):
                key = tuple(words[index:index + length])
                if key in self.phrases:
                    found += sorted(concept for concept in self.phrases[key] if concept not in found)
                    index += length
                    break
            else:
                index += 1
        return found


_tables: dict[str, tuple[tuple, ConceptTable]] = {}
_tables_lock = threading.Lock()


def concept_table() -> ConceptTable:
    """Return the vocabularies' phrase table, built again only when terms or synonyms have changed.

    The terms (a few hundred short rows) and synonym groups are read each time the
    writer asks, once per batch of searches, never once per search; the table of
    phrases is rebuilt only when what was read differs from last time, so a renamed
    term counts from the next batch.
    """
    codes = dict(db.session.execute(select(Term.id, Term.code)).all())
    terms = [(vocabulary, code, name, codes.get(parent)) for vocabulary, code, name, parent in db.session.execute(
        select(Term.vocabulary, Term.code, Term.name, Term.parent_id)
        .where(Term.vocabulary.in_(list(CONCEPT_PREFIX))).order_by(Term.vocabulary, Term.position, Term.code)).all()]
    groups = [list(terms_ or []) for terms_ in db.session.execute(
        select(SynonymGroup.terms).order_by(SynonymGroup.id)).scalars()]
    stamp = hash((tuple(terms), tuple(tuple(group) for group in groups)))
    key = str(db.engine.url)
    cached = _tables.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    table = ConceptTable(terms, groups)
    with _tables_lock:
        _tables[key] = (stamp, table)
    return table


def _values(filters: dict, name: str) -> list[str]:
    """Return a filter's values as strings, whether it was kept as a list or a single value."""
    value = (filters or {}).get(name) or []
    return [str(item) for item in (value if isinstance(value, (list, tuple)) else [value])]


def read_concepts(words: str, filters: dict, table: ConceptTable | None = None) -> tuple[list[str], str]:
    """Return the concepts a search was for (filters chosen, then words) and its age band; never the words."""
    table = table or concept_table()
    found = [f"need:{code}" for code in _values(filters, "need") if code in table.codes["need"]]
    found += [f"activity:{code}" for code in _values(filters, "category") if code in table.codes["activity"]]
    understood = understand(words or "")
    found += [concept for concept in table.match(understood.words) if concept not in found]
    band = ""
    for value in _values(filters, "age"):
        if value.strip().isdecimal() and 0 <= int(value) <= 25:
            band = age_band(int(value))
            break
    if not band and understood.ages:
        band = age_band(*understood.ages)
    return list(dict.fromkeys(found)), band


_outwards: dict[tuple, list[tuple[str, float, float]]] = {}


def nearest_outward(latitude: float, longitude: float) -> str:
    """Return the outward code whose centre is nearest a point (within a town's reach), or ""."""
    count = db.session.execute(select(func.count(OutwardCode.outward))).scalar_one()
    key = (str(db.engine.url), count)
    if key not in _outwards:
        _outwards[key] = [tuple(row) for row in db.session.execute(
            select(OutwardCode.outward, OutwardCode.latitude, OutwardCode.longitude).order_by(OutwardCode.outward))]
    best, distance = "", TOWN_KM
    scale = math.cos(math.radians(latitude))
    for outward, lat, lng in _outwards[key]:
        km = 111.2 * math.hypot(lat - latitude, (lng - longitude) * scale)
        if km < distance:
            best, distance = outward, km
    return best


def area_of_place(place: str | None, cache: dict[str, str] | None = None) -> str:
    """Return the outward code of a kept place: a postcode's own, or the one a town is in; "" for none."""
    place = (place or "").strip()
    if not place:
        return ""
    if cache is not None and place in cache:
        return cache[place]
    parsed = parse_postcode(place)
    if parsed:
        area = parsed[1].split(" ")[0]
    else:
        try:
            point = geo.lookup_place(place)
            area = nearest_outward(point.latitude, point.longitude)
        except geo.UnknownPlace:
            area = ""
    if cache is not None:
        cache[place] = area
    return area


def _described(row: dict, table: ConceptTable | None) -> dict:
    """Return a queued row ready to store: its concepts, age band and area added, the town's position dropped."""
    stored = {key: value for key, value in row.items() if key != _NEAR}
    try:
        if table is None:
            raise LookupError("the vocabularies could not be read")
        concepts, band = read_concepts(row["words"], row["filters"], table)
        area = nearest_outward(*row[_NEAR]) if _NEAR in row else area_of_place(row["place"])
        stored.update(concepts=concepts, age_band=band, area=area[:10])
    except Exception:  # worked out when the row is pruned instead: a search is never lost for this
        current_app.logger.warning("Could not read a search's concepts; they will be read when it is pruned")
        stored.update(concepts=None, age_band=None, area=None)
    return stored


class DemandLog:
    """Queue search records and write them in batches on a background thread."""

    def __init__(self, app: Flask):
        """Remember the app (for the writer's context) and its flush interval."""
        self.app = app
        self.interval = float(app.config.get("SEARCH_LOG_FLUSH_SECONDS", 2.0))
        self.enabled = bool(app.config.get("SEARCH_LOG_ENABLED", True))
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def record(self, text: str, filters: dict, place: geo.Point | None, results: int) -> None:
        """Queue one search; returns at once (concepts, age band and area are worked out by the writer)."""
        if not self.enabled:
            return
        try:
            row = {"occurred_at": datetime.now(timezone.utc), "words": scrub(text), "filters": filters,
                   "place": place_for_log(place), "results": results}
            if place is not None and place.kind == "place":
                row[_NEAR] = (float(place.latitude), float(place.longitude))
        except Exception:  # a search never fails for its log
            self.app.logger.exception("Could not queue a search for the demand log")
            return
        self.queue.put(row)
        self._ensure_writer()

    def _ensure_writer(self) -> None:
        """Start the background writer the first time it is needed in this process."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="search-demand-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        """Write queued rows every few seconds until the process ends."""
        while not self._stop.wait(self.interval):
            try:
                self.flush()
            except Exception:  # never let logging take a worker down; rows are retried next time
                self.app.logger.exception("Could not write the search demand log")

    def stop(self) -> None:
        """Stop the background writer (queued rows not yet written stay in the queue)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def flush(self) -> int:
        """Write every queued row now, in one transaction; return how many."""
        rows = []
        while True:
            try:
                rows.append(self.queue.get_nowait())
            except queue.Empty:
                break
        if not rows:
            return 0
        with self.app.app_context():
            try:
                try:
                    table = concept_table()
                except Exception:  # rows are stored all the same; prune reads their concepts later
                    db.session.rollback()
                    table = None
                db.session.execute(insert(SearchLog), [_described(row, table) for row in rows])
                db.session.commit()
            except Exception:
                db.session.rollback()
                for row in rows:
                    self.queue.put(row)
                raise
            finally:
                db.session.remove()
        return len(rows)


def prune(days: int) -> int:
    """Fold log rows older than ``days`` into daily counts and delete them; return rows removed.

    Two roll-ups are kept: by day and words (search warm-up reads it; no page shows it) and
    by day, concept, age band and area (the unmet-demand report).  Rows logged before
    concepts were recorded get them worked out here from their (scrubbed) words.
    """
    cutoff = datetime.now(timezone.utc) - timedelta(days=days)
    old = db.session.execute(select(SearchLog.occurred_at, SearchLog.words, SearchLog.results, SearchLog.filters,
                                    SearchLog.place, SearchLog.concepts, SearchLog.age_band, SearchLog.area)
                             .where(SearchLog.occurred_at < cutoff).order_by(SearchLog.id)).all()
    totals: dict[tuple, list[int]] = {}
    by_concept: dict[tuple, list[int]] = {}
    places: dict[str, str] = {}
    table = concept_table() if old else None
    for row in old:
        key = (row.occurred_at.date(), row.words)
        bucket = totals.setdefault(key, [0, 0])
        bucket[0] += 1
        bucket[1] += 1 if row.results == 0 else 0
        for concept, band, area in described_row(row, places, table):
            count = by_concept.setdefault((row.occurred_at.date(), concept, band, area), [0, 0, 0])
            count[0] += 1
            count[1] += 1 if row.results == 0 else 0
            count[2] += 1 if 1 <= row.results <= FEW_RESULTS else 0
    for (day, words), (searches, empty) in totals.items():
        existing = db.session.get(SearchDemand, (day, words))
        if existing:
            existing.searches += searches
            existing.without_results += empty
        else:
            db.session.add(SearchDemand(day=day, words=words, searches=searches, without_results=empty))
    add_area_counts(by_concept)
    db.session.execute(delete(SearchLog).where(SearchLog.occurred_at < cutoff))
    forget_old_counts(current_app.config.get("SEARCH_WORD_COUNTS_DAYS", 400),
                      current_app.config.get("SEARCH_AREA_COUNTS_DAYS", 760))
    db.session.commit()
    return len(old)


def forget_old_counts(word_days: int, area_days: int) -> None:
    """Delete daily counts older than the privacy notice says they are kept (words 13 months, areas 25)."""
    today = datetime.now(timezone.utc).date()
    db.session.execute(delete(SearchDemand).where(SearchDemand.day < today - timedelta(days=word_days)))
    db.session.execute(delete(SearchDemandArea).where(SearchDemandArea.day < today - timedelta(days=area_days)))


def add_area_counts(counts: dict[tuple, list[int]]) -> None:
    """Add (day, concept, age band, area) -> [searches, without results, few results] to the daily counts."""
    days = sorted({key[0] for key in counts})
    existing = {}
    for first in range(0, len(days), 500):
        for row in db.session.execute(select(SearchDemandArea).where(
                SearchDemandArea.day.in_(days[first:first + 500]))).scalars():
            existing[(row.day, row.concept, row.age_band, row.area)] = row
    for key in sorted(counts):
        searches, empty, few = counts[key]
        row = existing.get(key)
        if row is None:
            db.session.add(SearchDemandArea(day=key[0], concept=key[1], age_band=key[2], area=key[3],
                                            searches=searches, without_results=empty, few_results=few))
        else:
            row.searches += searches
            row.without_results += empty
            row.few_results += few


def described_row(row, places: dict[str, str] | None = None,
                  table: ConceptTable | None = None) -> list[tuple[str, str, str]]:
    """Return (concept, age band, area) for each concept of a logged search ("" when it had none).

    A row logged before concepts were recorded (``concepts`` empty as NULL) gets them from its
    words and filters, and its area from the place it kept.
    """
    concepts, band, area = row.concepts, row.age_band, row.area
    if concepts is None:
        concepts, band = read_concepts(row.words, row.filters or {}, table)
        area = area_of_place(row.place, places)
    return [(concept, band or "", area or "") for concept in (concepts or [""])]


def top_unmet(days: int, limit: int = 20) -> list[tuple[str, int]]:
    """Return the most common searches that found nothing in the last ``days`` days."""
    cutoff = datetime.now(timezone.utc) - timedelta(days=days)
    return list(db.session.execute(
        select(SearchLog.words, func.count()).where(SearchLog.occurred_at >= cutoff, SearchLog.results == 0,
                                                    SearchLog.words != "")
        .group_by(SearchLog.words).order_by(func.count().desc()).limit(limit)).all())


def top_searches(days: int, limit: int = 100) -> list[tuple[str, int]]:
    """Return the commonest searches of the last ``days`` days, with how often each was made."""
    cutoff = datetime.now(timezone.utc) - timedelta(days=days)
    return list(db.session.execute(
        select(SearchLog.words, func.count()).where(SearchLog.occurred_at >= cutoff, SearchLog.words != "")
        .group_by(SearchLog.words).order_by(func.count().desc()).limit(limit)).all())


def log_search(text: str, filters: dict, place: geo.Point | None, results: int) -> None:
    """Record a search, anonymously and without waiting, for the unmet-demand report."""
    current_app.extensions["local_offer_demand"].record(text, filters, place, results)


def init_app(app: Flask) -> None:
    """Give the app its demand log (the background writer starts with the first search)."""
    app.extensions["local_offer_demand"] = DemandLog(app)
