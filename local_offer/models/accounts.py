"""Accounts: the people who sign in, their roles and organisations, emailed links and sign-in history."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from local_offer.extensions import db
from local_offer.models.base import UTCDateTime, enum_column, new_id, utcnow
from local_offer.models.directory import Organisation


class Role(enum.Enum):
    """What a signed-in person may do."""

    PROVIDER = "provider"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


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


class User(UserMixin, db.Model):
    """A provider, coordinator or administrator who signs in."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    #: Stored lower-case, so sign-in and invitations ignore case.
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"), default=Role.PROVIDER)
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
    #: The language the person last chose on the site ("pl"): emails to them are in it. None: the default.
    language: Mapped[str | None] = mapped_column(String(10))

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


class TokenPurpose(enum.Enum):
    """What an emailed link is for."""

    INVITE = "invite"
    RESET = "reset"


class AccountToken(db.Model):
    """An emailed link that sets a password: expires, and works once. Only its hash is kept."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[TokenPurpose] = mapped_column(enum_column(TokenPurpose, "token_purpose"))
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
    status: Mapped[JoinStatus] = mapped_column(enum_column(JoinStatus, "join_status"), default=JoinStatus.PENDING,
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
