"""The data model, shaped after Open Referral UK (HSDS UK profile).

ORUK's *service* is our ``Listing``; its *organization*, *location*,
*service_at_location*, *regular_schedule*, *cost_option*, *contact* and
*taxonomy_term* map one to one, so the API and imports are mappings rather
than rewrites.  Every ORUK entity has a string UUID id, kept from the source
when imported.

A ``Listing`` row is what families see once it is published.  Changes wait
beside it as ``ListingRevision`` rows (draft or pending) until a coordinator
approves them.  ``Listing.version`` is SQLAlchemy's version counter, so two
people saving the same listing cannot silently overwrite each other.

``Term`` holds every controlled vocabulary: the category tree (s.30 kinds of
provision), SEND needs (the Code of Practice's four areas and the conditions
under them) and accessibility features.  ``ListingTerm`` links a listing to a
term, with free-text details where the vocabulary needs them.

All datetimes are timezone-aware UTC, on SQLite as well as PostgreSQL.
``AuditEvent`` is append-only: the ORM refuses to update or delete it.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, time, timezone
from decimal import Decimal

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from local_offer.extensions import db


def new_id() -> str:
    """Return a new string UUID, the id form ORUK uses for every entity."""
    return str(uuid.uuid4())


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A datetime stored as UTC and always returned timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Refuse naive datetimes and store aware ones in UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("Naive datetime given; use a timezone-aware one.")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        """Give back an aware UTC datetime whatever the database returned."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    """Store an enum by its value as a checked string, portable across databases."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=32,
        values_callable=lambda members: [member.value for member in members],
    )


class ListingStatus(enum.Enum):
    """Where a listing is in its life; only published ones are shown to families."""

    DRAFT = "draft"
    PENDING = "pending"
    PUBLISHED = "published"
    TEMPORARILY_CLOSED = "temporarily_closed"
    ARCHIVED = "archived"


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


class Role(enum.Enum):
    """What a signed-in person may do."""

    PROVIDER = "provider"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


class Vocabulary(enum.Enum):
    """The controlled vocabularies held in ``Term``."""

    CATEGORY = "category"
    NEED = "need"
    ACCESSIBILITY = "accessibility"


organisation_members = db.Table(
    "organisation_member",
    db.Column("user_id", String(36), ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    db.Column(
        "organisation_id",
        String(36),
        ForeignKey("organisation.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)


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
    members: Mapped[list[User]] = relationship(
        secondary=organisation_members, back_populates="organisations"
    )


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
        _enum(ListingStatus, "listing_status"), default=ListingStatus.DRAFT, index=True
    )
    kind: Mapped[ListingKind] = mapped_column(_enum(ListingKind, "listing_kind"))
    level: Mapped[ListingLevel] = mapped_column(_enum(ListingLevel, "listing_level"))
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

    __mapper_args__ = {"version_id_col": version}

    organisation: Mapped[Organisation] = relationship(back_populates="listings")
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
        return self.status in (ListingStatus.PUBLISHED, ListingStatus.TEMPORARILY_CLOSED)

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
        from local_offer.geo import sector_of

        return sector_of(self.postcode) or self.postcode.replace(" ", "").upper()

    def public_point(self) -> tuple[float, float] | None:
        """Return where this venue may be shown or measured from: its sector's centre when masked."""
        from local_offer.geo import public_point

        return public_point(self.postcode, self.latitude, self.longitude, self.mask_address)

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
    weekday: Mapped[Weekday | None] = mapped_column(_enum(Weekday, "weekday"))
    opens_at: Mapped[time | None] = mapped_column(Time)
    closes_at: Mapped[time | None] = mapped_column(Time)
    period: Mapped[SchedulePeriod] = mapped_column(
        _enum(SchedulePeriod, "schedule_period"), default=SchedulePeriod.ALL_YEAR
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
    vocabulary: Mapped[Vocabulary] = mapped_column(_enum(Vocabulary, "vocabulary"), index=True)
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


class ListingRevision(db.Model):
    """A draft or pending change to a listing, waiting beside the live version."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    listing_id: Mapped[str] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"), index=True)
    status: Mapped[RevisionStatus] = mapped_column(
        _enum(RevisionStatus, "revision_status"), default=RevisionStatus.DRAFT, index=True
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
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class User(UserMixin, db.Model):
    """A provider, coordinator or administrator who signs in."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    #: Stored lower-case, so sign-in and invitations ignore case.
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), default=Role.PROVIDER)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Bumped when the password changes: every other session of this account then ends.
    session_version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    #: The authenticator app's shared secret, once the second factor is turned on.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    #: Hashes of unused recovery codes (each works once).
    recovery_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The last time-step a code was accepted for, so a code cannot be replayed.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    @property
    def two_factor_enabled(self) -> bool:
        """Say whether signing in needs a code from an authenticator app."""
        return bool(self.totp_secret)

    organisations: Mapped[list[Organisation]] = relationship(
        secondary=organisation_members, back_populates="members"
    )

    @property
    def is_active(self) -> bool:
        """Tell Flask-Login whether this account may sign in."""
        return self.active

    def get_id(self) -> str:
        """Identify the session by account and session version (see ``session_version``)."""
        return f"{self.id}:{self.session_version}"

    def has_role(self, role: Role) -> bool:
        """Say whether this account may act as ``role`` (administrators may do everything)."""
        order = [Role.PROVIDER, Role.COORDINATOR, Role.ADMIN]
        return order.index(self.role) >= order.index(role)


class SiteSetting(db.Model):
    """A setting administrators change in the site (for example, requiring a second factor)."""

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class TokenPurpose(enum.Enum):
    """What an emailed link is for."""

    INVITE = "invite"
    RESET = "reset"


class AccountToken(db.Model):
    """An emailed link that sets a password: expires, and works once. Only its hash is kept."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[TokenPurpose] = mapped_column(_enum(TokenPurpose, "token_purpose"))
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class JoinStatus(enum.Enum):
    """Where a provider's request to join is."""

    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class JoinRequest(db.Model):
    """A provider asking for an account, with their organisation's details, for a coordinator to decide."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(255), index=True)
    organisation_name: Mapped[str] = mapped_column(String(255))
    #: The existing organisation they belong to, when a coordinator matches one.
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisation.id", ondelete="SET NULL"))
    organisation_website: Mapped[str] = mapped_column(String(500), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[JoinStatus] = mapped_column(_enum(JoinStatus, "join_status"), default=JoinStatus.PENDING,
                                               index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[str | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decision_reason: Mapped[str] = mapped_column(Text, default="")


class SignIn(db.Model):
    """One attempt to sign in, for the account's recent sign-ins."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str] = mapped_column(String(255), default="")


class AuditEvent(db.Model):
    """An append-only record of who did what, and when."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[str | None] = mapped_column(String(36), index=True)
    #: Who it was, as text, so the record survives the account being removed.
    actor: Mapped[str] = mapped_column(String(255), default="system")
    action: Mapped[str] = mapped_column(String(80))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(36), index=True)
    #: What changed: {"field": [old, new]} or any JSON that explains the event.
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    ip_address: Mapped[str | None] = mapped_column(String(45))


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _audit_is_append_only(mapper, connection, target) -> None:
    """Refuse to change or remove an audit event once written."""
    raise PermissionError("Audit events are append-only.")


def record_audit(action: str, entity_type: str, entity_id: str | None, *,
                 actor: User | None = None, changes: dict | None = None,
                 ip_address: str | None = None) -> AuditEvent:
    """Add an audit event to the current session (committed with the change it records)."""
    audit = AuditEvent(
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        actor_id=actor.id if actor else None,
        actor=actor.email if actor else "system",
        changes=changes or {},
        ip_address=ip_address,
    )
    db.session.add(audit)
    return audit


# --- Gazetteer: postcodes and places, built offline from packaged open data (see geo.py) ---


class Postcode(db.Model):
    """One GB postcode with its position (Ordnance Survey Code-Point Open)."""

    #: Written the standard way, upper case with one space: "ST16 2AD".
    postcode: Mapped[str] = mapped_column(String(8), primary_key=True)
    outward: Mapped[str] = mapped_column(String(4), index=True)
    sector: Mapped[str] = mapped_column(String(6), index=True)
    latitude: Mapped[float] = mapped_column()
    longitude: Mapped[float] = mapped_column()


class PostcodeSector(db.Model):
    """The centre of a postcode sector ("ST16 2"): the mean of its postcodes."""

    sector: Mapped[str] = mapped_column(String(6), primary_key=True)
    latitude: Mapped[float] = mapped_column()
    longitude: Mapped[float] = mapped_column()
    postcodes: Mapped[int] = mapped_column(Integer)


class OutwardCode(db.Model):
    """The centre of an outward code or postcode district ("ST16")."""

    outward: Mapped[str] = mapped_column(String(4), primary_key=True)
    latitude: Mapped[float] = mapped_column()
    longitude: Mapped[float] = mapped_column()
    postcodes: Mapped[int] = mapped_column(Integer)


class GazetteerArea(db.Model):
    """A postcode area ("ST") whose postcodes are in the gazetteer, and when it was built."""

    area: Mapped[str] = mapped_column(String(2), primary_key=True)
    postcodes: Mapped[int] = mapped_column(Integer)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: True when built because someone looked up a postcode in it, not by `flask geo build`.
    on_demand: Mapped[bool] = mapped_column(Boolean, default=False)


class Place(db.Model):
    """A town or village in Great Britain (GeoNames, population 500 and over)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    latitude: Mapped[float] = mapped_column()
    longitude: Mapped[float] = mapped_column()
    population: Mapped[int] = mapped_column(Integer, default=0)
    #: ENG, SCT or WLS.
    country: Mapped[str] = mapped_column(String(3), default="")


class PlaceName(db.Model):
    """A name a place is known by, normalised for lookup ("newcastle under lyme")."""

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    place_id: Mapped[int] = mapped_column(
        ForeignKey("place.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    place: Mapped[Place] = relationship()


# --- Search: synonyms, the index outbox and what families look for (see search/) ---


class SynonymGroup(db.Model):
    """Words that mean the same to a parent ("ASD", "autism", "ASC"); maintained by coordinators."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    #: Every way of saying it, as typed: ["autism", "ASD", "ASC"].
    terms: Mapped[list[str]] = mapped_column(JSON, default=list)
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


class SearchDemand(db.Model):
    """Searches counted by day and words, kept after the raw log has been pruned."""

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    words: Mapped[str] = mapped_column(String(200), primary_key=True)
    searches: Mapped[int] = mapped_column(Integer, default=0)
    without_results: Mapped[int] = mapped_column(Integer, default=0)


# --- Co-production: families' feedback, moderated, answered in public (see coproduction/) ---


class FeedbackTopic(enum.Enum):
    """What a comment is about (SEND Regulations 2014, reg 56)."""

    CONTENT = "content"
    USABILITY = "usability"
    DEVELOPMENT = "development"


class Respondent(enum.Enum):
    """Who left a comment, as they told us."""

    PARENT_CARER = "parent_carer"
    YOUNG_PERSON = "young_person"
    PROFESSIONAL = "professional"
    PROVIDER = "provider"
    OTHER = "other"


class FeedbackStatus(enum.Enum):
    """Where a comment is: waiting, published (after checks) or excluded."""

    NEW = "new"
    PUBLISHED = "published"
    EXCLUDED = "excluded"


class ExclusionReason(enum.Enum):
    """Why a comment is not published."""

    VEXATIOUS = "vexatious"
    ABUSIVE = "abusive"
    INDIVIDUAL_CASE = "individual_case"


class ResponseStatus(enum.Enum):
    """A council response is written as a draft, then published."""

    DRAFT = "draft"
    PUBLISHED = "published"


class Priority(db.Model):
    """One of the SEND partnership's priorities, as the list stood at one time.

    Rows are never changed or deleted once comments can point at them: editing a
    priority retires its row and adds a new one (same ``code``, ``replaces_id`` set),
    so a comment keeps the priority it was tagged with when the list is refreshed.
    """

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(80), index=True)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    replaces_id: Mapped[str | None] = mapped_column(ForeignKey("priority.id", ondelete="SET NULL"))


feedback_themes = db.Table(
    "feedback_theme",
    db.Column("feedback_id", String(36), ForeignKey("feedback.id", ondelete="CASCADE"), primary_key=True),
    db.Column("theme_id", String(36), ForeignKey("theme.id", ondelete="CASCADE"), primary_key=True),
)

response_feedback = db.Table(
    "council_response_feedback",
    db.Column("response_id", String(36), ForeignKey("council_response.id", ondelete="CASCADE"),
              primary_key=True),
    db.Column("feedback_id", String(36), ForeignKey("feedback.id", ondelete="CASCADE"), primary_key=True),
)


class Theme(db.Model):
    """A tag coordinators give comments ("gaps for teenagers"), to answer and count them together."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Feedback(db.Model):
    """A comment about the Local Offer. ``comment`` is private; only ``published_text`` is ever shown."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    topic: Mapped[FeedbackTopic] = mapped_column(_enum(FeedbackTopic, "feedback_topic"), index=True)
    respondent: Mapped[Respondent] = mapped_column(_enum(Respondent, "respondent"))
    #: Left through the shorter form in simpler words, meant for children and young people.
    simple_form: Mapped[bool] = mapped_column(Boolean, default=False)
    listing_id: Mapped[str | None] = mapped_column(ForeignKey("listing.id", ondelete="SET NULL"), index=True)
    priority_id: Mapped[str | None] = mapped_column(ForeignKey("priority.id", ondelete="RESTRICT"), index=True)
    #: The words as left (sanitised). Emptied by the retention purge unless published unredacted.
    comment: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[FeedbackStatus] = mapped_column(_enum(FeedbackStatus, "feedback_status"),
                                                  default=FeedbackStatus.NEW, index=True)
    #: What the public sees, after any redaction.
    published_text: Mapped[str] = mapped_column(Text, default="")
    redacted: Mapped[bool] = mapped_column(Boolean, default=False)
    exclusion_reason: Mapped[ExclusionReason | None] = mapped_column(_enum(ExclusionReason, "exclusion_reason"))
    exclusion_note: Mapped[str] = mapped_column(Text, default="")
    moderated_by_id: Mapped[str | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    #: When the retention purge removed the private words and contact details.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    listing: Mapped[Listing | None] = relationship()
    priority: Mapped[Priority | None] = relationship()
    themes: Mapped[list[Theme]] = relationship(secondary=feedback_themes, order_by="Theme.name")
    contact: Mapped[FeedbackContact | None] = relationship(back_populates="feedback", uselist=False,
                                                           cascade="all, delete-orphan")
    replies: Mapped[list[FeedbackReply]] = relationship(back_populates="feedback", cascade="all, delete-orphan",
                                                        order_by="FeedbackReply.sent_at")
    responses: Mapped[list[CouncilResponse]] = relationship(secondary=response_feedback,
                                                            back_populates="feedback")


class FeedbackContact(db.Model):
    """How to reply to someone who asked for a reply: kept apart from the comment, purged on schedule."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    feedback_id: Mapped[str] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    feedback: Mapped[Feedback] = relationship(back_populates="contact")


class FeedbackReply(db.Model):
    """A coordinator's private reply, emailed to the person who left a comment."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    feedback_id: Mapped[str] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"), index=True)
    sent_by_id: Mapped[str | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    body: Mapped[str] = mapped_column(Text, default="")

    feedback: Mapped[Feedback] = relationship(back_populates="replies")


class CouncilResponse(db.Model):
    """"You said, we did": the council's answer to comments or a theme, and what it will do by when."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(255))
    you_said: Mapped[str] = mapped_column(Text, default="")
    we_did: Mapped[str] = mapped_column(Text, default="")
    action_due: Mapped[date | None] = mapped_column(Date)
    status: Mapped[ResponseStatus] = mapped_column(_enum(ResponseStatus, "response_status"),
                                                  default=ResponseStatus.DRAFT, index=True)
    theme_id: Mapped[str | None] = mapped_column(ForeignKey("theme.id", ondelete="SET NULL"))
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    theme: Mapped[Theme | None] = relationship()
    feedback: Mapped[list[Feedback]] = relationship(secondary=response_feedback, back_populates="responses",
                                                    order_by="Feedback.created_at")
