"""Neighbours' directories we subscribe to: another council's Open Referral UK feed, pulled on a schedule.

A feed's services are listings of ours marked with the feed (``Listing.feed_id``):
searchable and labelled with where they come from, but never edited here, kept
out of our own API and exports, and withdrawn when the feed stops listing them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from local_offer.extensions import db
from local_offer.models.base import UTCDateTime, new_id, utcnow


class Feed(db.Model):
    """One subscription: where to pull, whose it is, its licence, and how the last pulls went."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    #: Whose directory it is, as families read it: "Derbyshire's Local Offer".
    name: Mapped[str] = mapped_column(String(120))
    #: The feed's services list: ".../api/v1/services" or ".../api/v3/services".
    url: Mapped[str] = mapped_column(String(500), unique=True)
    #: Where families can see the neighbour's directory (linked from each of its listings).
    site_url: Mapped[str] = mapped_column(String(500), default="")
    #: The licence the data is published under, as the publisher states it.
    licence: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_pull_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The last complete pull (every service, so vanished ones could be withdrawn).
    last_full_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: How many services the last complete pull had (a later one with fewer than half withdraws nothing).
    last_count: Mapped[int] = mapped_column(Integer, default=0)
    #: Pulls failed in a row, and when the next may be tried (backing off: 1, 2, 4... hours, at most a day).
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The last pull's report: counts, and each rejected service with why.
    last_report: Mapped[dict] = mapped_column(JSON, default=dict)
    #: Whether the feed answers ``modified_after`` (v3): then pulls between complete ones ask for changes only.
    incremental: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Why the last pull failed, in words, or "".
    problem: Mapped[str] = mapped_column(Text, default="")
