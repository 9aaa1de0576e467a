"""Search alerts: a saved search whose new results are emailed, at most weekly, to an address that confirmed it.

No account is needed.  The address and the search's query string are kept;
the tokens in the emailed links are not, only their SHA-256.  An unconfirmed
alert is removed after ``ALERT_PENDING_DAYS`` days; a confirmed one is removed
the moment its owner unsubscribes.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from local_offer.extensions import db
from local_offer.models.base import UTCDateTime, enum_column, new_id, utcnow


class AlertStatus(enum.Enum):
    """Where an alert is: waiting for its address to confirm, sending, or stopped by a bounce."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    BOUNCED = "bounced"


class SearchAlert(db.Model):
    """One saved search and the address its weekly digest goes to."""

    __tablename__ = "search_alert"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), index=True)
    #: The search's query string, normalised: only known search parameters, no page or view.
    query: Mapped[str] = mapped_column(Text, default="")
    #: SHA-256 (hex) of the confirmation token; None once confirmed.
    confirm_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: SHA-256 (hex) of the unsubscribe token (itself an HMAC of the id, so every email can carry it).
    unsubscribe_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[AlertStatus] = mapped_column(enum_column(AlertStatus, "alert_status"), default=AlertStatus.PENDING,
                                                index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Listings published or changed after this are new to the alert (moved on by every digest).
    changes_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Ids of the listings already sent (never sent twice), most recent last, capped.
    sent_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: When the mail server refused the address for good (no more digests).
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The language of the page the alert was set up on: its emails are in it.
    language: Mapped[str | None] = mapped_column(String(10))
