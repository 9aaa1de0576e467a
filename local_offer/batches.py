"""Walk many listings without loading them all at once: the one batch loader.

Exports, the search index and card pre-rendering each read every public listing
(tens of thousands on a large directory).  Loading them in one query would hold
every row and relationship in memory; loading them one by one would cost a
query per relationship per listing.  ``listings_in_batches`` takes the ids
first, then loads 500 at a time with the relationships the caller names, and
yields them in the order of the ids.  It imports nothing above ``models`` so
any layer may use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from sqlalchemy import Select, select

from local_offer.extensions import db
from local_offer.models import Listing

#: Listings loaded per query: large enough to amortise the query, small enough to bound memory.
BATCH_SIZE = 500


def listings_in_batches(ids: Select, load: Sequence, *, progress: Callable[[Iterable], Iterable] | None = None,
                        release: bool = False) -> Iterator[Listing]:
    """Yield the listings a query of ids selects, in its order, loading 500 at a time with ``load``.

    ``progress`` wraps the batches (a progress bar); ``release`` empties the session after
    each batch, for long walks outside a request whose listings are not used afterwards.
    """
    chosen = db.session.execute(ids).scalars().all()
    starts = range(0, len(chosen), BATCH_SIZE)
    for start in progress(starts) if progress else starts:
        batch = chosen[start:start + BATCH_SIZE]
        loaded = {listing.id: listing for listing in db.session.execute(
            select(Listing).where(Listing.id.in_(batch)).options(*load)).scalars()}
        yield from (loaded[listing_id] for listing_id in batch if listing_id in loaded)
        if release:
            db.session.expunge_all()
