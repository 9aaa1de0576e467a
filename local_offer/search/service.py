"""The search service: one per process, keeping the index, the facet table and the synonyms fresh.

The database is the source of truth: every change is first written as an
outbox row in the same transaction as the change (``SearchSources`` reads and
settles them), then indexed by ``sync()``; a failed index write leaves the row
pending for the next ``sync()`` to retry, and every worker reads rows past the
last one it saw to refresh its filters (``refresh()``).  ``rebuild()`` writes a
new index generation and replays changes made meanwhile; ``check()`` compares
the index with what should be in it and repairs the difference.
"""

from __future__ import annotations

import threading
from pathlib import Path

from flask import current_app

from local_offer.search import engine as engine_module
from local_offer.search import pipeline
from local_offer.search.facets import FacetTable
from local_offer.search.results import SearchRequest, SearchResults
from local_offer.search.sources import PAGE_PREFIX, Document, Progress, SearchSources
from local_offer.search.understanding import concepts, understand

WARM_DELAY_SECONDS = 2.0


def engine_fields(document: Document) -> dict:
    """Turn a document into the fields the text index holds."""
    fields = {engine_module.ID_FIELD: document.id, engine_module.TYPE: document.kind,
              engine_module.NAME: document.name, engine_module.TERMS: document.terms,
              engine_module.BODY: document.body}
    if document.kind == "page":
        fields.update({engine_module.TITLE: document.title, engine_module.SLUG: document.slug})
    return fields


class SearchService:
    """One per process: the engine, the facet arrays and the synonyms, kept fresh."""

    def __init__(self, folder: str | Path, sources: SearchSources):
        """Point at the index folder and what the application hands in; load everything lazily."""
        self.engine = engine_module.Engine(folder)
        self.sources = sources
        self._lock = threading.RLock()
        self._table: FacetTable | None = None
        self._last_seq = 0
        self._synonyms: list[list[str]] | None = None
        self._synonyms_stamp = None
        self._warmed_for = None
        self._warmer: threading.Thread | None = None

    def search(self, request: SearchRequest) -> SearchResults:
        """Answer a search: text, place, filters, counts, sorting and one page of hits."""
        return pipeline.run(self, request)

    # --- freshness -----------------------------------------------------------------

    def _build_table(self) -> FacetTable:
        """Build the whole facet table from the application's records."""
        return FacetTable(self.sources.facet_records(), self.sources.term_ancestors(), self.sources.facet_values)

    def refresh(self) -> None:
        """Bring the filters up to date with changes other processes recorded (cheap when none)."""
        with self._lock:
            if self._table is None:
                self._last_seq = self.sources.last_change()
                self._table = self._build_table()
                return
            changes = self.sources.changes_since(self._last_seq)
            if not changes:
                return
            self._last_seq = changes[-1][0]
            ids = sorted({document_id for _seq, document_id in changes if not document_id.startswith(PAGE_PREFIX)})
            if ids:
                fresh = self.sources.facet_records(ids)
                self._table = self._table.with_changes({i: fresh.get(i) for i in ids})

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

    # --- warming -------------------------------------------------------------------

    def warm_concepts(self) -> list[list[list[str]]]:
        """Return the concepts worth scoring ahead: every synonym, and last month's top searches."""
        groups = self.synonyms()
        wanted, seen = [], set()
        texts = [variant for group in groups for variant in group]
        texts += self.sources.popular_searches(days=30, limit=100)
        for text in texts:
            for concept in concepts(understand(text).words, groups):
                key = tuple(tuple(words) for words in concept.alternatives)
                if key not in seen:
                    seen.add(key)
                    wanted.append(concept.alternatives)
        return wanted

    def warm_if_new(self) -> None:
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
        """Score the common concepts, then do what follows warming (on the warmer's thread)."""
        try:
            self.engine.warm(wanted)
            if app.config.get("CARD_PRERENDER", True):
                self.sources.after_warm(app)
        except Exception:  # warming is an optimisation; never let it take a worker down
            app.logger.exception("Search warming failed")

    def wait_until_warm(self, timeout: float = 600) -> None:
        """Wait for the background warming to finish (benchmarks and tests)."""
        if self._warmer is not None:
            self._warmer.join(timeout)

    # --- indexing ------------------------------------------------------------------

    def sync(self, limit: int = 5000) -> tuple[int, int]:
        """Index pending changes from the outbox; return (indexed, failed). Failures stay pending."""
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
        self.refresh()
        return len(ids), 0

    def rebuild(self, progress: Progress | None = None) -> int:
        """Rebuild the whole index into a new generation, replay changes made meanwhile, switch."""
        started_seq = self.sources.last_change()
        documents = (engine_fields(document) for document in self.sources.all_documents(progress))
        count = self.engine.rebuild(documents, procs=current_app.config["SEARCH_INDEX_PROCS"])
        self.sources.settle_changes_up_to(started_seq)
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
        expected = self.sources.expected_ids()
        indexed = self.engine.document_ids()
        report = {"missing": sorted(expected - indexed), "extra": sorted(indexed - expected)}
        if repair and (report["missing"] or report["extra"]):
            self.sources.record_changes(report["missing"] + report["extra"])
            self.sync()
        return report


def get_service() -> SearchService:
    """Return this app's search service."""
    return current_app.extensions["local_offer_search"]


def init_app(app, sources: SearchSources) -> None:
    """Create the app's search service over the index folder in the instance."""
    app.extensions["local_offer_search"] = SearchService(Path(app.instance_path) / "search", sources)
