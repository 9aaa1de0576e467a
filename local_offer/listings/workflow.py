"""Every step of a change to a listing: each one transaction, recorded once in the audit log.

    start_listing        a provider starts a new listing (a draft shell and its first change)
    copy_listing         the same, as a copy of one of their listings, ready to send
    begin_change         a provider opens a change beside a live listing
    save_section         one section of the change is saved (a draft, not yet audited)
    submit               the change is sent for checking
    withdraw             the change is thrown away
    request_status_change  close for a while, archive or reopen, checked like any change
    send_back            a coordinator returns the change with a reason
    approve              a coordinator publishes the change (three-way merge with what is live)
    publish_now          a coordinator publishes their own direct edit
    confirm_accurate     "still accurate": the review dates move on, nothing else changes
    confirm_many         the same for several listings a coordinator checked, in one transaction
    publish              the one publish path under approve, publish_now and imports

Views only parse, call one of these, and render; a function that decides
something commits it, writes its audit entry in the same transaction, then
tells the search index (``get_service().sync()``) and the people concerned.

Optimistic locking works at two levels.  Each row has a version counter, so a
form submitted against an older version is refused (``StaleEdit``).  And each
revision keeps ``base_data``, the live listing as it was when the change began:
approval is a three-way merge, so a field someone else changed meanwhile is
never silently overwritten (``Conflict`` lists the fields changed on both sides).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from local_offer import notifications
from local_offer.extensions import db
from local_offer.listings.data import (
    SECTION_FIELDS,
    STATUS_FIELD,
    audit_value,
    changed_fields,
    listing_data,
    merge,
    new_listing_data,
)
from local_offer.listings.writing import PublishError, apply_data
from local_offer.models import (
    OPEN_REVISIONS,
    Listing,
    ListingKind,
    ListingLevel,
    ListingRevision,
    ListingStatus,
    RevisionStatus,
    User,
    record_audit,
    record_change,
    utcnow,
)
from local_offer.reviews import current_date, next_review
from local_offer.sanitise import clean_text
from local_offer.search import get_service

__all__ = ["Conflict", "PublishError", "StaleEdit"]


class StaleEdit(RuntimeError):
    """A form was filled in against an older version of the listing or change."""


class Conflict(RuntimeError):
    """The live listing changed meanwhile in fields this change also changes."""

    def __init__(self, fields: list[str], merged: dict):
        """Keep the fields changed on both sides and the merged data."""
        super().__init__(", ".join(fields))
        self.fields = fields
        self.merged = merged


def _commit() -> None:
    """Commit the step; someone else saving the same rows first is a StaleEdit, never a 500.

    Two kinds of "first": a row's version moved on (StaleDataError), or the database refused a
    second open change for the listing (the partial unique index of migration 0008).
    """
    try:
        db.session.commit()
    except (StaleDataError, IntegrityError) as error:
        db.session.rollback()
        raise StaleEdit(str(error)) from error


# --- the publish path ---------------------------------------------------------------------


def publish(listing: Listing, data: dict, *, actor: User | None, action: str,
            assured: date | None = None, extra: dict | None = None, ip_address: str | None = None,
            sync: bool = True, audit_fields: bool = True) -> None:
    """Make ``data`` the live version of ``listing``: database, audit and search, in one path.

    Used by moderation (approval and direct edits), and by imports and the API.
    The caller has added any other rows it wants committed with the change
    (a revision's decision, say).  Raises PublishError (nothing written) when the
    data cannot be published, StaleEdit when someone else saved the listing first.
    The audit entry holds every changed field, old and new, then ``extra``; seed
    content (``audit_fields=False``) records only ``extra``.
    """
    before = listing_data(listing) if listing.status is not ListingStatus.DRAFT and listing.name else None
    try:
        with db.session.no_autoflush:
            apply_data(listing, data)
        status = ListingStatus(data.get(STATUS_FIELD) or "published")
        if status in (ListingStatus.DRAFT, ListingStatus.PENDING):
            status = ListingStatus.PUBLISHED
        listing.status = status
        if assured is not None:
            listing.assured_date = assured
            listing.review_due = next_review(assured)
        changes = {field: [audit_value((before or {}).get(field)), audit_value(data.get(field))]
                   for field in changed_fields(before, data)} if audit_fields else {}
        changes.update(extra or {})
        record_audit(action, "listing", listing.id, actor=actor, changes=changes, ip_address=ip_address)
        record_change(listing.id)
        db.session.commit()
    except StaleDataError as error:
        db.session.rollback()
        raise StaleEdit(str(error)) from error
    except (PublishError, ValueError, KeyError, TypeError, AttributeError) as error:
        db.session.rollback()
        raise error if isinstance(error, PublishError) else PublishError(str(error)) from error
    if sync:  # imports sync once at the end instead
        get_service().sync()


# --- changes beside the live listing ---------------------------------------------------------


def open_revision(listing: Listing) -> ListingRevision | None:
    """Return the change being written or waiting for this listing, if there is one."""
    return db.session.execute(
        select(ListingRevision).where(ListingRevision.listing_id == listing.id,
                                      ListingRevision.status.in_(OPEN_REVISIONS))
        .order_by(ListingRevision.created_at.desc())).scalars().first()


def start_revision(listing: Listing, actor: User, data: dict | None = None) -> ListingRevision:
    """Begin a change to a listing (or return the one already open), based on what is live."""
    revision = open_revision(listing)
    if revision is not None:
        return revision
    live = listing_data(listing) if listing.is_visible or listing.status is ListingStatus.ARCHIVED else None
    if data is None:
        # A listing never published (its first draft thrown away) starts again from its shell.
        data = dict(live) if live is not None else {**listing_data(listing), "status": "published", "_done": []}
    revision = ListingRevision(listing=listing, data=data, base_data=live,
                               base_version=listing.version, created_by_id=actor.id, status=RevisionStatus.DRAFT)
    db.session.add(revision)
    return revision


def start_listing(organisation_id: str, name: str, kind: str, actor: User, ip_address: str | None = None) -> Listing:
    """Start a new listing for an organisation: a draft shell and its first change, sections to fill in."""
    data = new_listing_data(" ".join((name or "").split()), kind)
    data["_done"] = []
    listing = Listing(organisation_id=organisation_id, name=data["name"], kind=ListingKind(data["kind"]),
                      level=ListingLevel.UNIVERSAL, status=ListingStatus.DRAFT)
    db.session.add(listing)
    db.session.flush()
    db.session.add(ListingRevision(listing=listing, data=data, base_data=None, base_version=None,
                                   created_by_id=actor.id, status=RevisionStatus.DRAFT))
    record_audit("listing.started", "listing", listing.id, actor=actor,
                 changes={"name": data["name"], "organisation": listing.organisation_id}, ip_address=ip_address)
    db.session.commit()
    return listing


#: What a copy leaves behind: each row's own id (its venues are kept: the same place, shared).
_ROW_IDS = {"locations": ("link_id",), "schedules": ("id",), "costs": ("id",), "contacts": ("id",)}


def copy_listing(source: Listing, name: str, actor: User, ip_address: str | None = None) -> Listing:
    """Start a new listing as a copy of another: its content under a new name, as a draft ready to send.

    Only what families read is copied (the open change's version, if there is one): never the
    source's id, review dates, history or feed.  Every section the source had filled in counts
    as done, so the provider can change what differs and send it for checking at once.
    """
    revision = open_revision(source)
    data = dict(revision.data) if revision is not None else listing_data(source)
    done = set(data.get("_done") or []) if revision is not None and revision.base_data is None \
        else set(SECTION_FIELDS)
    for key, hidden in _ROW_IDS.items():
        data[key] = [{k: v for k, v in row.items() if k not in hidden} for row in data.get(key) or []]
    data.update(name=" ".join(clean_text(name).split()), status="published", _done=sorted(done))
    listing = Listing(organisation_id=source.organisation_id, name=data["name"],
                      kind=ListingKind(data.get("kind") or "activity"), level=ListingLevel.UNIVERSAL,
                      status=ListingStatus.DRAFT)
    db.session.add(listing)
    db.session.flush()
    db.session.add(ListingRevision(listing=listing, data=data, base_data=None, base_version=None,
                                   created_by_id=actor.id, status=RevisionStatus.DRAFT))
    record_audit("listing.started", "listing", listing.id, actor=actor, ip_address=ip_address,
                 changes={"name": data["name"], "organisation": listing.organisation_id, "copied_from": source.id})
    db.session.commit()
    return listing


def begin_change(listing: Listing, actor: User) -> ListingRevision:
    """Open a change to a live listing (or return the open one); it waits beside the published version."""
    revision = start_revision(listing, actor)
    _commit()
    return revision


def save_section(listing: Listing, revision: ListingRevision | None, section: str, values: dict,
                 actor: User) -> ListingRevision:
    """Save one section's values into the open change (starting one if needed): a draft to come back to.

    Drafts are not audited: the change is, when it is sent for checking.
    """
    if revision is None:
        revision = start_revision(listing, actor)
    data = dict(revision.data)
    data.update(values)
    if revision.base_data is None:
        data["_done"] = sorted(set(data.get("_done") or []) | {section})
    revision.data = data
    if revision.status is RevisionStatus.RETURNED:
        revision.status = RevisionStatus.DRAFT
    if revision.base_data is None and section == "about":
        listing.name, listing.kind = data["name"], ListingKind(data["kind"])
    _commit()
    return revision


def _send(listing: Listing, revision: ListingRevision, note: str, actor: User, ip_address: str | None,
          **changes) -> None:
    """Put a change in the coordinators' queue and audit it (the caller commits)."""
    revision.status = RevisionStatus.PENDING
    revision.submitted_at = utcnow()
    revision.note = clean_text(note)
    if listing.status is ListingStatus.DRAFT:
        listing.status = ListingStatus.PENDING
    record_audit("revision.submitted", "listing", listing.id, actor=actor,
                 changes={"revision": revision.id, **changes}, ip_address=ip_address)


def submit(listing: Listing, revision: ListingRevision, note: str, actor: User, ip_address: str | None = None) -> None:
    """Send the open change for a coordinator to check."""
    _send(listing, revision, note, actor, ip_address)
    _commit()


def withdraw(listing: Listing, revision: ListingRevision, actor: User, ip_address: str | None = None) -> None:
    """Throw away the open change; the live listing (if any) is untouched."""
    revision.status = RevisionStatus.WITHDRAWN
    revision.decided_at = utcnow()
    if listing.status is ListingStatus.PENDING:
        listing.status = ListingStatus.DRAFT
    record_audit("revision.withdrawn", "listing", listing.id, actor=actor,
                 changes={"revision": revision.id}, ip_address=ip_address)
    _commit()


def request_status_change(listing: Listing, status: str, note: str, actor: User,
                          ip_address: str | None = None) -> ListingRevision:
    """Ask to close for a while, archive or reopen: a change of status alone, checked like any change."""
    revision = start_revision(listing, actor)
    revision.data = {**revision.data, STATUS_FIELD: status}
    _send(listing, revision, note, actor, ip_address, status=status)
    _commit()
    return revision


# --- coordinators' decisions ---------------------------------------------------------------


def send_back(revision: ListingRevision, reason: str, actor: User, ip_address: str | None = None) -> str:
    """Return a change to its provider with a reason (shown in the portal and emailed); return the reason."""
    reason = clean_text(reason)
    listing = revision.listing
    revision.status = RevisionStatus.RETURNED
    revision.decision_reason = reason
    revision.decided_by_id = actor.id
    revision.decided_at = utcnow()
    if listing.status is ListingStatus.PENDING:
        listing.status = ListingStatus.DRAFT
    record_audit("revision.returned", "listing", listing.id, actor=actor,
                 changes={"revision": revision.id, "reason": reason}, ip_address=ip_address)
    _commit()
    notifications.change_sent_back(listing, reason, revision)
    return reason


def approve(revision: ListingRevision, actor: User, *, accept_conflicts: bool = False,
            ip_address: str | None = None) -> list[str]:
    """Publish a waiting change through the publish path; return the fields merged over others' changes.

    Raises Conflict (nothing written) when the live listing changed meanwhile in
    the same fields, unless the coordinator has seen both versions and chosen this one.
    """
    listing = revision.listing
    live = listing_data(listing) if revision.base_data is not None else None
    merged, conflicts = merge(revision.base_data, live or {}, revision.data)
    if conflicts and not accept_conflicts:
        raise Conflict(conflicts, merged)
    now = utcnow()
    revision.status = RevisionStatus.APPROVED
    revision.decided_by_id = actor.id
    revision.decided_at = now
    revision.decision_reason = ""
    checked = (revision.submitted_at or now).date()
    publish(listing, merged, actor=actor, action="listing.approved", assured=checked, ip_address=ip_address,
            extra={"revision": revision.id, **({"overrode": conflicts} if conflicts else {})})
    notifications.change_published(listing, revision)
    return conflicts


def publish_now(listing: Listing, revision: ListingRevision, actor: User, ip_address: str | None = None) -> list[str]:
    """Publish a coordinator's own direct edit (checked by its author) through the approval path.

    The change is sent for checking and approved in one transaction, audited as both.
    When it cannot be published as it is (a conflict with a change made meanwhile, data
    the publish path refuses, or someone saving the listing at the same moment) it is
    left waiting in the queue, so the coordinator can compare both versions on its page.
    """
    try:
        _queue_own_change(listing, revision, actor, ip_address)
        return approve(revision, actor, ip_address=ip_address)
    except StaleDataError as error:  # someone saved the change or the listing first (seen on a flush)
        db.session.rollback()
        raise StaleEdit(str(error)) from error
    except (Conflict, PublishError, StaleEdit):
        revision = db.session.get(ListingRevision, revision.id)
        if revision is not None and revision.status in (RevisionStatus.DRAFT, RevisionStatus.RETURNED):
            _queue_own_change(listing, revision, actor, ip_address)  # the failed publish rolled the step back
        if revision is not None and revision.status is RevisionStatus.PENDING:
            _commit()  # left waiting in the queue, so its page can show both versions
        raise


def _queue_own_change(listing: Listing, revision: ListingRevision, actor: User, ip_address: str | None) -> None:
    """Put a coordinator's direct edit in the queue, audited as sent for checking (the caller commits)."""
    revision.status = RevisionStatus.PENDING
    revision.submitted_at = revision.submitted_at or utcnow()
    record_audit("revision.submitted", "listing", listing.id, actor=actor,
                 changes={"revision": revision.id}, ip_address=ip_address)


def confirm_accurate(listing: Listing, actor: User | None, today: date | None = None,
                     ip_address: str | None = None, details: dict | None = None) -> None:
    """Record that the listing is still accurate: checked today, next review a period later.

    Nothing else about the listing changes.  The search index hears of it in the same
    transaction (the outbox), so a listing hidden for being overdue is searchable again
    as soon as this returns; a failed index write waits in the outbox to be retried.
    ``details`` (how it was checked, a note) goes into the audit entry.
    """
    confirm_many([listing], actor, today=today, ip_address=ip_address, details=details)


def confirm_many(listings: list[Listing], actor: User | None, *, today: date | None = None,
                 ip_address: str | None = None, details: dict | None = None) -> None:
    """Confirm several listings still accurate in one transaction (a coordinator's checks), each audited."""
    today = today or current_date()
    for listing in listings:
        before = {"assured_date": listing.assured_date, "review_due": listing.review_due}
        listing.assured_date = today
        listing.review_due = next_review(today)
        record_audit("listing.confirmed", "listing", listing.id, actor=actor, ip_address=ip_address, changes={
            **{name: [value.isoformat() if value else None, getattr(listing, name).isoformat()]
               for name, value in before.items()}, **(details or {})})
        record_change(listing.id)
    _commit()
    get_service().sync()
