"""The search façade: the only way views, commands and the API search or index.

    service = get_service()
    results = service.search(SearchRequest(text="autism swimming", where="Leek"))
    record_change(listing.id)      # (local_offer.models) in the same transaction as the edit
    service.sync()                  # after commit: index what changed

Text relevance comes from the engine (Whoosh today, in ``engine.py``); filters,
counts and distances from numpy arrays (``facets.py``); the parent's words are
read by ``understanding.py``; one search runs as the steps in ``pipeline.py``;
``service.py`` keeps it all fresh.  Nothing in this package imports the rest of
Local Offer: what it reads (documents, facts, the outbox, synonyms, places) is
handed to it at start-up as a ``SearchSources`` (``sources.py``).  This module
only names what callers use.
"""

from local_offer.search.results import RADII, SORTS, Hit, SearchError, SearchRequest, SearchResults
from local_offer.search.service import SearchNotReady, SearchService, get_service, init_app
from local_offer.search.sources import PAGE_PREFIX, Document, Place, SearchSources
from local_offer.search.understanding import Guess, without as without_guess

__all__ = [
    "PAGE_PREFIX",
    "RADII",
    "SORTS",
    "Document",
    "Guess",
    "Hit",
    "Place",
    "SearchError",
    "SearchNotReady",
    "SearchRequest",
    "SearchResults",
    "SearchService",
    "SearchSources",
    "get_service",
    "init_app",
    "without_guess",
]
