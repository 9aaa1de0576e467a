"""What every part of the data model shares: ids, times, stored enums, the audit log and site settings.

Every ORUK entity has a string UUID id (``new_id``), kept from the source when
imported.  All datetimes are timezone-aware UTC, on SQLite as well as
PostgreSQL (``UTCDateTime``).  Enums are stored by value as checked strings
(``enum_column``), so they read the same on every database.  ``AuditEvent`` is
append-only: the ORM refuses to update or delete it.  ``SiteSetting`` holds
what administrators change in the site.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime, Enum, Integer, String, TypeDecorator, event
from sqlalchemy.orm import Mapped, mapped_column

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


def enum_column(cls: type[enum.Enum], name: str) -> Enum:
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


class SiteSetting(db.Model):
    """A setting administrators change in the site (for example, requiring a second factor)."""

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


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
                 actor=None, changes: dict | None = None,
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
