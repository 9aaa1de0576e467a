"""Shortlists: the listings a family saves without an account, kept on the server for a while.

A shortlist belongs to whoever holds its private token, which lives only in
their signed session cookie; the database keeps a SHA-256 of it, so the rows
alone never let anyone open a shortlist as its owner.  Its ``share_token`` is a
second, separate random token for the read-only link that shows the listings
and never the notes.  ``flask jobs run`` removes shortlists nobody has touched
for ``SHORTLIST_KEEP_DAYS`` days.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from local_offer.extensions import db
from local_offer.models.base import UTCDateTime, new_id, utcnow


class Shortlist(db.Model):
    """A set of saved listings, in the owner's order."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    #: SHA-256 (hex) of the private token held in the owner's session cookie.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The random token of the read-only link (at least 128 bits, URL-safe).
    share_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Moved on by every change and every visit by the owner: expiry counts from it.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    items: Mapped[list[ShortlistItem]] = relationship(
        back_populates="shortlist", cascade="all, delete-orphan", order_by="ShortlistItem.position")


class ShortlistItem(db.Model):
    """One saved listing, its place in the list and the owner's private note."""

    __table_args__ = (UniqueConstraint("shortlist_id", "listing_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shortlist_id: Mapped[str] = mapped_column(ForeignKey("shortlist.id", ondelete="CASCADE"), index=True)
    listing_id: Mapped[str] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: Plain text (``sanitise.clean_text``), never shown on the shared link.
    note: Mapped[str] = mapped_column(Text, default="")

    shortlist: Mapped[Shortlist] = relationship(back_populates="items")
    listing = relationship("Listing")
