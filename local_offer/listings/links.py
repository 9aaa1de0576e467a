"""Readable listing addresses and the safe "Back to results" link.

A listing's address is its name as words plus the last 8 characters of its id
(``/listings/otters-calm-swim-sessions-6a2b0001``): short enough to read out
over the phone, and the id part keeps it working when the name changes.  The
last characters, not the first: time-ordered ids (UUID v7) and ids imported
from one system in a batch share their first characters, not their last.  Two
listings whose ids end alike are told apart by the name part.  Old
``/listings/<uuid>`` addresses and a wrong or missing name redirect (301) to
the right one.

A listing reached from a results page carries that page's address in ``back``
so "Back to results" returns to the same words, filters and page.  ``back`` is
never trusted: only a path to our own search page survives, rebuilt from its
parsed query, so a tampered value can never send anyone off-site.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from flask import current_app, url_for
from sqlalchemy import select

from local_offer import mail
from local_offer.extensions import db
from local_offer.models import Listing, Location

SHORT = 8
MAX_SLUG = 60
MAX_BACK = 2000
_REF = re.compile(r"^(?:(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)-)?(?P<short>[0-9a-f]{8})$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def slugify(name: str) -> str:
    """Turn a name into lower-case ASCII words joined by hyphens ("Otters' Swim!" -> "otters-swim")."""
    ascii_name = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", ascii_name.lower().replace("'", "").replace("’", ""))
    slug = ""
    for word in words:
        if len(slug) + len(word) + 1 > MAX_SLUG:
            break
        slug = f"{slug}-{word}" if slug else word
    return slug or (words[0][:MAX_SLUG] if words else "listing")


def listing_ref(listing: Listing) -> str:
    """Return the readable part of a listing's address: ``<slug>-<last 8 of the id>``."""
    return f"{slugify(listing.name)}-{listing.id[-SHORT:].lower()}"


def listing_url(listing: Listing, back: str | None = None, **values) -> str:
    """Return a listing page's address, carrying a results page to return to when given."""
    if back:
        values["back"] = back
    return url_for("directory.listing", ref=listing_ref(listing), **values)


def listing_page_link(listing: Listing) -> str:
    """Return a listing page's full, canonical address on the public URL (canonical link, sitemap, JSON-LD)."""
    return mail.link("directory.listing", ref=listing_ref(listing))


def find_listing(ref: str, load) -> Listing | None:
    """Find the public listing an address names: a whole id, or ``<slug>-<short id>``; None if none."""
    ref = ref.lower()
    public = load()
    if _UUID.match(ref):
        return db.session.execute(public.where(Listing.id == ref)).scalars().first()
    match = _REF.match(ref)
    if match is None:
        return None
    candidates = list(db.session.execute(
        public.where(Listing.id.like("%" + match["short"])).order_by(Listing.id)).scalars())
    if not candidates:
        return None
    # Two listings whose ids end alike (rare): the name in the address tells them apart.
    return next((c for c in candidates if slugify(c.name) == match["slug"]), candidates[0])


def safe_back(value: str | None) -> str | None:
    """Return ``value`` rebuilt as an address of our search page, or None when it is anything else.

    Only a relative path equal to the search page's own, with a query string, is
    kept; the query is parsed and re-encoded, so what comes back always starts
    with the search path and can never name another site or a ``javascript:`` URL.
    """
    if not value or len(value) > MAX_BACK:
        return None
    if any(not ch.isascii() or not ch.isprintable() or ch in " \\" for ch in value):
        return None
    parts = urlsplit(value)
    search_path = url_for("directory.search")
    if parts.scheme or parts.netloc or parts.fragment or parts.path != search_path:
        return None
    try:
        pairs = parse_qsl(parts.query, keep_blank_values=True, max_num_fields=200)
    except ValueError:
        return None
    pairs = [(key, item) for key, item in pairs if item != ""]
    return search_path + ("?" + urlencode(pairs) if pairs else "")


def directions_url(location: Location) -> str | None:
    """Return a maps site's directions to a venue, or None for a venue whose address is not shared."""
    template = current_app.config.get("DIRECTIONS_URL")
    if not template or location.mask_address:
        return None
    if location.latitude is not None and location.longitude is not None:
        destination = f"{location.latitude:.5f},{location.longitude:.5f}"
    elif location.postcode:
        destination = ", ".join(part for part in (location.name, location.postcode) if part)
    else:
        return None
    return template.replace("{destination}", quote(destination, safe=","))
