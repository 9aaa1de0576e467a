"""What search keeps in the database: synonyms, related terms, the index's outbox and change feed, and the search log.

The database is the source of truth for search: ``record_change`` writes a
``SearchChange`` row in the same transaction as the change it describes, so an
index update can never be lost (see ``local_offer.search``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from local_offer.extensions import db
from local_offer.models.base import UTCDateTime, new_id, utcnow


class SynonymGroup(db.Model):
    """Words that mean the same to a parent ("ASD", "autism", "ASC"); maintained by coordinators."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    #: Every way of saying it, as typed: ["autism", "ASD", "ASC"].
    terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RelatedTerms(db.Model):
    """An everyday thing families type, and the service words that help with it; maintained by coordinators.

    Unlike a synonym group these are not the same thing said differently: "being bullied"
    is helped by "anti-bullying", "confidence" and "mentoring".  Search uses the terms as
    extra, lower-weighted alternatives when a phrase matches.
    """

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    #: The ways families say it, as typed: ["being bullied", "bullied", "bullying at school"].
    phrases: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: What to look for in listings: ["anti-bullying", "confidence", "mentoring"].
    terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SearchChange(db.Model):
    """A listing or page that changed and must be (re)indexed: the index's outbox and change feed.

    Written in the same transaction as the change itself, so an index update can
    never be lost: rows wait with ``indexed_at`` empty until the index has them,
    and every worker reads rows past the last one it saw to refresh its filters.
    """

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: A listing id, or "page:<slug>" for an information page.
    document_id: Mapped[str] = mapped_column(String(120), index=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    indexed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")


def record_change(document_id: str) -> None:
    """Note in the current transaction that a listing (or "page:<slug>") must be reindexed."""
    db.session.add(SearchChange(document_id=document_id))


class SearchLog(db.Model):
    """One search, stripped of anything personal, for the unmet-demand report."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: The words, without email addresses, phone numbers, postcodes or long numbers.
    words: Mapped[str] = mapped_column(String(200), default="")
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    #: Only the outward code of a postcode ("ST16"), or a town name.
    place: Mapped[str] = mapped_column(String(100), default="")
    results: Mapped[int] = mapped_column(Integer, default=0)
    #: What the search was for, as vocabulary concepts ("need:autism", "activity:swimming"); never the words.
    concepts: Mapped[list | None] = mapped_column(JSON, default=list)
    #: The age band asked about ("0-4", "5-10", "11-15", "16-18", "19-25"), or "".
    age_band: Mapped[str | None] = mapped_column(String(20), default="")
    #: The outward code of the place searched ("ST13"), worked out for a town too; "" when none.
    area: Mapped[str | None] = mapped_column(String(10), default="")


class SearchDemandArea(db.Model):
    """Searches counted by day, concept, age band and area: a year of trends kept after the raw log is pruned.

    A search for two concepts counts once under each; a search for no recognised
    concept counts under the concept "".
    """

    __table_args__ = (UniqueConstraint("day", "concept", "age_band", "area"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    concept: Mapped[str] = mapped_column(String(120), default="")
    age_band: Mapped[str] = mapped_column(String(20), default="")
    area: Mapped[str] = mapped_column(String(10), default="")
    searches: Mapped[int] = mapped_column(Integer, default=0)
    without_results: Mapped[int] = mapped_column(Integer, default=0)
    #: Searches that found one to three results.
    few_results: Mapped[int] = mapped_column(Integer, default=0)


class District(db.Model):
    """An area of the council as its commissioners speak of it ("Moorlands"), as a list of outward codes."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    #: Outward codes, upper case without spaces: ["ST10", "ST13"].
    outward_codes: Mapped[list] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)


class SearchDemand(db.Model):
    """Searches counted by day and words, kept after the raw log has been pruned."""

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    words: Mapped[str] = mapped_column(String(200), primary_key=True)
    searches: Mapped[int] = mapped_column(Integer, default=0)
    without_results: Mapped[int] = mapped_column(Integer, default=0)
