"""Result cards: each listing's card rendered once per version and language, and ahead of searches.

Results and category pages show up to twenty cards; rendering each from the
template costs more than the search itself, so the cacheable body of a card is
kept per (listing, version, language, council).  Any edit bumps a listing's
version, so a changed listing is never shown stale.  After the search index
changes, the search warmer asks for the cards of the most recently checked
listings to be rendered ahead (``prerender_cards``).
"""

from __future__ import annotations

import threading
from datetime import date
from collections import OrderedDict

from flask import Flask, current_app
from markupsafe import Markup
from sqlalchemy import select

from local_offer.extensions import db
from local_offer.i18n import current_language
from local_offer.listings.queries import CARD_LOAD, in_batches, public_ids
from local_offer.models import Listing

CARD_CACHE_SIZE = 5000

_cards: OrderedDict = OrderedDict()
_cards_lock = threading.Lock()


def _card_key(listing) -> tuple:
    """Return the cache key of a listing's card: it changes whenever the listing does."""
    # Today's date too: a card leaves out sessions that have ended.
    return (listing.id, listing.version, current_language(), current_app.config["COUNCIL_NAME"], date.today())


def prepare_cards(listings: list) -> None:
    """Load, in one go, what the cards not rendered before need (cached cards need nothing)."""
    missing = [listing.id for listing in listings if _card_key(listing) not in _cards]
    if missing:
        db.session.execute(select(Listing).where(Listing.id.in_(missing)).options(*CARD_LOAD)
                           .execution_options(populate_existing=True)).scalars().all()


def card_body(listing) -> Markup:
    """Render the cacheable part of a result card, once per listing version and language."""
    key = _card_key(listing)
    html = _cards.get(key)
    if html is None:
        # Straight from the environment: the site-wide context (and its queries) is not needed.
        html = Markup(current_app.jinja_env.get_template("directory/_card_body.html").render(listing=listing))
        with _cards_lock:
            _cards[key] = html
            while len(_cards) > CARD_CACHE_SIZE:
                _cards.popitem(last=False)
    return html


def prerender_cards(app: Flask, limit: int = CARD_CACHE_SIZE, pause=None) -> int:
    """Render the cards of the most recently checked public listings ahead of searches.

    Runs on the search warmer's thread after the index changes, in the default
    language; cards already cached (same listing version) are skipped.  ``pause()``,
    if given, is called before each card (at start-up it lets requests go first).
    """
    done = 0
    with app.test_request_context("/"):
        try:
            ids = public_ids(order_by=Listing.assured_date.desc(), limit=limit)
            for batch in in_batches(ids, options=CARD_LOAD, forget=True):
                for listing in batch:
                    if _card_key(listing) not in _cards:
                        if pause is not None:
                            pause()
                        card_body(listing)
                        done += 1
        finally:
            db.session.remove()
    return done


def forget_cards() -> None:
    """Drop every rendered card (cards are keyed by listing id and version, which a restored database repeats)."""
    with _cards_lock:
        _cards.clear()


def init_app(app: Flask) -> None:
    """Let templates render card bodies."""
    app.add_template_global(card_body)
