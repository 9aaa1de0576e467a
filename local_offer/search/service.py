"""The search service: one per process, keeping the index, the facet table and the synonyms fresh.

The database is the source of truth: every change is first written as an
outbox row in the same transaction as the change (``SearchSources`` reads and
settles them), then indexed by ``sync()``; a failed index write leaves the row
pending for the next ``sync()`` to retry, and every worker reads rows past the
last one it saw to refresh its filters (``refresh()``).  ``rebuild()`` writes a
new index generation and, holding the writer lock, replays every change made
meanwhile before switching to it; ``check()`` compares each document's
fingerprint with what should be in the index and repairs the difference.

Readers never write: a search pins one index version (``Engine.reading``) and
is answered again once if that version vanishes under it.  A change whose index
write failed is retried by the next search after ``SEARCH_RETRY_AFTER_SECONDS``
(at most one look every ``RETRY_CHECK_SECONDS`` per process), without waiting
for anyone: if another writer holds the lock, it will index the change.
"""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from flask import current_app

from local_offer.search import engine as engine_module
from local_offer.search import pipeline
from local_offer.search.dictionary import english_words
from local_offer.search.facets import FacetTable
from local_offer.search.results import SearchRequest, SearchResults
from local_offer.search.shared import SharedTables
from local_offer.search.sources import PAGE_PREFIX, Document, Progress, SearchSources
from local_offer.search.understanding import concepts, understand

WARM_DELAY_SECONDS = 2.0
#: At start-up, concepts are scored a few at a time, letting requests go first in between.
WARM_AT_START_CHUNK = 4
RETRY_CHECK_SECONDS = 2.0
#: Changes indexed this long before a rebuild began are replayed too (the clock's resolution).
REPLAY_MARGIN = timedelta(seconds=1)
EVERY_PENDING = 1_000_000
#: A process that loaded a shared facet table and read more changes than this saves it again.
SHARE_AGAIN_AFTER = 20


def fingerprint(document: Document) -> str:
    """Return a short hash of what the index holds for a document: it changes whenever that does."""
    text = "\x1f".join((document.kind, document.name, document.terms, document.body, document.title, document.slug))
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


def engine_fields(document: Document) -> dict:
    """Turn a document into the fields the text index holds."""
    fields = {engine_module.ID_FIELD: document.id, engine_module.TYPE: document.kind,
              engine_module.NAME: document.name, engine_module.TERMS: document.terms,
              engine_module.BODY: document.body, engine_module.FINGERPRINT: fingerprint(document)}
    if document.kind == "page":
        fields.update({engine_module.TITLE: document.title, engine_module.SLUG: document.slug})
    return fields


class SearchService:
    """One per process: the engine, the facet arrays and the synonyms, kept fresh."""

    def __init__(self, folder: str | Path, sources: SearchSources):
        """Point at the index folder and what the application hands in; load everything lazily."""
        self.engine = engine_module.Engine(folder)
        #: Facet tables other processes built, beside (never inside) the index folder.
        self.shared = SharedTables(Path(folder).parent / (Path(folder).name + "-tables"))
        self.sources = sources
        self._lock = threading.RLock()
        self._table: FacetTable | None = None
        self._table_generation: str | None = None
        self._last_seq = 0
        self._retry_checked = float("-inf")
        self._synonyms: list[list[str]] | None = None
        self._synonyms_stamp = None
        self._related: list[tuple[list[str], list[str]]] | None = None
        self._related_stamp = None
        self._warmed_for = None
        self._cards_for_generation: str | None = None
        self._warmer: threading.Thread | None = None

    def search(self, request: SearchRequest) -> SearchResults:
        """Answer a search: text, place, filters, counts, sorting and one page of hits."""
        self.retry_failed_writes()
        try:
            return pipeline.run(self, request)
        except engine_module.VANISHED:
            # The index version this search read was replaced and removed under it: once more, on the live one.
            current_app.logger.warning("The search index changed under a search; answering it again", exc_info=True)
            self.engine.close()
            return pipeline.run(self, request)

    # --- freshness -----------------------------------------------------------------

    def _build_table(self, ancestors: dict) -> FacetTable:
        """Build the whole facet table from the application's records."""
        return FacetTable(self.sources.facet_records(), ancestors, self.sources.facet_values)

    def refresh(self) -> None:
        """Bring the filters up to date with changes other processes recorded (cheap when none).

        A new index generation (a rebuild, here or in another process, after bulk
        changes such as `flask demo generate`) reloads the whole table: from the
        copy another process saved for it (``shared.py``) when there is one, else
        from the database (and then saved for the others).
        """
        with self._lock:
            generation = self.engine.generation()
            if self._table is None or generation != self._table_generation:
                if self._table is not None:
                    self.sources.generation_changed()
                last = self.sources.last_change()
                ancestors = self.sources.term_ancestors()
                found = (self.shared.load(generation, last, ancestors, self.sources.facet_values)
                         if generation is not None else None)
                if found is None:
                    self._table, self._last_seq = self._build_table(ancestors), last
                    if generation is not None:
                        self.shared.save(generation, last, self._table)
                    self._table_generation = generation
                    return
                (self._table, self._last_seq), self._table_generation = found, generation
                if self._apply_changes() and last - found[1] > SHARE_AGAIN_AFTER:
                    self.shared.save(generation, self._last_seq, self._table)  # the next process reads fewer
                return
            self._apply_changes()

    def _apply_changes(self) -> bool:
        """Patch the table with the changes recorded since it was read; say whether there were any."""
        with self._lock:
            changes = self.sources.changes_since(self._last_seq)
            if not changes:
                return False
            self._last_seq = changes[-1][0]
            ids = sorted({document_id for _seq, document_id in changes if not document_id.startswith(PAGE_PREFIX)})
            if ids:
                fresh = self.sources.facet_records(ids)
                self._table = self._table.with_changes({i: fresh.get(i) for i in ids})
            return True

    def page_state(self) -> tuple:
        """Return what a page of results is built from: the index version searches read now, the newest
        recorded change (the filters' counts) and the synonyms and related terms.

        Kept pages are keyed by it (``page_cache``): a published change moves it in every process.
        The facet table is not brought up to date here: a page that is rendered does that.
        """
        stamp = self.sources.content_stamp()
        try:
            with self.engine.reading() as version:
                return version.key, stamp
        except engine_module.IndexUnavailable:
            return None, stamp

    def table(self) -> FacetTable:
        """Return the current facet table."""
        self.refresh()
        return self._table

    def synonyms(self) -> list[list[str]]:
        """Return the synonym groups, reloaded when a coordinator has changed them."""
        stamp = self.sources.synonyms_stamp()
        if self._synonyms is None or stamp != self._synonyms_stamp:
            self._synonyms = self.sources.synonym_groups()
            self._synonyms_stamp = stamp
        return self._synonyms

    def related_terms(self) -> list[tuple[list[str], list[str]]]:
        """Return the related-terms list (what families say, what to look for), reloaded when changed."""
        stamp = self.sources.related_stamp()
        if self._related is None or stamp != self._related_stamp:
            self._related = self.sources.related_terms()
            self._related_stamp = stamp
        return self._related

    # --- warming -------------------------------------------------------------------

    def warm_concepts(self, pause=None) -> list:
        """Return the concepts worth scoring ahead: who listings are for, every synonym, and last
        month's top searches.

        Each is read as a search reads it (with its related terms), so it is scored
        under the key the search will look for.
        """
        groups, related = self.synonyms(), self.related_terms()
        wanted, seen = list(pipeline.AUDIENCE_CONCEPTS), set()
        texts = [variant for group in groups for variant in group]
        texts += self.sources.popular_searches(days=30, limit=100)
        for number, text in enumerate(texts):
            if pause is not None and number % 10 == 0:
                pause()
            for concept in concepts(understand(text).words, groups, related):
                key = tuple(tuple(tuple(words) for words in ways) for ways in (concept.alternatives, concept.related))
                if key not in seen:
                    seen.add(key)
                    wanted.append(concept)
        return wanted

    def warm_if_new(self) -> None:
        """After the index changes, score the common concepts on a background thread."""
        if not current_app.config.get("SEARCH_WARM", True):
            return
        version = self.engine.version_key()
        if version is None or version == self._warmed_for:
            return
        if self._warmer is not None and self._warmer.is_alive():
            return
        self._warmed_for = version
        wanted = self.warm_concepts()
        # A short delay: the search that noticed the change (often the publisher checking
        # their edit) runs first, without the warmer competing for the interpreter.
        self._warmer = threading.Timer(WARM_DELAY_SECONDS, self._warm,
                                       args=(current_app._get_current_object(), wanted, version))
        self._warmer.daemon = True
        self._warmer.name = "search-warmer"
        self._warmer.start()

    def _warm(self, app, wanted, version=None) -> None:
        """Score the common concepts, then do what follows warming (on the warmer's thread).

        What follows warming (rendering result cards ahead) reads thousands of
        listings, so it runs once per index generation: after a single change
        only that listing's card is out of date, and it is rendered when asked for.
        """
        try:
            english_words()  # read the dictionary typos are checked against, before a search needs it
            self.engine.warm(wanted, expected=version)
            generation = self.engine.generation()
            if app.config.get("CARD_PRERENDER", True) and generation != self._cards_for_generation:
                self._cards_for_generation = generation
                self.sources.after_warm(app)
        except Exception:  # warming is an optimisation; never let it take a worker down
            app.logger.exception("Search warming failed")

    def warm_at_start(self, app, then=None, last=None, pause=None) -> threading.Thread | None:
        """Warm a new process on a background thread, so its first searches are not slow; None when off.

        Started when a worker starts (``local_offer.warmup``), before any search: the
        facet table, the live index version and its document ids, ``then(app)`` (the
        application's own step: compiling templates), the common concepts, then the
        result cards, then ``last(app)``.  It only reads: it never builds, writes or
        switches an index, and takes no writer lock.  Searches meanwhile are answered
        as usual (one that needs the facet table while it is being built waits for it,
        never builds it twice); between concepts the warmer calls ``pause()``, which
        waits while requests are being answered.
        """
        if not app.config.get("SEARCH_WARM", True):
            return None
        # Read before the worker takes requests what a first search would otherwise spend time on:
        # the English word list typos are checked against (0.1 s)...
        english_words()
        try:  # and the synonyms' and related terms' phrase tables every search reads (30 ms with 800 phrases)
            with app.app_context():
                concepts([], self.synonyms(), self.related_terms())
        except Exception:  # warming is an optimisation; never let it take a worker down
            app.logger.exception("Reading the synonyms and related terms at start-up failed")
        with self._lock:
            if self._warmer is not None and self._warmer.is_alive():
                return self._warmer
            self._warmer = threading.Thread(target=self._warm_at_start, args=(app, then, last, pause), daemon=True,
                                            name="search-start-warmer")
            self._warmer.start()
            return self._warmer

    def _warm_at_start(self, app, then, last, pause) -> None:
        """Warm what a first search needs, most needed first (on the start-up warmer's thread)."""
        wanted, version = None, None
        try:
            with app.app_context():
                self.refresh()
                try:
                    with self.engine.reading() as pinned:
                        self.engine._documents(pinned)
                        version = pinned.key
                except engine_module.IndexUnavailable:
                    pass  # no index yet: nothing to score (building one is for `flask index ensure`)
                if version is not None:
                    self._warmed_for = version  # the first search need not start another warmer
                    wanted = self.warm_concepts(pause)
        except Exception:  # warming is an optimisation; never let it take a worker down
            app.logger.exception("Search warming at start-up failed")
        if then is not None:
            try:
                then(app)
            except Exception:
                app.logger.exception("Warming at start-up failed")
        if wanted is not None:
            for start in range(0, len(wanted), WARM_AT_START_CHUNK):
                if pause is not None:
                    pause()
                self.engine.warm(wanted[start:start + WARM_AT_START_CHUNK], expected=version)
            self._warm(app, wanted, version)  # what is scored already is skipped; then the cards
        if last is not None:
            last(app)

    def wait_until_warm(self, timeout: float = 600) -> None:
        """Wait for the background warming to finish (benchmarks and tests)."""
        if self._warmer is not None:
            self._warmer.join(timeout)

    # --- indexing ------------------------------------------------------------------

    def sync(self, limit: int = 5000, wait: bool = True) -> tuple[int, int]:
        """Index pending changes from the outbox; return (indexed, failed). Failures stay pending.

        Everything happens under the writer lock, reading the documents after taking
        it, so an older copy can never overwrite a newer one and a rebuild switching
        generations cannot lose what we write.  Without ``wait``, give up at once
        (returning (0, 0)) when another writer holds the lock: it will index them.
        """
        try:
            with self.engine.writing(wait):
                if self.engine.generation() is None:  # no index at all yet: build it whole
                    pending = self.sources.pending_changes(limit)
                    self.rebuild()
                    return len({document_id for _seq, document_id in pending}), 0
                indexed, failed = self._sync_locked(limit)
        except engine_module.IndexUnavailable as error:
            if not wait:
                return 0, 0
            pending = self.sources.pending_changes(limit)
            if pending:
                self.sources.mark_failed([seq for seq, _id in pending], str(error)[:2000])
            current_app.logger.warning("Search index update failed; will retry: %s", error)
            return 0, len({document_id for _seq, document_id in pending})
        if indexed:
            self.refresh()
        return indexed, failed

    def _sync_locked(self, limit: int) -> tuple[int, int]:
        """Index pending changes (the caller holds the writer lock)."""
        pending = self.sources.pending_changes(limit)
        if not pending:
            return 0, 0
        seqs = [seq for seq, _document_id in pending]
        ids = sorted({document_id for _seq, document_id in pending})
        try:
            documents, deletions = self.sources.documents(ids)
            self.engine.write([engine_fields(document) for document in documents], deletions)
        except Exception as error:  # recorded and retried, never lost
            self.sources.mark_failed(seqs, str(error)[:2000])
            current_app.logger.warning("Search index update failed; will retry: %s", error)
            return 0, len(ids)
        self.sources.mark_indexed(seqs)
        return len(ids), 0

    def retry_failed_writes(self) -> None:
        """Index changes left pending for a while (a failed or refused write) without waiting for cron."""
        now = time.monotonic()
        if now - self._retry_checked < RETRY_CHECK_SECONDS:
            return
        self._retry_checked = now
        if self.engine.generation() is None:
            return  # building a whole index is for `flask index ensure`, never a search
        try:
            if self.sources.pending_older_than(current_app.config.get("SEARCH_RETRY_AFTER_SECONDS", 5)):
                self.sync(wait=False)
        except Exception:  # a search must never fail because a retry did; cron retries too
            current_app.logger.exception("Retrying pending search index changes failed")

    def rebuild(self, progress: Progress | None = None) -> int:
        """Rebuild the whole index into a new generation, replay changes made meanwhile, switch.

        Just before the switch, under the writer lock, every change that may not be in
        the new generation is written into it: those recorded after the rebuild began
        (or committed after it began, though numbered before: a transaction can commit
        after a later one), and those another process indexed (into the old generation)
        while it ran.  Only then are they, and the changes pending when it began
        (which the new generation read from the database), marked indexed.
        """
        started_seq = self.sources.last_change()
        started_at = datetime.now(timezone.utc) - REPLAY_MARGIN
        pending_before = {seq for seq, _document_id in self.sources.pending_changes(EVERY_PENDING)}
        documents = (engine_fields(document) for document in self.sources.all_documents(progress))
        replayed: list[int] = []

        def replay() -> tuple[list[dict], list[str]]:
            pending = self.sources.pending_changes(EVERY_PENDING)
            late = [change for change in pending if change[0] <= started_seq and change[0] not in pending_before]
            changes = self.sources.changes_to_replay(started_seq, started_at) + late
            replayed.extend(seq for seq, _document_id in pending + changes)
            ids = sorted({document_id for _seq, document_id in changes})
            if not ids:
                return [], []
            found, deletions = self.sources.documents(ids)
            return [engine_fields(document) for document in found], deletions

        def after_switch() -> None:
            if replayed:
                self.sources.mark_indexed(replayed)

        count = self.engine.rebuild(documents, procs=current_app.config["SEARCH_INDEX_PROCS"],
                                    replay=replay, after_switch=after_switch)
        self.refresh()  # a new generation: the whole table is read again
        return count

    def ensure_index(self) -> bool:
        """Build the index if there is none; return True if it was built."""
        if self.engine.exists():
            return False
        self.rebuild()
        return True

    def check(self, repair: bool = True) -> dict[str, list[str]]:
        """Compare the index with the database, document by document; optionally repair it.

        Finds documents missing, extra (no longer public) and stale (indexed with
        other content than the database holds now).  Repairing reindexes those and
        removes generations a crashed rebuild left behind.
        """
        expected = {document.id: fingerprint(document) for document in self.sources.all_documents()}
        try:
            indexed = self.engine.document_versions()
        except engine_module.IndexUnavailable:
            indexed = {}
        report = {"missing": sorted(expected.keys() - indexed.keys()),
                  "extra": sorted(indexed.keys() - expected.keys()),
                  "stale": sorted(i for i in expected.keys() & indexed.keys() if expected[i] != indexed[i])}
        if repair:
            if self.engine.generation() is not None:
                report["partial generations"] = self.engine.clean_up()
            changed = report["missing"] + report["extra"] + report["stale"]
            if changed:
                self.sources.record_changes(changed)
                self.sync()
        return report


def get_service() -> SearchService:
    """Return this app's search service."""
    return current_app.extensions["local_offer_search"]


def init_app(app, sources: SearchSources) -> None:
    """Create the app's search service over the index folder in the instance."""
    app.extensions["local_offer_search"] = SearchService(Path(app.instance_path) / "search", sources)
