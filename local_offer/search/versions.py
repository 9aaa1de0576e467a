"""One version of the index as a search sees it: a generation at one commit, and what was computed from it.

A search pins one version from start to end (``Engine.reading``), so concept
scores, "is this word known", document numbers and spelling suggestions all
come from the same index state.  A version is closed only once it has been
replaced and the last search using it has finished.  Concept scores are cached
with the version they were computed on, so they can never be used with another
version's document numbers.
"""

from __future__ import annotations

from collections import OrderedDict

#: Per-concept results kept in memory between searches (until the index changes).
CACHE_CONCEPTS = 512
CACHE_ENTRIES = 4_000_000


class Version:
    """A generation's searcher at one commit, how many searches use it, and its caches."""

    def __init__(self, generation: str, index, searcher, commit: int):
        self.generation = generation
        self.index = index
        self.searcher = searcher
        self.key = (generation, commit)
        #: Concept -> (docnums, scores), most recently used last.
        self.cache: OrderedDict = OrderedDict()
        self.cached_entries = 0
        #: docnum -> id, kind and (slug, title), read once.
        self.docs = None
        self.users = 0
        self.retired = False

    def store(self, key, found) -> None:
        """Keep one concept's results, dropping the oldest beyond the cache's limits."""
        self.cache[key] = found
        self.cached_entries += found[0].size
        while self.cache and (len(self.cache) > CACHE_CONCEPTS or self.cached_entries > CACHE_ENTRIES):
            _, dropped = self.cache.popitem(last=False)
            self.cached_entries -= dropped[0].size

    def retire(self) -> None:
        """Hand this version out no more; close it now if no search is using it."""
        self.retired = True
        if self.users <= 0:
            self.searcher.close()

    def release(self) -> None:
        """A search has finished with this version; close it if it was retired meanwhile."""
        self.users -= 1
        if self.retired and self.users <= 0:
            self.searcher.close()
