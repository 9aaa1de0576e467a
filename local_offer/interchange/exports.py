"""Exports of the public directory: every listing families may see, walked in batches.

Both export formats (ORUK JSON here, the CSV layout in ``csv_layout``) read the
listings through ``public_listings_by_id``: the one batch loader
(``listings.queries.in_batches``) with what a listing page needs, in id order,
so two exports of the same data are identical.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator

from local_offer.interchange import oruk
from local_offer.listings.queries import in_batches, public_ids
from local_offer.models import Listing


def public_listings_by_id(progress: Callable[[Iterable], Iterable] | None = None) -> Iterator[Listing]:
    """Yield every listing families may see, in id order, with what its page shows."""
    for batch in in_batches(public_ids(ours_only=True), progress=progress):
        yield from batch


def export_oruk(progress: Callable[[Iterable], Iterable] | None = None) -> list[dict]:
    """Return every public listing as an ORUK v1 service (a bare array, as feeds are often shared)."""
    return [oruk.service(listing) for listing in public_listings_by_id(progress)]


def to_json(services: list[dict]) -> str:
    """Return services as ORUK JSON text, in a stable order (so two exports of the same data are identical)."""
    return json.dumps(services, ensure_ascii=False, indent=1, sort_keys=True)
