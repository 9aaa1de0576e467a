"""The directory: listings and everything a listing page shows, shaped after Open Referral UK.

ORUK's *service* is our ``Listing``; its *organization*, *location*,
*service_at_location*, *regular_schedule*, *cost_option*, *contact* and
*taxonomy_term* map one to one, so the API and imports are mappings rather
than rewrites.

A ``Listing`` row is what families see once it is published.  Changes wait
beside it as ``ListingRevision`` rows (draft or pending) until a coordinator
approves them.  ``Listing.version`` is SQLAlchemy's version counter, so two
people saving the same listing cannot silently overwrite each other.

``Term`` holds every controlled vocabulary: the category tree (s.30 kinds of
provision), SEND needs (the Code of Practice's four areas and the conditions
under them) and accessibility features.  ``ListingTerm`` links a listing to a
term, with free-text details where the vocabulary needs them.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING
from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from local_offer.extensions import db
from local_offer.models.base import UTCDateTime, enum_column, new_id, utcnow
from local_offer.postcodes import sector_of

if TYPE_CHECKING:
    from local_offer.models.feeds import Feed


class ListingStatus(enum.Enum):
    """Where a listing is in its life; only published ones are shown to families."""

    DRAFT = "draft"
    PENDING = "pending"
    PUBLISHED = "published"
    TEMPORARILY_CLOSED = "temporarily_closed"
    ARCHIVED = "archived"


#: The statuses families may see a listing in.
PUBLIC_STATUSES = (ListingStatus.PUBLISHED, ListingStatus.TEMPORARILY_CLOSED)


#: The funding a listing accepts, by code, and the column that says so.
FUNDING_FLAGS = {"ehcp": "accepts_ehcp_funding", "personal_budget": "accepts_personal_budget",
                 "direct_payments": "accepts_direct_payments"}


class ListingKind(enum.Enum):
    """The Code of Practice's three kinds of listing."""

    PROVIDER = "provider"
    ACTIVITY = "activity"
    SUPPORT_SERVICE = "support_service"


class ListingLevel(enum.Enum):
    """How widely a service is available: to everyone, to some, or by specialist referral."""

    UNIVERSAL = "universal"
    TARGETED = "targeted"
    SPECIALIST = "specialist"


class DeliveryMethod(enum.Enum):
    """How a service reaches people (ORUK ``attending_type``)."""

    VENUE = "venue"
    ONLINE = "online"
    PHONE = "phone"
    HOME_VISIT = "home_visit"


class AccessRoute(enum.Enum):
    """How a family gets a place (ORUK ``attending_access``)."""

    DROP_IN = "drop_in"
    REFERRAL = "referral"
    BOOKING = "booking"
    MEMBERSHIP = "membership"


class SchedulePeriod(enum.Enum):
    """When in the year a session runs."""

    ALL_YEAR = "all_year"
    TERM_TIME = "term_time"
    SCHOOL_HOLIDAYS = "school_holidays"


class Weekday(enum.Enum):
    """Days as ORUK and iCal name them."""

    MO = "MO"
    TU = "TU"
    WE = "WE"
    TH = "TH"
    FR = "FR"
    SA = "SA"
    SU = "SU"


class RevisionStatus(enum.Enum):
    """Where a proposed change is: being written, waiting, or decided."""

    DRAFT = "draft"
    PENDING = "pending"
    APPROVED = "approved"
    RETURNED = "returned"
    WITHDRAWN = "withdrawn"


#: A change still being written, waiting for checks, or sent back: at most one per listing is open.
OPEN_REVISIONS = (RevisionStatus.DRAFT, RevisionStatus.PENDING, RevisionStatus.RETURNED)


class Vocabulary(enum.Enum):
    """The controlled vocabularies held in ``Term``."""

    CATEGORY = "category"
    NEED = "need"
    ACCESSIBILITY = "accessibility"


class Organisation(db.Model):
    """Who runs one or more listings (ORUK *organization*)."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(50))
    #: Fictional demo data, labelled as such wherever it is shown.
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    listings: Mapped[list[Listing]] = relationship(back_populates="organisation")
    #: The accounts that look after its listings (``User`` lives in models.accounts, which builds on this module).
    members = relationship("User", secondary="organisation_member", back_populates="organisations")


class Listing(db.Model):
    """A provider, out-of-school activity or support service (ORUK *service*)."""

    __table_args__ = (
        CheckConstraint(
            "min_age IS NULL OR (min_age >= 0 AND min_age <= 25)", name="min_age_range"
        ),
        CheckConstraint(
            "max_age IS NULL OR (max_age >= 0 AND max_age <= 25)", name="max_age_range"
        ),
        CheckConstraint(
            "min_age IS NULL OR max_age IS NULL OR min_age <= max_age", name="age_order"
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisation.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    #: One or two sentences shown on results and category pages.
    summary: Mapped[str] = mapped_column(String(500), default="")
    #: Sanitised HTML (from the provider's Markdown).
    description: Mapped[str] = mapped_column(Text, default="")
    #: The Markdown the provider wrote, kept so the portal can show it again for editing.
    description_source: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ListingStatus] = mapped_column(
        enum_column(ListingStatus, "listing_status"), default=ListingStatus.DRAFT, index=True
    )
    kind: Mapped[ListingKind] = mapped_column(enum_column(ListingKind, "listing_kind"))
    level: Mapped[ListingLevel] = mapped_column(enum_column(ListingLevel, "listing_level"))
    #: False for provision outside the council's area (specialist provision often is).
    in_area: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The district it serves, or "County-wide"; None when it is not area-bound.
    service_area: Mapped[str | None] = mapped_column(String(120))
    delivery_methods: Mapped[list[str]] = mapped_column(JSON, default=list)
    access_routes: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: How to get a place and how decisions about places are made.
    how_to_access: Mapped[str] = mapped_column(Text, default="")
    #: Who it is for, in the provider's words.
    eligibility: Mapped[str] = mapped_column(Text, default="")
    min_age: Mapped[int | None] = mapped_column(Integer)
    max_age: Mapped[int | None] = mapped_column(Integer)
    is_free: Mapped[bool] = mapped_column(Boolean, default=False)
    accepts_ehcp_funding: Mapped[bool] = mapped_column(Boolean, default=False)
    accepts_personal_budget: Mapped[bool] = mapped_column(Boolean, default=False)
    accepts_direct_payments: Mapped[bool] = mapped_column(Boolean, default=False)
    free_carer_entry: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Languages the service is offered in, by name (ORUK *language*).
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    website: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(50))
    #: Schools: the SEN information report and Ofsted's unique reference number.
    sen_information_report_url: Mapped[str | None] = mapped_column(String(500))
    ofsted_urn: Mapped[str | None] = mapped_column(String(10))
    #: The date a person last confirmed it is accurate (ORUK ``assured_date``).
    assured_date: Mapped[date | None] = mapped_column(Date)
    review_due: Mapped[date | None] = mapped_column(Date, index=True)
    #: The review date the provider was last reminded about (one reminder per review period).
    review_reminded_for: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    #: A neighbour's service, pulled from its feed: never edited here, kept out of our API and exports.
    feed_id: Mapped[str | None] = mapped_column(ForeignKey("feed.id", ondelete="SET NULL"), index=True)
    #: Where families can see it at its source, and when the feed last listed it.
    source_url: Mapped[str | None] = mapped_column(String(500))
    source_checked_on: Mapped[date | None] = mapped_column(Date)
    #: A coordinator hid this neighbour's service (it stays hidden whatever the feed says).
    feed_hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __mapper_args__ = {"version_id_col": version}

    organisation: Mapped[Organisation] = relationship(back_populates="listings")
    feed: Mapped[Feed | None] = relationship()
    service_at_locations: Mapped[list[ServiceAtLocation]] = relationship(
        back_populates="listing", cascade="all, delete-orphan"
    )
    schedules: Mapped[list[Schedule]] = relationship(
        back_populates="listing",
        cascade="all, delete-orphan",
        order_by="Schedule.position",
    )
    cost_options: Mapped[list[CostOption]] = relationship(
        back_populates="listing", cascade="all, delete-orphan"
    )
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="listing", cascade="all, delete-orphan"
    )
    listing_terms: Mapped[list[ListingTerm]] = relationship(
        back_populates="listing", cascade="all, delete-orphan"
    )
    revisions: Mapped[list[ListingRevision]] = relationship(
        back_populates="listing", cascade="all, delete-orphan"
    )

    @property
    def is_visible(self) -> bool:
        """Say whether families may see this listing."""
        return self.status in PUBLIC_STATUSES

    def terms(self, vocabulary: Vocabulary) -> list[ListingTerm]:
        """Return this listing's links to one vocabulary, in the vocabulary's order."""
        links = [link for link in self.listing_terms if link.term.vocabulary == vocabulary]
        return sorted(links, key=lambda link: (link.term.position, link.term.name))

    @property
    def public_contacts(self) -> list[Contact]:
        """Return only the contacts the provider agreed to publish."""
        return [contact for contact in self.contacts if contact.is_public]

    @property
    def locations(self) -> list[Location]:
        """Return the venues, in the order they were added."""
        return [link.location for link in self.service_at_locations]


class Location(db.Model):
    """A venue or base (ORUK *location* with its *physical_address*)."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255), default="")
    address_1: Mapped[str] = mapped_column(String(255), default="")
    address_2: Mapped[str] = mapped_column(String(255), default="")
    town: Mapped[str] = mapped_column(String(120), default="")
    county: Mapped[str] = mapped_column(String(120), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="", index=True)
    latitude: Mapped[float | None] = mapped_column()
    longitude: Mapped[float | None] = mapped_column()
    #: Childminders and sole traders work from home: show only town and postcode
    #: sector, and use the sector's centre for distance and maps.
    mask_address: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    service_at_locations: Mapped[list[ServiceAtLocation]] = relationship(
        back_populates="location"
    )

    @property
    def postcode_sector(self) -> str:
        """Return the postcode sector ("ST16 2AB" -> "ST16 2"), the most a masked venue shows."""
        return sector_of(self.postcode) or self.postcode.replace(" ", "").upper()

    @property
    def public_street_lines(self) -> list[str]:
        """Return the public address without the venue's name (shown as its heading)."""
        lines = self.public_address_lines
        return lines[1:] if lines and not self.mask_address and self.name and lines[0] == self.name else lines

    @property
    def public_address_lines(self) -> list[str]:
        """Return the address as families may see it: masked venues show town and sector only."""
        if self.mask_address:
            lines = [self.town, self.postcode_sector]
        else:
            lines = [self.name, self.address_1, self.address_2, self.town, self.postcode]
        return [line for line in lines if line]


class ServiceAtLocation(db.Model):
    """A listing offered at a venue (ORUK *service_at_location*)."""

    __table_args__ = (UniqueConstraint("listing_id", "location_id", name="listing_location"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    listing_id: Mapped[str] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"), index=True)
    location_id: Mapped[str] = mapped_column(
        ForeignKey("location.id", ondelete="RESTRICT"), index=True
    )

    listing: Mapped[Listing] = relationship(back_populates="service_at_locations")
    location: Mapped[Location] = relationship(back_populates="service_at_locations")


class Schedule(db.Model):
    """When a listing runs (ORUK *regular_schedule*)."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    listing_id: Mapped[str] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"), index=True)
    location_id: Mapped[str | None] = mapped_column(
        ForeignKey("location.id", ondelete="SET NULL")
    )
    #: The first of the days (kept for readers of the schema before ``byday``; written from it).
    weekday: Mapped[Weekday | None] = mapped_column(enum_column(Weekday, "weekday"))
    #: How often, as iCalendar says it: "weekly", "monthly", or "once" (on the ``dates`` listed).
    freq: Mapped[str] = mapped_column(String(10), default="weekly", server_default="weekly")
    #: Every ``interval`` weeks (weekly), counted from ``valid_from``.
    interval: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    #: iCalendar's BYDAY: "MO,TU,WE,TH,FR", or with ordinals when monthly: "1SA", "-1FR".
    byday: Mapped[str] = mapped_column(String(100), default="", server_default="")
    #: Monthly on a date ("the 15th").
    bymonthday: Mapped[int | None] = mapped_column(Integer)
    #: One-off dates, ISO, separated by commas (``freq`` "once").
    dates: Mapped[str] = mapped_column(Text, default="", server_default="")
    opens_at: Mapped[time | None] = mapped_column(Time)
    closes_at: Mapped[time | None] = mapped_column(Time)
    period: Mapped[SchedulePeriod] = mapped_column(
        enum_column(SchedulePeriod, "schedule_period"), default=SchedulePeriod.ALL_YEAR
    )
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    #: Anything a schedule cannot say ("first Saturday of the month").
    notes: Mapped[str] = mapped_column(String(500), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    listing: Mapped[Listing] = relationship(back_populates="schedules")
    location: Mapped[Location | None] = relationship()


class CostOption(db.Model):
    """What a listing costs (ORUK *cost_option*); a free listing has none or amount 0."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    listing_id: Mapped[str] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"), index=True)
    option: Mapped[str] = mapped_column(String(255), default="")
    amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    amount_description: Mapped[str] = mapped_column(String(255), default="")

    listing: Mapped[Listing] = relationship(back_populates="cost_options")


class Contact(db.Model):
    """A person or team to contact (ORUK *contact*); private ones never appear publicly."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    listing_id: Mapped[str] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    title: Mapped[str] = mapped_column(String(255), default="")
    phone: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(255))
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)

    listing: Mapped[Listing] = relationship(back_populates="contacts")


class Term(db.Model):
    """One entry of a controlled vocabulary (ORUK *taxonomy_term*), optionally with a parent."""

    __table_args__ = (UniqueConstraint("vocabulary", "code", name="vocabulary_code"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    vocabulary: Mapped[Vocabulary] = mapped_column(enum_column(Vocabulary, "vocabulary"), index=True)
    #: Stable, URL-safe name used in addresses and filters ("swimming").
    code: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    #: Names and descriptions in other languages: {"pl": {"name": ..., "description": ...}}.
    translations: Mapped[dict] = mapped_column(JSON, default=dict)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("term.id", ondelete="RESTRICT"))
    position: Mapped[int] = mapped_column(Integer, default=0)

    parent: Mapped[Term | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Term]] = relationship(
        back_populates="parent", order_by="(Term.position, Term.name)"
    )

    def label(self, locale: str, field: str = "name") -> str:
        """Return the term's name (or description) in the given language, else English."""
        translated = (self.translations or {}).get(locale, {}).get(field)
        return translated or getattr(self, field)


class ListingTerm(db.Model):
    """Links a listing to a vocabulary term, with optional details ("ramp at side door")."""

    listing_id: Mapped[str] = mapped_column(
        ForeignKey("listing.id", ondelete="CASCADE"), primary_key=True
    )
    term_id: Mapped[str] = mapped_column(
        ForeignKey("term.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    details: Mapped[str] = mapped_column(Text, default="")

    listing: Mapped[Listing] = relationship(back_populates="listing_terms")
    term: Mapped[Term] = relationship()


#: The statuses of an open change, as SQL: the database allows one open change per listing.
OPEN_REVISION_SQL = "status IN ('draft', 'pending', 'returned')"


class ListingRevision(db.Model):
    """A draft or pending change to a listing, waiting beside the live version."""

    __table_args__ = (
        # Two people saving the same live listing at once must not both start a change.
        Index("uq_listing_revision_one_open", "listing_id", unique=True,
              sqlite_where=text(OPEN_REVISION_SQL), postgresql_where=text(OPEN_REVISION_SQL)),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    listing_id: Mapped[str] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"), index=True)
    status: Mapped[RevisionStatus] = mapped_column(
        enum_column(RevisionStatus, "revision_status"), default=RevisionStatus.DRAFT, index=True
    )
    #: The whole proposed listing, in the shape the publish path reads.
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    #: The listing version this change was made against (for optimistic locking).
    base_version: Mapped[int | None] = mapped_column(Integer)
    #: The live listing as it was when this change began: approval compares the live listing
    #: with it, so a change made meanwhile by someone else is never silently overwritten.
    base_data: Mapped[dict | None] = mapped_column(JSON)
    #: What the provider tells the coordinator about this change ("closed for repairs until May").
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_by_id: Mapped[str | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Bumped on every save: two people editing the same change cannot overwrite each other.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    listing: Mapped[Listing] = relationship(back_populates="revisions")
    created_by = relationship("User", foreign_keys=[created_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
