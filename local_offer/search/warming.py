"""Warming a search service: scoring common concepts and what follows, on background threads.

Part of ``SearchService`` (``service.py``): after the index changes, and when a
worker starts, the concepts families search for most are scored ahead, so the
first searches after are quick.  Warming only reads: it never builds, writes or
switches an index, and takes no writer lock.
"""

from __future__ import annotations

import threading

from flask import current_app

from local_offer.search import engine as engine_module
from local_offer.search import pipeline
from local_offer.search.dictionary import english_words
from local_offer.search.understanding import concepts, understand

WARM_DELAY_SECONDS = 2.0
#: At start-up, concepts are scored a few at a time, letting requests go first in between.
WARM_AT_START_CHUNK = 4


class Warming:
    """The warming half of ``SearchService`` (it reads the service's engine, sources and words)."""

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

