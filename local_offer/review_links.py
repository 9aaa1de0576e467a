"""The "Still accurate" link in a review reminder: signed, bound to one review date, expiring after 30 days.

A reminder email carries one link per listing.  The link holds the listing's id and
the review date it was sent about, signed with the app's ``SECRET_KEY`` and a salt of
its own (itsdangerous compares signatures in constant time).  It is single use without
storing anything: confirming moves the review date on (and sets the date it was last
checked), so the same link no longer matches the listing and is refused as used.  A coordinator extending the review, or
checking the listing themselves, makes it out of date the same way.

    token = make_token(listing)                # for the email
    claim = read_token(token)                  # LinkClaim, or raises LinkError
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

from local_offer import mail
from local_offer.models import Listing

#: Keeps these signatures apart from every other use of the secret key.
SALT = "local-offer.review.still-accurate"
#: How long a "Still accurate" link works.
MAX_AGE_SECONDS = 30 * 24 * 60 * 60
#: Longest token read at all (a real one is about 120 characters).
MAX_TOKEN_LENGTH = 400


class LinkError(Exception):
    """A link that cannot be used: ``kind`` is "bad" (tampered or mangled) or "expired"."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True)
class LinkClaim:
    """What a valid signature vouches for: this listing, at this review date (None: it had none)."""

    listing_id: str
    review_due: date | None
    #: The day the link was made (UTC): a confirmation on or after it has used the link up.
    issued_on: date | None = None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(listing: Listing) -> str:
    """Return a signed token for confirming this listing at its current review date."""
    return _serializer().dumps({"l": listing.id, "d": listing.review_due.isoformat() if listing.review_due else ""})


def link_for(listing: Listing) -> str:
    """Return the full "Still accurate" address for a listing, on the site's public URL."""
    return mail.link("portal.still_accurate", token=make_token(listing))


def read_token(token: str) -> LinkClaim:
    """Return what a token vouches for; raise LinkError("expired") or LinkError("bad")."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise LinkError("bad")
    try:
        payload, issued = _serializer().loads(token, max_age=MAX_AGE_SECONDS, return_timestamp=True)
    except SignatureExpired:
        raise LinkError("expired") from None
    except BadData:  # a bad signature, bad base64, bad JSON, a bad timestamp
        raise LinkError("bad") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("l"), str) or not isinstance(payload.get("d"), str):
        raise LinkError("bad")
    try:
        due = date.fromisoformat(payload["d"]) if payload["d"] else None
    except ValueError:
        raise LinkError("bad") from None
    return LinkClaim(listing_id=payload["l"][:36], review_due=due, issued_on=issued.date())
