"""The data model keeps its promises: aware datetimes, locking, append-only audit, valid ages."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm.exc import StaleDataError

from local_offer.extensions import db
from local_offer.models import (
    AuditEvent,
    Listing,
    ListingKind,
    ListingLevel,
    Organisation,
    record_audit,
)

from support import SWIM


def make_listing(**fields) -> Listing:
    """Add a minimal listing under a new organisation."""
    organisation = Organisation(name="Test organisation")
    listing = Listing(organisation=organisation, name="Test listing", kind=ListingKind.ACTIVITY,
                      level=ListingLevel.UNIVERSAL, **fields)
    db.session.add(listing)
    return listing


def test_ids_are_string_uuids(app):
    """Every ORUK entity gets a string UUID id."""
    listing = make_listing()
    db.session.commit()
    assert len(listing.id) == 36 and listing.id.count("-") == 4
    assert len(listing.organisation.id) == 36


def test_datetimes_come_back_timezone_aware(app):
    """Stored datetimes come back in UTC with their zone, on SQLite too."""
    listing = make_listing()
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Listing, listing.id)
    assert stored.created_at.tzinfo is not None
    assert stored.created_at.utcoffset() == timedelta(0)
    assert abs(datetime.now(timezone.utc) - stored.created_at) < timedelta(minutes=1)


def test_naive_datetimes_are_refused(app):
    """A naive datetime is a bug; storing one fails loudly."""
    listing = make_listing()
    listing.created_at = datetime(2026, 1, 1, 12, 0)
    with pytest.raises(StatementError):
        db.session.commit()
    db.session.rollback()


def test_two_editors_cannot_silently_overwrite_each_other(demo, app):
    """Saving over a version someone else changed raises instead of overwriting."""
    other_session = db.session.session_factory()
    mine = db.session.get(Listing, SWIM)
    theirs = other_session.get(Listing, SWIM)
    assert mine.version == theirs.version
    theirs.summary = "Their change"
    other_session.commit()
    mine.summary = "My change"
    with pytest.raises(StaleDataError):
        db.session.commit()
    db.session.rollback()
    other_session.close()
    assert db.session.get(Listing, SWIM).summary == "Their change"


def test_audit_events_are_append_only(app):
    """An audit event cannot be changed or deleted through the ORM."""
    event = record_audit("listing.updated", "listing", "abc", changes={"name": ["a", "b"]})
    db.session.commit()
    event.action = "tampered"
    with pytest.raises(PermissionError):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, event.id))
    with pytest.raises(PermissionError):
        db.session.commit()
    db.session.rollback()
    assert db.session.execute(select(AuditEvent.action)).scalar_one() == "listing.updated"


@pytest.mark.parametrize("ages", [(-1, 5), (5, 26), (10, 4)])
def test_age_ranges_stay_within_0_to_25(app, ages):
    """The database refuses ages outside 0-25 or a minimum above the maximum."""
    make_listing(min_age=ages[0], max_age=ages[1])
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_unknown_enum_values_are_refused(app):
    """A status outside the allowed set cannot be stored."""
    listing = make_listing()
    db.session.commit()
    with pytest.raises((StatementError, LookupError, ValueError)):
        db.session.execute(
            Listing.__table__.update().where(Listing.id == listing.id).values(status="deleted")
        )
        db.session.commit()
    db.session.rollback()
