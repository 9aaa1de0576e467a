"""Everything Whoosh: the schema, the index on disk, writing and text matching.

Nothing else in Local Offer imports ``whoosh`` (pinned at whoosh-reloaded 2.7.5,
its last release); the façade in ``search/__init__.py`` calls this module, so a
second engine can later sit behind the same façade.

Design
------
* The database is the source of truth.  Whoosh never fsyncs, so a crash can
  damage an index; ``flask index rebuild`` and ``flask index check`` recover.
* Index generations: each full rebuild writes a new folder ``gen-<n>`` beside
  the live one and then replaces the ``CURRENT`` pointer file atomically
  (``os.replace``).  Every worker compares the pointer on each request and
  reopens when it changes; the old generation is removed once replaced.
* One writer path: ``write()`` opens ``index.writer(timeout=...)`` because the
  default fails at once when another process holds the lock.  Never
  ``AsyncWriter`` (loses changes when a worker is killed) or ``BufferedWriter``
  (holds the lock for the worker's life).
* Text relevance only.  Filters, counts and distances are numpy arrays beside
  the index (``facets.py``), keyed by listing id, never by Whoosh doc number.
* Typos: a word the index does not know is matched with edit distance 1
  (after stemming, as the index's terms are stemmed); a word it knows is never
  "corrected".  "Did you mean" reads the spelling graph of unstemmed words
  (fields declared ``spelling=True``) and is only asked when results are few.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index
from whoosh import query as Q
from whoosh.analysis import StemmingAnalyzer
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.scoring import BM25F
from whoosh.writing import LockError

# Field names, used by the façade when it builds documents.
ID_FIELD = "id"
TYPE = "doc_type"
NAME = "name"
TERMS = "terms"
BODY = "body"
TITLE = "title"  # stored only: an information page's title for display
SLUG = "slug"  # stored only: an information page's address

#: How much a match in each field counts: a listing named "swimming" beats one tagged with it,
#: which beats one that only mentions it.  (Few fields keep queries fast: every synonym is
#: matched in every field.)
FIELD_BOOSTS = {NAME: 4.0, TERMS: 2.5, BODY: 1.0}
TEXT_FIELDS = tuple(FIELD_BOOSTS)
WRITER_TIMEOUT = 10.0
#: Per-concept results kept in memory between searches (until the index changes).
CACHE_CONCEPTS = 512
CACHE_ENTRIES = 4_000_000
POINTER = "CURRENT"

_analyzer = StemmingAnalyzer(minsize=2)


def make_schema() -> Schema:
    """Define the index's fields once: what each holds and how it is analysed."""
    return Schema(
        # The listing's UUID, or "page:<slug>" for an information page (a column too, so
        # mapping document numbers to ids after a change is fast).
        id=ID(stored=True, unique=True, sortable=True),
        # "listing" or "page": pages are shown beside listings, not among them.
        doc_type=ID(stored=True, sortable=True),
        # The listing's or page's name: the strongest signal.
        name=TEXT(analyzer=_analyzer, field_boost=FIELD_BOOSTS[NAME], spelling=True),
        # Category and need names, so "autism" finds listings tagged with it.
        terms=TEXT(analyzer=_analyzer, field_boost=FIELD_BOOSTS[TERMS], spelling=True),
        # Summary, description, eligibility, access, accessibility and the organisation's name.
        body=TEXT(analyzer=_analyzer, field_boost=FIELD_BOOSTS[BODY], spelling=True),
        title=STORED(),
        slug=STORED(),
    )


@dataclass
class TextMatches:
    """What the text search found."""

    #: Listing id -> relevance score.
    listings: dict[str, float]
    #: Information pages, best first: (slug, title).
    pages: list[tuple[str, str]]
    #: Words the index does not know (matched fuzzily).
    unknown_words: list[str]
    #: True when not every concept could be matched together and we relaxed to most of them.
    relaxed: bool = False


def stems(words: Iterable[str]) -> list[str]:
    """Analyse words exactly as the index does (lower case, stop words out, stemmed)."""
    return [token.text for word in words for token in _analyzer(word)]


class Engine:
    """A Whoosh index in a folder of generations, shared safely by worker processes."""

    def __init__(self, folder: str | Path):
        """Remember where the index lives; open nothing yet."""
        self.folder = Path(folder)
        self._lock = threading.RLock()
        self._index = None
        self._generation = None
        self._searcher = None
        self._cache: OrderedDict = OrderedDict()
        self._cached_entries = 0
        self._docs = None
        self._version = None

    # --- generations ---------------------------------------------------------------

    def _pointer(self) -> str | None:
        """Return the live generation's folder name, or None when there is no index."""
        try:
            return (self.folder / POINTER).read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def exists(self) -> bool:
        """Say whether a live index exists with the current schema (an older one must be rebuilt)."""
        name = self._pointer()
        if not name or not whoosh_index.exists_in(self.folder / name):
            return False
        live = whoosh_index.open_dir(str(self.folder / name)).schema
        return sorted(live.names()) == sorted(make_schema().names()) and live[ID_FIELD].column_type is not None

    def _open(self):
        """Open (or reopen after a rebuild) the live generation; return the index."""
        name = self._pointer()
        if name is None or not whoosh_index.exists_in(self.folder / name):
            self.create_empty()
            name = self._pointer()
        if name != self._generation:
            self.close()
            self._index = whoosh_index.open_dir(str(self.folder / name))
            self._generation = name
        return self._index

    def create_empty(self) -> None:
        """Create an empty live index (first run)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = self._next_generation()
        (self.folder / name).mkdir(parents=True)
        whoosh_index.create_in(str(self.folder / name), make_schema())
        self._switch_to(name)

    def _next_generation(self) -> str:
        """Return the name for a new generation folder."""
        numbers = [int(p.name[4:]) for p in self.folder.glob("gen-*") if p.name[4:].isdigit()]
        return f"gen-{max(numbers, default=0) + 1}"

    def _switch_to(self, name: str) -> None:
        """Point CURRENT at a generation atomically, then remove older generations."""
        temporary = self.folder / f"{POINTER}.tmp"
        temporary.write_text(name, encoding="utf-8")
        os.replace(temporary, self.folder / POINTER)
        for old in self.folder.glob("gen-*"):
            if old.name != name and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)

    # --- reading -------------------------------------------------------------------

    def searcher(self):
        """Return this process's searcher, refreshed if the index changed since last use."""
        with self._lock:
            index = self._open()
            if self._searcher is None:
                self._searcher = index.searcher(weighting=BM25F())
                self._forget()
            elif not self._searcher.up_to_date():
                # A fresh searcher, not refresh(): whoosh-reloaded 2.7.5's refresh fails when
                # the old reader was of an empty index (its segments() is None).
                self._searcher.close()
                self._searcher = index.searcher(weighting=BM25F())
                self._forget()
            return self._searcher

    def _forget(self) -> None:
        """Drop what was cached from the previous version of the index."""
        self._cache.clear()
        self._cached_entries = 0
        self._docs = None
        self._version = (self._generation, self._searcher.reader().generation()) if self._searcher else None

    def warm(self, concepts: list[list[list[str]]]) -> int:
        """Score concepts ahead of searches, with a searcher of our own (safe on another thread).

        Results are kept only if the index is still the version they were computed on.
        """
        index = self._open()
        with index.searcher(weighting=BM25F()) as searcher:
            version = (self._generation, searcher.reader().generation())
            done = 0
            for alternatives in concepts:
                options, key = self._concept_query(alternatives, [], known=lambda stem: _known(searcher, stem))
                if options is None or key in self._cache:
                    continue
                found = self._run(options, searcher)
                with self._lock:
                    if version != self._version:
                        return done  # the index moved on; what we scored is stale
                    self._store(key, found)
                done += 1
            return done

    def close(self) -> None:
        """Close the searcher and forget the open index (tests check nothing is left open)."""
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None
        self._forget()
        self._index = None
        self._generation = None

    def generation(self) -> str | None:
        """Return the live generation's name."""
        return self._pointer()

    def document_ids(self) -> set[str]:
        """Return every document id in the live index."""
        searcher = self.searcher()
        return {fields[ID_FIELD] for fields in searcher.all_stored_fields()}

    def knows(self, stem: str) -> bool:
        """Say whether any text field of the index contains this (stemmed) term."""
        return _known(self.searcher(), stem)

    # --- writing -------------------------------------------------------------------

    def write(self, documents: list[dict], deletions: list[str]) -> None:
        """Add or replace documents and delete others in one commit, waiting for the lock."""
        index = self._open()
        try:
            writer = index.writer(timeout=WRITER_TIMEOUT)
        except LockError as error:
            raise IndexUnavailable("The search index is locked by another writer.") from error
        try:
            for document_id in deletions:
                writer.delete_by_term(ID_FIELD, document_id)
            for document in documents:
                writer.update_document(**document)
        except Exception:
            writer.cancel()
            raise
        writer.commit()

    def rebuild(self, documents: Iterator[dict], procs: int = 1) -> int:
        """Write every document into a new generation, then switch to it atomically.

        With ``procs`` > 1 Whoosh indexes in that many processes and keeps one segment
        each (merging them afterwards cost more than it saved: 8.5 s with one process,
        4.4 s with two, 11.2 s with two merged, for 5,000 listings).
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        name = self._next_generation()
        target = self.folder / name
        target.mkdir(parents=True)
        index = whoosh_index.create_in(str(target), make_schema())
        options = {"procs": procs, "multisegment": True} if procs > 1 else {"procs": 1}
        writer = index.writer(timeout=WRITER_TIMEOUT, limitmb=128, **options)
        count = 0
        try:
            for document in documents:
                writer.add_document(**document)
                count += 1
        except BaseException:
            writer.cancel()
            shutil.rmtree(target, ignore_errors=True)
            raise
        writer.commit()
        with self._lock:
            self.close()
            self._switch_to(name)
        return count

    # --- matching ------------------------------------------------------------------

    def match(self, concepts: list[list[list[str]]], limit: int = 5000) -> TextMatches:
        """Find documents matching every concept (any way of saying each), scored by BM25F.

        ``concepts`` is a list of concepts; each is a list of alternatives; each
        alternative is a list of words ("speech and language therapy").  Each
        concept is matched by its own Whoosh query and cached per index version
        (parents reuse a small vocabulary); concepts are then combined with
        numpy: a document must match all of them, and its score is the sum, as
        Whoosh's own And would give.
        """
        unknown: list[str] = []
        scored = []
        for alternatives in concepts:
            found = self._concept(alternatives, unknown)
            if found is not None:
                scored.append(found)
        if not scored:
            return TextMatches({}, [], unknown)
        docnums, scores = self._combine(scored, need=len(scored))
        relaxed = False
        if docnums.size == 0 and len(scored) >= 3:
            # Nothing has every concept: accept documents with all but one, marked as such.
            # (With two concepts that would mean matching one word: loosely related junk.)
            docnums, scores = self._combine(scored, need=len(scored) - 1)
            relaxed = True
        order = np.argsort(-scores, kind="stable")[:limit]
        ids, kinds, pages_by_docnum = self._documents()
        listings: dict[str, float] = {}
        pages: list[tuple[str, str]] = []
        for position in order:
            docnum = int(docnums[position])
            if kinds[docnum] == "page":
                pages.append(pages_by_docnum[docnum])
            else:
                listings[ids[docnum]] = float(scores[position])
        return TextMatches(listings, pages, unknown, relaxed)

    def _concept_query(self, alternatives: list[list[str]], unknown: list[str], known=None):
        """Build one concept's Whoosh query and its cache key (None when nothing to match)."""
        options, seen = [], set()
        for words in alternatives:
            word_stems = stems(words)
            if not word_stems or tuple(word_stems) in seen:
                continue  # "asperger" and "aspergers" are one search
            seen.add(tuple(word_stems))
            if len(word_stems) == 1:
                options.append(self._word_query(word_stems[0], words, unknown,
                                                fuzzy=len(alternatives) == 1, known=known))
            else:
                # Every word of a multi-word synonym in one field ("short breaks"). Whoosh's
                # Phrase needs positions and was several times slower here, for little gain
                # with such short phrases.
                options.append(Q.Or([Q.And([Q.Term(field, stem) for stem in word_stems],
                                           boost=FIELD_BOOSTS[field])
                                     for field in TEXT_FIELDS]))
        if not options:
            return None, None
        return Q.Or(options), tuple(sorted(seen))

    @staticmethod
    def _run(query, searcher):
        """Return (docnums, scores) of every document the query matches, in docnum order."""
        matcher = query.matcher(searcher)
        docnums, scores = [], []
        while matcher.is_active():
            docnums.append(matcher.id())
            scores.append(matcher.score())
            matcher.next()
        return np.array(docnums, dtype=np.int64), np.array(scores, dtype=np.float64)

    def _store(self, key, found) -> None:
        """Keep one concept's results, dropping the oldest beyond the cache's limits."""
        self._cache[key] = found
        self._cached_entries += found[0].size
        while self._cache and (len(self._cache) > CACHE_CONCEPTS or self._cached_entries > CACHE_ENTRIES):
            _, dropped = self._cache.popitem(last=False)
            self._cached_entries -= dropped[0].size

    def _concept(self, alternatives: list[list[str]], unknown: list[str]):
        """Return (docnums, scores) for one concept, from the cache when the index is unchanged."""
        searcher = self.searcher()
        query, key = self._concept_query(alternatives, unknown)
        if query is None:
            return None
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        found = self._run(query, searcher)
        with self._lock:
            self._store(key, found)
        return found

    @staticmethod
    def _combine(scored, need: int):
        """Keep documents found by at least ``need`` concepts; add up their scores."""
        if need == len(scored):
            docnums = scored[0][0]
            for other, _ in scored[1:]:
                docnums = np.intersect1d(docnums, other, assume_unique=True)
        else:
            every = np.concatenate([found[0] for found in scored])
            values, counts = np.unique(every, return_counts=True)
            docnums = values[counts >= need]
        totals = np.zeros(docnums.size)
        for found_docnums, found_scores in scored:
            positions = np.searchsorted(found_docnums, docnums)
            positions = np.clip(positions, 0, max(0, found_docnums.size - 1))
            present = found_docnums[positions] == docnums if found_docnums.size else np.zeros(docnums.size, bool)
            totals += np.where(present, found_scores[positions] if found_docnums.size else 0.0, 0.0)
        return docnums, totals

    def _documents(self):
        """Return docnum -> id, kind and (slug, title), rebuilt when the index changes."""
        searcher = self.searcher()
        with self._lock:
            if self._docs is None:
                reader = searcher.reader()
                if reader.has_column(ID_FIELD):
                    ids = list(reader.column_reader(ID_FIELD))
                    kinds = list(reader.column_reader(TYPE))
                else:  # an index from before ids were columns, until `flask index rebuild`
                    ids, kinds = [None] * reader.doc_count_all(), [None] * reader.doc_count_all()
                    for docnum, fields in reader.iter_docs():
                        ids[docnum], kinds[docnum] = fields[ID_FIELD], fields[TYPE]
                pages = {docnum: (fields[SLUG], fields[TITLE])
                         for docnum, kind in enumerate(kinds) if kind == "page"
                         for fields in (reader.stored_fields(docnum),)}
                self._docs = (ids, kinds, pages)
            return self._docs

    def _word_query(self, stem: str, words: list[str], unknown: list[str], fuzzy: bool, known=None):
        """Match one word in every field; fuzzily (distance 1) only if the index does not know it."""
        exact = [Q.Term(field, stem, boost=FIELD_BOOSTS[field]) for field in TEXT_FIELDS]
        if fuzzy and len(stem) >= 4 and not (known or self.knows)(stem):
            unknown.append(words[0])
            exact += [Q.FuzzyTerm(field, stem, boost=FIELD_BOOSTS[field] * 0.5, maxdist=1, prefixlength=1)
                      for field in TEXT_FIELDS]
        return Q.Or(exact)

    def suggest(self, word: str) -> str | None:
        """Suggest a real word from the index's spelling graph for one the index does not know."""
        searcher = self.searcher()
        for field in (BODY, NAME, TERMS):
            suggestions = searcher.suggest(field, word.lower(), limit=1, maxdist=2, prefix=1)
            if suggestions and suggestions[0] != word.lower():
                return suggestions[0]
        return None


def _known(searcher, stem: str) -> bool:
    """Say whether any text field of a searcher's index contains this (stemmed) term."""
    reader = searcher.reader()
    return any((field, stem) in reader for field in TEXT_FIELDS)


class IndexUnavailable(RuntimeError):
    """The index could not be written now; the change waits in the outbox."""
