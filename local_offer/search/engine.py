"""Everything Whoosh: the schema, the index on disk, writing and text matching.

Nothing else in Local Offer imports ``whoosh`` (pinned at whoosh-reloaded 2.7.5,
its last release); the façade in ``search/__init__.py`` calls this module, so a
second engine can later sit behind the same façade.

Design
------
* The database is the source of truth.  Whoosh never fsyncs, so a crash can
  damage an index; ``flask index rebuild`` and ``flask index check`` recover.
* Index generations (``generations.py``): each full rebuild writes a new folder
  ``gen-<n>``, then, holding the writer lock, replays what changed meanwhile
  and replaces the ``CURRENT`` pointer atomically.  Readers never create,
  switch or delete a generation; a generation is removed only after two newer
  ones went live (or, unfinished, when its rebuild crashed).
* One version per search (``versions.py``): ``reading()`` pins a searcher for
  the whole search; a version that vanishes under it is ``VANISHED``, and the
  service retries the search once on the live version.
* One writer path, under the writer lock: ``write()`` opens
  ``index.writer(timeout=...)`` because the
  default fails at once when another process holds the lock.  Never
  ``AsyncWriter`` (loses changes when a worker is killed) or ``BufferedWriter``
  (holds the lock for the worker's life).
* Text relevance only, one query per concept, combined in ``ranking.py``.  Filters,
  counts and distances are numpy arrays beside the index (``facets.py``).
* Typos: a word the index does not know is matched with edit distance 1
  (after stemming, as the index's terms are stemmed); a word it knows is never
  "corrected", nor is an English word it does not know ("sailing" is not
  "smiling": ``dictionary.py``).  "Did you mean" reads the spelling graph of unstemmed words
  (fields declared ``spelling=True``) and is only asked when results are few.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index
from whoosh import query as Q
from whoosh.analysis import Filter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.reading import ReaderClosed
from whoosh.scoring import BM25F
from whoosh.writing import LockError

from local_offer.search.dictionary import is_english_word
from local_offer.search.generations import Busy, Generations
from local_offer.search.ranking import ConceptMatches, TextMatches, combine, spec_of as _spec
from local_offer.search.understanding import fold
from local_offer.search.versions import Version

# Field names, used by the façade when it builds documents.
ID_FIELD = "id"
TYPE = "doc_type"
NAME = "name"
TERMS = "terms"
BODY = "body"
TITLE = "title"  # stored only: an information page's title for display
SLUG = "slug"  # stored only: an information page's address
#: A fingerprint of what was indexed, so `flask index check` can find stale documents.
FINGERPRINT = "fingerprint"

#: How much a match in each field counts: a listing named "swimming" beats one tagged with it,
#: which beats one that only mentions it.  (Few fields keep queries fast.)
FIELD_BOOSTS = {NAME: 4.0, TERMS: 2.5, BODY: 1.0}
TEXT_FIELDS = tuple(FIELD_BOOSTS)
WRITER_TIMEOUT = 10.0
#: How much a related term (from the coordinators' list) counts against the words typed, and the
#: share of documents above which one is too common to mean anything ("health", "support").
RELATED_BOOST, COMMON_SHARE = 0.6, 0.08
#: How much the other ways of saying a word (its synonyms) count against the word as typed. 1: an
#: acronym typed ("SALT") is often a name in listings ("Debbie Salt"), while its synonyms carry the
#: meaning; 0.8 was no better on either tuning set.
SYNONYM_BOOST = 1.0


class FoldFilter(Filter):
    """Fold accents and letters like ł and ß, so "zajecia" finds "zajęcia" (after lower-casing)."""

    def __call__(self, tokens):
        for token in tokens:
            token.text = fold(token.text)
            yield token


# Words in any script; folded before stop words and stemming, in the index and in queries alike.
_analyzer = (RegexTokenizer(r"[^\W_]+(?:\.?[^\W_]+)*") | LowercaseFilter() | FoldFilter()
             | StopFilter(minsize=2) | StemFilter())


def make_schema() -> Schema:
    """Define the index's fields once: what each holds and how it is analysed."""
    return Schema(
        # The listing's UUID, or "page:<slug>" for an information page (a column: fast to map).
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
        # A hash of the indexed text (a column: `flask index check` reads them all at once).
        fingerprint=ID(sortable=True),
    )


def stems(words: Iterable[str]) -> list[str]:
    """Analyse words exactly as the index does (lower case, stop words out, stemmed)."""
    return [token.text for word in words for token in _analyzer(word)]


class Engine:
    """A Whoosh index in a folder of generations, shared safely by worker processes and threads."""

    def __init__(self, folder: str | Path):
        """Remember where the index lives; open nothing yet."""
        self.folder = Path(folder)
        self.generations = Generations(self.folder)
        self._lock = threading.RLock()
        self._current: Version | None = None
        self._local = threading.local()

    # --- generations ---------------------------------------------------------------

    def generation(self) -> str | None:
        """Return the live generation's name (None when there is no index)."""
        return self.generations.current()

    def exists(self) -> bool:
        """Say whether a live index exists with the current schema (an older one must be rebuilt)."""
        for _attempt in range(2):  # a rebuild may switch generations while we look
            name = self.generations.current()
            if not name:
                return False
            try:
                live = whoosh_index.open_dir(str(self.folder / name)).schema
            except (OSError, whoosh_index.EmptyIndexError):
                continue
            # An index analysed without accent folding (before issue 14) is rebuilt too.
            if sorted(live.names()) != sorted(make_schema().names()) or live[ID_FIELD].column_type is None:
                return False
            return any(isinstance(item, FoldFilter) for item in getattr(live[NAME].analyzer, "items", ()))
        return False

    # --- reading: one version per search ---------------------------------------------

    @contextmanager
    def reading(self):
        """Pin one version of the index for everything this thread reads until the block ends.

        Nested blocks share the outer one's version.  Raises IndexUnavailable when
        there is no index: a reader never creates one.
        """
        pinned = getattr(self._local, "version", None)
        if pinned is not None:
            yield pinned
            return
        version = self._acquire()
        self._local.version = version
        try:
            yield version
        finally:
            self._local.version = None
            with self._lock:
                version.release()

    def _acquire(self) -> Version:
        """Return the live version (opening it if the index moved on), counted as in use."""
        with self._lock:
            for _attempt in range(2):  # the generation we read may be replaced as we open it
                name = self.generations.current()
                if name is None:
                    raise IndexUnavailable("There is no search index yet (run `flask index ensure`).")
                current = self._current
                if current is not None and current.generation == name and _up_to_date(current.searcher):
                    current.users += 1
                    return current
                try:
                    index = whoosh_index.open_dir(str(self.folder / name))
                    searcher = index.searcher(weighting=BM25F())
                except (OSError, whoosh_index.EmptyIndexError):
                    continue
                if current is not None:
                    current.retire()
                self._current = Version(name, index, searcher, searcher.reader().generation())
                self._current.users += 1
                return self._current
            raise IndexUnavailable("The search index is being replaced; try again.")

    def close(self) -> None:
        """Hand out the open version no more (closed once no search uses it): the next search reopens."""
        with self._lock:
            if self._current is not None:
                self._current.retire()
                self._current = None

    def version_key(self) -> tuple | None:
        """Return (generation, commit) of the version searches currently read, or None."""
        current = self._current
        return current.key if current is not None else None

    @property
    def _cache(self) -> OrderedDict:
        """The concepts scored on the current version (benchmarks and tests look)."""
        current = self._current
        return current.cache if current is not None else OrderedDict()

    def warm(self, concepts: list[list[list[str]]], expected: tuple | None = None) -> int:
        """Score concepts ahead of searches, with a searcher of our own (safe on another thread).

        Results are kept with the version they were computed on, so never used for another.
        Only ``expected`` is warmed: while changes keep coming, warming is thrown away
        at the next one and only slows the searches it competes with.
        """
        with self.reading() as version, version.index.searcher(weighting=BM25F()) as searcher:
            if searcher.reader().generation() != version.key[1] or expected not in (None, version.key):
                return 0  # the index moved on between the two opens, or since warming was asked for
            done = 0
            for number, alternatives in enumerate(concepts):
                if number % 10 == 9 and not _up_to_date(searcher):
                    return done  # a newer version is on disk: what we score now is soon of no use
                options, key = self._concept_query(_spec(alternatives), [], searcher)
                if options is None or key in version.cache:
                    continue
                found = self._run(options, searcher)
                with self._lock:
                    if version.retired:
                        return done  # the index moved on; what we scored is of no use
                    version.store(key, found)
                done += 1
            return done

    def document_versions(self) -> dict[str, str]:
        """Return every document id in the live index with the fingerprint it was indexed with."""
        with self.reading() as version:
            reader = version.searcher.reader()
            if not reader.has_column(FINGERPRINT):
                return {fields[ID_FIELD]: "" for fields in reader.all_stored_fields()}
            ids = reader.column_reader(ID_FIELD)
            prints = reader.column_reader(FINGERPRINT)
            return {ids[docnum]: prints[docnum] for docnum in reader.all_doc_ids()}

    # --- writing (under the writer lock) -------------------------------------------

    @contextmanager
    def writing(self, wait: bool = True):
        """Hold the index's writer lock; IndexUnavailable if another writer keeps it (at once if not ``wait``)."""
        try:
            with self.generations.writing(WRITER_TIMEOUT if wait else None):
                yield
        except Busy as error:
            raise IndexUnavailable(str(error)) from error

    def write(self, documents: list[dict], deletions: list[str], wait: bool = True) -> None:
        """Add or replace documents and delete others in the live generation, in one commit."""
        with self.writing(wait):
            name = self.generations.current()
            if name is None:
                raise IndexUnavailable("There is no search index to update (run `flask index ensure`).")
            _write(whoosh_index.open_dir(str(self.folder / name)), documents, deletions)

    def rebuild(self, documents: Iterator[dict], procs: int = 1, replay=None, after_switch=None) -> int:
        """Write every document into a new generation, replay what changed meanwhile, switch atomically.

        ``replay(name)`` is called under the writer lock just before the switch and returns
        (documents, deletions) changed since the rebuild began; ``after_switch()`` runs
        once the new generation is live, still under the lock.  With ``procs`` > 1 Whoosh
        indexes in that many processes and keeps one segment each (merging them
        afterwards cost more than it saved: 8.5 s with one process, 4.4 s with two,
        11.2 s with two merged, for 5,000 listings).
        """
        name, building = self.generations.start_building()
        live = False
        try:
            index = whoosh_index.create_in(str(self.folder / name), make_schema())
            options = {"procs": procs, "multisegment": True} if procs > 1 else {"procs": 1}
            writer = index.writer(timeout=WRITER_TIMEOUT, limitmb=128, **options)
            count = 0
            try:
                for document in documents:
                    writer.add_document(**document)
                    count += 1
            except BaseException:
                writer.cancel()
                raise
            writer.commit()
            with self.writing():
                if replay is not None:
                    changed, deletions = replay(name)
                    if changed or deletions:
                        _write(index, changed, deletions)
                self.generations.switch_to(name)
                live = True
                self.generations.clean_up()
                if after_switch is not None:
                    after_switch()
        finally:
            self.generations.finish_building(name, building, keep=live)
        return count

    def clean_up(self) -> list[str]:
        """Remove generations a crashed rebuild left behind (never the live or previous one)."""
        with self.writing():
            return self.generations.clean_up()

    # --- matching ------------------------------------------------------------------

    def match(self, concepts: list, limit: int = 5000) -> TextMatches:
        """Rank documents by how well they match the concepts, by BM25F and coverage (``ranking.py``).

        ``concepts`` is a list of concepts; each is a list of alternatives (each a
        list of words: "speech and language therapy"), or an object with
        ``alternatives``, ``related`` (weaker alternatives) and ``weight``.  Each
        concept is matched by its own Whoosh query and cached per index version
        (parents reuse a small vocabulary); concepts are then combined with numpy.
        """
        with self.reading() as version:
            return self._match(version, concepts, limit)

    def _match(self, version: Version, concepts: list, limit: int) -> TextMatches:
        unknown: list[str] = []
        scored = []
        for concept in concepts:
            spec = _spec(concept)
            found = self._concept(version, spec, unknown)
            if found is not None:
                scored.append(ConceptMatches(found[0], found[1], spec[2]))
        ranked = combine(scored, version.searcher.doc_count_all())
        if ranked.docnums.size == 0:
            return TextMatches({}, [], unknown)
        order = np.argsort(-ranked.scores, kind="stable")[:limit]
        ids, kinds, pages_by_docnum = self._documents(version)
        listings: dict[str, float] = {}
        pages: list[tuple[str, str]] = []
        for position in order:
            docnum = int(ranked.docnums[position])
            if kinds[docnum] == "page":
                pages.append(pages_by_docnum[docnum])
            else:
                listings[ids[docnum]] = float(ranked.scores[position])
        return TextMatches(listings, pages, unknown, relaxed=not ranked.complete)

    def _concept_query(self, spec, unknown: list[str], searcher):
        """Build one concept's Whoosh query and its cache key (None when nothing to match).

        The words as typed count fully, their synonyms a little less (``SYNONYM_BOOST``) and
        related terms less again (``RELATED_BOOST``).  A related term most documents use
        ("health") says nothing about a listing: it is left out.
        """
        alternatives, related, _weight = spec
        options, seen = [], set()
        ways = [*((words, 1.0 if number == 0 else SYNONYM_BOOST, False) for number, words in enumerate(alternatives)),
                *((words, RELATED_BOOST, True) for words in related)]
        for words, boost, is_related in ways:
            word_stems = stems(words)
            if not word_stems or tuple(word_stems) in {key for key, _ in seen}:
                continue  # "asperger" and "aspergers" are one search
            if is_related and _share(searcher, word_stems) > COMMON_SHARE:
                continue
            seen.add((tuple(word_stems), boost))
            if len(word_stems) == 1:
                option = self._word_query(word_stems[0], words, unknown,
                                          fuzzy=len(alternatives) == 1 and boost == 1.0, searcher=searcher)
            else:
                # Every word of a multi-word synonym in one field ("short breaks"). Whoosh's
                # Phrase needs positions and was several times slower here, for little gain
                # with such short phrases.
                option = Q.Or([Q.And([Q.Term(field, stem) for stem in word_stems], boost=FIELD_BOOSTS[field])
                               for field in TEXT_FIELDS])
            # The boost goes on the option itself: Whoosh drops the boost of a compound query with
            # one subquery (Or([option], boost=...) scored as if it were 1).
            option.boost = boost
            options.append(option)
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

    def _concept(self, version: Version, spec, unknown: list[str]):
        """Return (docnums, scores) for one concept, from the version's cache when scored before."""
        query, key = self._concept_query(spec, unknown, version.searcher)
        if query is None:
            return None
        with self._lock:
            cached = version.cache.get(key)
            if cached is not None:
                version.cache.move_to_end(key)
                return cached
        found = self._run(query, version.searcher)
        with self._lock:
            version.store(key, found)
        return found

    def _documents(self, version: Version):
        """Return docnum -> id, kind and (slug, title) of one version (read once per version)."""
        with self._lock:
            if version.docs is None:
                reader = version.searcher.reader()
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
                version.docs = (ids, kinds, pages)
            return version.docs

    def _word_query(self, stem: str, words: list[str], unknown: list[str], fuzzy: bool, searcher):
        """Match one word in every field; fuzzily (distance 1) only if it is a typo: neither the
        index nor the English dictionary knows it."""
        exact = [Q.Term(field, stem, boost=FIELD_BOOSTS[field]) for field in TEXT_FIELDS]
        if fuzzy and len(stem) >= 4 and not _known(searcher, stem) and not is_english_word(words[0]):
            unknown.append(words[0])
            exact += [Q.FuzzyTerm(field, stem, boost=FIELD_BOOSTS[field] * 0.5, maxdist=1, prefixlength=1)
                      for field in TEXT_FIELDS]
        return Q.Or(exact)

    def suggest(self, word: str) -> str | None:
        """Suggest a real word from the index's spelling graph for one the index does not know."""
        with self.reading() as version:
            return _suggest(version.searcher, word)


def _suggest(searcher, word: str) -> str | None:
    """Return the first spelling suggestion for a word from a searcher's fields."""
    for field in (BODY, NAME, TERMS):
        suggestions = searcher.suggest(field, word.lower(), limit=1, maxdist=2, prefix=1)
        if suggestions and suggestions[0] != word.lower():
            return suggestions[0]
    return None


def _up_to_date(searcher) -> bool:
    """Say whether a searcher still shows its generation's latest commit (False if it has gone)."""
    try:
        return searcher.up_to_date()
    except (OSError, whoosh_index.EmptyIndexError):
        return False


def _write(index, documents: list[dict], deletions: list[str]) -> None:
    """Add or replace documents and delete others in one commit, waiting for Whoosh's own lock."""
    try:
        writer = index.writer(timeout=WRITER_TIMEOUT)
    except LockError as error:
        raise IndexUnavailable("The search index is locked by another writer.") from error
    names = set(index.schema.names())
    try:
        for document_id in deletions:
            writer.delete_by_term(ID_FIELD, document_id)
        for document in documents:
            writer.update_document(**{k: v for k, v in document.items() if k in names})
    except Exception:
        writer.cancel()
        raise
    writer.commit()


def _share(searcher, word_stems: list[str]) -> float:
    """Return the share of documents that have the rarest of these words in some field."""
    reader = searcher.reader()
    return min(max(reader.doc_frequency(field, stem) for field in TEXT_FIELDS)
               for stem in word_stems) / max(1, reader.doc_count_all())


def _known(searcher, stem: str) -> bool:
    """Say whether any text field of a searcher's index contains this (stemmed) term."""
    reader = searcher.reader()
    return any((field, stem) in reader for field in TEXT_FIELDS)


class IndexUnavailable(RuntimeError):
    """There is no index to read, or it could not be written now (the change waits in the outbox)."""


#: What a search meets when the version it reads vanishes under it (a commit merged its
#: segments away, or a rebuild removed its generation): retried once on the live version.
VANISHED = (OSError, ReaderClosed, whoosh_index.EmptyIndexError, IndexError)
