"""The search service: one per process, keeping the index, the facet table and the synonyms fresh.

The database is the source of truth: every change is first written as a
``SearchChange`` row in the same transaction as the change (the change feed).
Each server keeps its own index on its own disk and follows the feed with a
cursor stored in the index (``cursor.py``): ``sync()`` indexes what the cursor
lacks, so a failed index write, or a change published through another server, is
simply still unapplied until the next ``sync()``.  Every worker follows the feed
for its filters too (``refresh()``).  ``rebuild()`` writes a new index
generation and, holding the writer lock, replays every change made meanwhile
before switching to it; ``check()`` compares each document's fingerprint with
what should be in the index and repairs the difference.

Readers never write: a search pins one index version (``Engine.reading``) and
is answered again once if that version vanishes under it.  Changes the index
still lacks after ``SEARCH_RETRY_AFTER_SECONDS`` are indexed by the next search
(at most one look every ``RETRY_CHECK_SECONDS`` per process) and by each
worker's follower thread (``follow()``), without waiting for anyone: if another
writer holds the lock, it will index them.
"""

from __future__ import annotations

import hashlib
import subprocess
import threading
import time
from pathlib import Path

from flask import current_app

from local_offer.search import engine as engine_module
from local_offer.search import pipeline
from local_offer.search.cursor import GRACE_SECONDS, Cursor
from local_offer.search.facets import FacetTable
from local_offer.search.generations import _Flock
from local_offer.search.results import SearchRequest, SearchResults
from local_offer.search.shared import SharedTables
from local_offer.search.sources import PAGE_PREFIX, Document, Progress, SearchSources
from local_offer.search.warming import Warming

RETRY_CHECK_SECONDS = 2.0
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


class SearchNotReady(RuntimeError):
    """This server's index is being built for the first time: searches wait for it rather than hold a worker."""


class SearchService(Warming):
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
        #: The changes the facet table has applied (each process follows the feed on its own).
        self._feed = Cursor()
        self._retry_checked = float("-inf")
        self._synonyms: list[list[str]] | None = None
        self._synonyms_stamp = None
        self._related: list[tuple[list[str], list[str]]] | None = None
        self._related_stamp = None
        self._warmed_for = None
        self._cards_for_generation: str | None = None
        self._warmer: threading.Thread | None = None

    def search(self, request: SearchRequest) -> SearchResults:
        """Answer a search: text, place, filters, counts, sorting and one page of hits.

        Raises ``SearchNotReady`` at once while this server builds its first index (reading the
        filters of a large directory meanwhile would hold the worker for minutes).
        """
        if self.engine.generation() is None and self.first_build_running():
            raise SearchNotReady("This server is building its search index.")
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
                    feed = self.everything_read()  # read before the facts, so nothing between is missed
                    self._table, self._feed = self._build_table(ancestors), feed
                    if generation is not None:
                        self.shared.save(generation, self._feed, self._table)
                    self._table_generation = generation
                    return
                (self._table, self._feed), self._table_generation = found, generation
                applied = self._apply_changes()
                if applied > SHARE_AGAIN_AFTER:
                    self.shared.save(generation, self._feed, self._table)  # the next process reads fewer
                return
            self._apply_changes()

    def everything_read(self) -> Cursor:
        """Return the cursor of a reader about to read everything the database holds now."""
        now = time.time()
        settled = self.sources.settled_change(now - GRACE_SECONDS)
        return Cursor.after_reading_everything(settled, self.sources.changes(settled), now)

    def _apply_changes(self) -> int:
        """Patch the table with the changes recorded since it was read; return how many there were."""
        with self._lock:
            todo = self._feed.unapplied(self.sources.changes(self._feed.through))
            if todo:
                ids = sorted({document_id for _seq, document_id, _at in todo
                              if not document_id.startswith(PAGE_PREFIX)})
                if ids:
                    fresh = self.sources.facet_records(ids)
                    self._table = self._table.with_changes({i: fresh.get(i) for i in ids})
                self._feed.mark(todo)
            self._feed.settle(time.time())
            return len(todo)

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

    # --- indexing ------------------------------------------------------------------

    def sync(self, limit: int = 5000, wait: bool = True) -> tuple[int, int]:
        """Index the changes this server's index lacks; return (documents indexed, documents failed).

        Each server keeps its own index and follows the database's change feed with
        a cursor kept in the index (``cursor.py``): what failed is simply still
        unapplied, and is tried again by the next sync.  Everything happens under the
        writer lock, reading the documents after taking it, so an older copy can never
        overwrite a newer one and a rebuild switching generations cannot lose what we
        write.  Without ``wait``, give up at once (returning (0, 0)) when another
        writer holds the lock: it will index them.
        """
        try:
            with self.engine.writing(wait):
                if self.engine.generation() is None:  # no index at all yet: build it whole
                    return self.rebuild(), 0
                indexed, failed = self._sync_locked(limit)
        except engine_module.IndexUnavailable as error:
            if not wait:
                return 0, 0
            current_app.logger.warning("Search index update failed; will retry: %s", error)
            return 0, len({row[1] for row in self.waiting()})
        if indexed:
            self.refresh()
        return indexed, failed

    def index_cursor(self) -> Cursor:
        """Return which changes the live index holds (from an index written before cursors: the outbox's marks)."""
        generation = self.engine.generation()
        state = self.engine.generations.read_state(generation) if generation else None
        cursor = Cursor.from_json(state.get("cursor")) if isinstance(state, dict) else None
        return cursor if cursor is not None else Cursor(through=self.sources.legacy_indexed_through())

    def waiting(self) -> list[tuple[int, str, float]]:
        """Return the recorded changes this server's index does not hold yet, oldest first (a new transaction)."""
        cursor = self.index_cursor()
        return cursor.unapplied(self.sources.changes(cursor.through, fresh=True))

    def _sync_locked(self, limit: int) -> tuple[int, int]:
        """Index what the live generation lacks, ``limit`` changes at a time (the caller holds the writer lock)."""
        generation = self.engine.generation()
        cursor = self.index_cursor()
        todo = cursor.unapplied(self.sources.changes(cursor.through, fresh=True))
        indexed = 0
        for start in range(0, len(todo), limit):
            chunk = todo[start:start + limit]
            ids = sorted({document_id for _seq, document_id, _at in chunk})
            try:
                documents, deletions = self.sources.documents(ids)
                self.engine.write([engine_fields(document) for document in documents], deletions)
            except Exception as error:  # still unapplied: the next sync tries again
                current_app.logger.warning("Search index update failed; will retry: %s", error)
                return indexed, len({document_id for _seq, document_id, _at in todo[start:]})
            cursor.mark(chunk)
            cursor.settle(time.time())
            self.engine.generations.write_state(generation, {"cursor": cursor.to_json()})
            indexed += len(ids)
        if not todo:
            before = cursor.to_json()
            cursor.settle(time.time())
            if cursor.to_json() != before:
                self.engine.generations.write_state(generation, {"cursor": cursor.to_json()})
        return indexed, 0

    def retry_failed_writes(self) -> None:
        """Index changes this server's index still lacks after a while (a failed or refused write, or a change
        published through another server), without waiting for cron."""
        now = time.monotonic()
        if now - self._retry_checked < RETRY_CHECK_SECONDS:
            return
        self._retry_checked = now
        if self.engine.generation() is None:
            return  # building a whole index is for start-up or `flask index ensure`, never a search
        try:
            before = time.time() - current_app.config.get("SEARCH_RETRY_AFTER_SECONDS", 5)
            if any(at <= before for _seq, _id, at in self.waiting()):
                self.sync(wait=False)
        except Exception:  # a search must never fail because a retry did; cron retries too
            current_app.logger.exception("Retrying pending search index changes failed")

    def follow(self) -> int:
        """Index what this server's index lacks, unless another writer is at it; return how many documents.

        Called every few seconds by each worker's follower thread (``local_offer.warmup``), so an
        index follows changes published through other servers even when nobody searches here.
        """
        if self.engine.generation() is None or not self.waiting():
            return 0
        indexed, _failed = self.sync(wait=False)
        return indexed

    def build_if_missing(self) -> bool:
        """Build the index when this server has none, unless another process is at it; return whether we built it."""
        if self.engine.generation() is not None:
            return False
        try:
            with self.engine.writing(wait=False):
                if self.engine.generation() is not None:
                    return False  # another process built it while we waited for the lock
                # In one process: indexing processes forked from a web worker would keep the writer
                # lock (an inherited file) after gunicorn killed the worker, and nobody could build.
                self.rebuild(procs=1)
                return True
        except engine_module.IndexUnavailable:
            return False  # another process holds the lock: it is building the index

    def _build_lock(self) -> _Flock:
        return _Flock(self.engine.folder.parent / (self.engine.folder.name + "-build.lock"))

    def first_build_running(self) -> bool:
        """Say whether a worker of this server is building the index it lacks (``build_in_another_process``)."""
        lock = self._build_lock()
        if not lock.path.exists():
            return False
        if lock.acquire(None):
            lock.release()
            return False
        return True

    def build_in_another_process(self, command: list[str]) -> tuple[bool, str]:
        """Build the missing index by running ``command`` (``flask index ensure``), unless another process is at it.

        Returns (whether this call ran it and it succeeded, what it printed).  A separate
        process keeps the build off this web worker's interpreter, so the worker answers
        requests meanwhile; and if gunicorn kills the worker, the build goes on to the end
        (it holds its own locks, none inherited).  One worker of a server runs it (a lock
        beside the index folder); the others find the lock held and leave it.
        """
        if self.engine.generation() is not None:
            return False, ""
        lock = self._build_lock()
        if not lock.acquire(None):
            return False, ""
        try:
            if self.engine.generation() is not None:
                return False, ""
            finished = subprocess.run(command, capture_output=True, text=True)
            return finished.returncode == 0, (finished.stdout + finished.stderr).strip()
        finally:
            lock.release()

    def readiness(self, max_lag_seconds: float = 60) -> list[str]:
        """Return what stops this server's index serving searches, in plain words (nothing when it is ready)."""
        if self.first_build_running():
            # Until `flask index ensure` has finished, which includes saving the filters for the workers to load.
            return ["The search index is being built."]
        if self.engine.generation() is None:
            return ["The search index has not been built yet."]
        try:
            with self.engine.reading():
                pass
        except engine_module.IndexUnavailable:
            return ["The search index cannot be opened."]
        late = [row for row in self.waiting() if row[2] <= time.time() - max_lag_seconds]
        if late:
            return [f"The search index lacks {len(late)} changes recorded more than "
                    f"{max_lag_seconds:g} seconds ago."]
        return []

    def rebuild(self, progress: Progress | None = None, procs: int | None = None) -> int:
        """Rebuild the whole index into a new generation, replay changes made meanwhile, switch.

        Before reading the documents, note which changes are visible; just before the
        switch, under the writer lock, write into the new generation every change that
        became visible since (recorded after the rebuild began, or committed after it
        began though numbered before: a transaction can commit after a later one), and
        record in it the cursor of an index that holds everything visible then.
        """
        started = self.everything_read()
        seen = {seq for seq, _id, _at in self.sources.changes(started.through)}
        documents = (engine_fields(document) for document in self.sources.all_documents(progress))

        def replay(name: str) -> tuple[list[dict], list[str]]:
            now = time.time()
            settled = self.sources.settled_change(now - GRACE_SECONDS)
            rows = self.sources.changes(min(settled, started.through), fresh=True)
            late = [row for row in rows if row[0] > started.through and row[0] not in seen]
            cursor = Cursor.after_reading_everything(settled, rows, now)
            self.engine.generations.write_state(name, {"cursor": cursor.to_json()})
            ids = sorted({document_id for _seq, document_id, _at in late})
            if not ids:
                return [], []
            found, deletions = self.sources.documents(ids)
            return [engine_fields(document) for document in found], deletions

        procs = procs or current_app.config["SEARCH_INDEX_PROCS"]
        count = self.engine.rebuild(documents, procs=procs, replay=replay)
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
