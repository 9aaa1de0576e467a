"""Reviews as a work queue: coordinators filter listings due for review and act on many at once.

``/admin/reviews`` lists public listings due soon, overdue or hidden from search for
an overdue review, and those a coordinator took off the directory until checked,
filtered by state and provider.  Coordinators tick many (or take every listing
matching the filters) and, in one request:

    remind(listings, actor)                     email each provider now, once per person
    mark_checked(listings, actor, how, note)    checked by phone, email or visit: the dates move on
    hide(listings, actor, note)                 off the directory until checked
    extend(listings, actor, months, note)       a later review date (not an edit)

Each writes its audit entries (who, and how) in the same transaction as the change.
A provider's "Still accurate" link from the reminder email ends in ``confirm_link``.
"""

from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from sqlalchemy import and_, false, func, or_, select, true, update
from sqlalchemy.orm import selectinload

from local_offer import mail, review_links, reviews
from local_offer.extensions import db
from local_offer.i18n import _
from local_offer.listings import workflow
from local_offer.models import (
    PUBLIC_STATUSES, AuditEvent, Listing, ListingStatus, Organisation, User, record_audit, record_change,
)
from local_offer.sanitise import clean_text
from local_offer.search import get_service

#: Most listings one request may change (more is refused with a message, never half done).
MAX_AT_ONCE = 200
#: Rows on one page of the queue.
PAGE_SIZE = 100
#: The states a coordinator may filter by ("" is everything needing attention).
STATES = ("", "due", "overdue", "hidden")
#: How a coordinator checked a listing.
HOW_CHECKED = ("phone", "email", "visit")
#: How many months a review may be put off.
EXTEND_MONTHS = (1, 3, 6)
#: Longest note kept with an action.
NOTE_MAX = 500
#: The audit action of taking a listing off the directory until it is checked.
HIDDEN_ACTION = "listing.review_hidden"


class QueueError(ValueError):
    """A request the queue refuses as a whole: nothing is changed."""


# --- listings taken off the directory until checked ----------------------------------------------


def hidden_by_coordinators(listing_ids: list[str] | None = None) -> dict[str, ListingStatus]:
    """Return the listings a coordinator took off until checked, with the status each had before.

    A listing is still taken off while it is archived at the very version the hiding
    left it at (any later edit, an approved change say, bumps the version).
    """
    query = select(AuditEvent.entity_id, AuditEvent.changes).where(AuditEvent.action == HIDDEN_ACTION)
    if listing_ids is not None:
        query = query.where(AuditEvent.entity_id.in_(listing_ids[:MAX_AT_ONCE * 10]))
    latest: dict[str, dict] = {}
    for entity_id, changes in db.session.execute(query.order_by(AuditEvent.occurred_at, AuditEvent.id)):
        latest[entity_id] = changes or {}
    if not latest:
        return {}
    versions = dict(db.session.execute(select(Listing.id, Listing.version).where(
        Listing.id.in_(list(latest)), Listing.status == ListingStatus.ARCHIVED)).all())
    found = {}
    for listing_id, version in versions.items():
        changes = latest[listing_id]
        if changes.get("version") == version:
            before = (changes.get("status") or ["published"])[0]
            found[listing_id] = ListingStatus(before) if before in {s.value for s in PUBLIC_STATUSES} \
                else ListingStatus.PUBLISHED
    return found


# --- the queue -----------------------------------------------------------------------------------


@dataclass
class QueueRow:
    """One listing in the queue."""

    listing: Listing
    #: "due_soon", "overdue", "hidden" (from search, for an overdue review) or "taken_off" (by a coordinator).
    state: str
    reminded_at: object = None

    @property
    def reminded(self) -> bool:
        """Say whether the provider has been reminded about the current review date."""
        due = self.listing.review_due
        return due is not None and self.listing.review_reminded_for == due

    @property
    def emailable(self) -> bool:
        """Say whether anyone at the provider can be emailed a reminder (else: phone them)."""
        return bool(reviews.recipients_for(self.listing.organisation))


@dataclass
class Queue:
    """One page of the queue, with how many listings each filter holds."""

    state: str
    organisation_id: str
    page: int
    total: int
    rows: list[QueueRow] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    organisations: list[tuple[str, str]] = field(default_factory=list)

    @property
    def pages(self) -> int:
        """Return how many pages the filtered queue fills."""
        return max(1, -(-self.total // PAGE_SIZE))


def _condition(state: str, today: date, chosen: reviews.ReviewSettings, taken_off: list[str]):
    """Return the SQL condition for a state filter (see ``STATES``)."""
    public = and_(Listing.status.in_(PUBLIC_STATUSES), Listing.feed_id.is_(None))
    cutoff = reviews.hidden_cutoff(today, chosen)
    horizon = reviews.remind_horizon(today)
    overdue = or_(Listing.review_due.is_(None), Listing.review_due < today)
    if state == "due":
        return and_(public, Listing.review_due >= today, Listing.review_due <= horizon)
    if state == "overdue":
        not_hidden = true() if cutoff is None else or_(Listing.review_due.is_(None), Listing.review_due >= cutoff)
        return and_(public, overdue, not_hidden)
    if state == "hidden":
        hidden = false() if cutoff is None else and_(public, Listing.review_due < cutoff)
        return or_(hidden, Listing.id.in_(taken_off))
    return or_(and_(public, or_(Listing.review_due.is_(None), Listing.review_due <= horizon)),
               Listing.id.in_(taken_off))


def _filtered(state: str, organisation_id: str, today: date, chosen: reviews.ReviewSettings,
              taken_off: list[str]):
    condition = _condition(state, today, chosen, taken_off)
    if organisation_id:
        condition = and_(condition, Listing.organisation_id == organisation_id)
    return condition


def clean_filters(state: str | None, organisation_id: str | None) -> tuple[str, str]:
    """Return the filters as the queue reads them: anything unknown means no filter."""
    state = state if state in STATES else ""
    organisation_id = (organisation_id or "").strip()
    try:
        organisation_id = str(uuid.UUID(organisation_id)) if organisation_id else ""
    except ValueError:
        organisation_id = ""
    return state, organisation_id


def queue(state: str = "", organisation_id: str = "", page: int = 1, today: date | None = None) -> Queue:
    """Return one page of the queue under the filters, oldest review date first, and each filter's count."""
    today = today or reviews.current_date()
    state, organisation_id = clean_filters(state, organisation_id)
    chosen = reviews.settings()
    taken_off = hidden_by_coordinators()
    ids = list(taken_off)
    counts = {}
    for name in STATES:
        counts[name] = db.session.execute(select(func.count()).select_from(Listing).where(
            _filtered(name, organisation_id, today, chosen, ids))).scalar_one()
    total = counts[state]
    page = min(max(1, page), max(1, -(-total // PAGE_SIZE)))
    listings = db.session.execute(
        select(Listing).where(_filtered(state, organisation_id, today, chosen, ids))
        .order_by(Listing.review_due.is_not(None), Listing.review_due, Listing.name, Listing.id)
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
        .options(selectinload(Listing.organisation).selectinload(Organisation.members))).scalars().all()
    rows = [QueueRow(listing, "taken_off" if listing.id in taken_off else reviews.review_state(listing, today, chosen))
            for listing in listings]
    when = reviews._reminded_at([row.listing.id for row in rows if row.reminded])
    for row in rows:
        row.reminded_at = when.get(row.listing.id) if row.reminded else None
    organisations = db.session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(
            select(Listing.organisation_id).where(_filtered("", "", today, chosen, ids))))
        .order_by(Organisation.name)).all()
    return Queue(state=state, organisation_id=organisation_id, page=page, total=total, rows=rows, counts=counts,
                 organisations=[(row.id, row.name) for row in organisations])


def matching_ids(state: str, organisation_id: str, today: date | None = None, limit: int = MAX_AT_ONCE + 1) -> list[str]:
    """Return the ids of listings matching the filters (one more than may be changed at once, at most)."""
    today = today or reviews.current_date()
    state, organisation_id = clean_filters(state, organisation_id)
    ids = list(hidden_by_coordinators())
    return list(db.session.execute(
        select(Listing.id).where(_filtered(state, organisation_id, today, reviews.settings(), ids))
        .order_by(Listing.review_due.is_not(None), Listing.review_due, Listing.name, Listing.id)
        .limit(limit)).scalars())


# --- choosing the listings to change -------------------------------------------------------------


@dataclass
class BulkResult:
    """What one bulk action did."""

    action: str
    done: int = 0
    emails: int = 0
    failed: int = 0
    #: Listings left as they were, each with why.
    skipped: list[tuple[str, str]] = field(default_factory=list)


def resolve(listing_ids: list[str]) -> list[Listing]:
    """Return the listings chosen, in the order given; raise QueueError for too many or unknown ids."""
    unique = list(dict.fromkeys(listing_ids))
    if not unique:
        raise QueueError(_("Choose at least one listing"))
    if len(unique) > MAX_AT_ONCE:
        raise QueueError(_("You chose %(count)s listings. Choose %(max)s or fewer at a time: filter the list, "
                           "for example by provider, and do the rest in another go.",
                           count=f"{len(unique):,}", max=MAX_AT_ONCE))
    try:
        unique = [str(uuid.UUID(value)) for value in unique]
    except (ValueError, AttributeError, TypeError):
        raise QueueError(_("Some of the listings chosen do not exist. Reload the page and choose again.")) from None
    found = {listing.id: listing for listing in db.session.execute(
        select(Listing).where(Listing.id.in_(unique)).options(selectinload(Listing.organisation)
                                                             .selectinload(Organisation.members))).scalars()}
    if len(found) != len(set(unique)):
        raise QueueError(_("Some of the listings chosen do not exist. Reload the page and choose again."))
    return [found[listing_id] for listing_id in dict.fromkeys(unique)]


def _split(listings: list[Listing], result: BulkResult,
           taken_off: dict[str, ListingStatus]) -> tuple[list[Listing], list[Listing]]:
    """Return (public listings of ours, listings taken off until checked); skip and report the rest."""
    live, off = [], []
    for listing in listings:
        if listing.id in taken_off:
            off.append(listing)
        elif listing.feed_id is not None:
            result.skipped.append((listing.name, _("a neighbour's service, reviewed by its own council")))
        elif listing.status not in PUBLIC_STATUSES:
            result.skipped.append((listing.name, _("not on the Local Offer")))
        else:
            live.append(listing)
    return live, off


def add_months(day: date, months: int) -> date:
    """Return the same day some months later (the month's last day when it is shorter: 31 Jan + 1 is 28 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _note(note: str | None) -> str:
    return clean_text(note or "")[:NOTE_MAX]


# --- the actions ---------------------------------------------------------------------------------


def remind(listings: list[Listing], actor: User, ip_address: str | None = None,
           today: date | None = None) -> BulkResult:
    """Email each chosen listing's provider now, whatever its date: one email per person, all their listings."""
    today = today or reviews.current_date()
    result = BulkResult("remind")
    live, off = _split(listings, result, hidden_by_coordinators([listing.id for listing in listings]))
    by_recipient: dict[str, list[Listing]] = {}
    to_mark: dict[str, list[str]] = {}
    for listing in live + off:
        recipients = reviews.recipients_for(listing.organisation)
        if not recipients:
            result.skipped.append((listing.name, _("no email address for its provider")))
            continue
        to_mark[listing.id] = recipients
        for email in recipients:
            by_recipient.setdefault(email, []).append(listing)
    link, chosen, failed = reviews.portal_link(), reviews.settings(), set()
    for email in sorted(by_recipient):
        subject, body = reviews.reminder_message(by_recipient[email], today, link, chosen)
        try:
            mail.send(email, subject, body)
            result.emails += 1
        except Exception as error:  # one bad address must not stop the rest
            current_app.logger.warning("Review reminder to %s failed: %s", email, error)
            failed.add(email)
    result.failed = len(failed)
    for listing in live + off:
        recipients = to_mark.get(listing.id)
        if not recipients:
            continue
        if failed.intersection(recipients):
            result.skipped.append((listing.name, _("the email could not be sent")))
            continue
        result.done += 1
        # Being reminded is not an edit: the version (drafts are checked against) and updated time stay.
        db.session.execute(update(Listing).where(Listing.id == listing.id)
                           .values(review_reminded_for=listing.review_due, updated_at=Listing.updated_at)
                           .execution_options(synchronize_session=False))
        record_audit("listing.review_reminded", "listing", listing.id, actor=actor, ip_address=ip_address,
                     changes={"review_due": listing.review_due.isoformat() if listing.review_due else None,
                              "to": recipients, "how": "reminded now"})
    db.session.commit()
    return result


def _restore(off: list[Listing], taken_off: dict[str, ListingStatus], actor: User | None,
             ip_address: str | None) -> None:
    """Put listings taken off until checked back on the directory (the caller commits)."""
    for listing in off:
        listing.status = taken_off[listing.id]
        record_audit("listing.review_shown", "listing", listing.id, actor=actor, ip_address=ip_address,
                     changes={"status": ["archived", listing.status.value]})


def mark_checked(listings: list[Listing], actor: User, how: str, note: str = "",
                 ip_address: str | None = None, today: date | None = None) -> BulkResult:
    """Record that a coordinator checked each listing (by phone, email or visit): next review a period on."""
    if how not in HOW_CHECKED:
        raise QueueError(_("Choose how you checked them"))
    result = BulkResult("checked")
    taken_off = hidden_by_coordinators([listing.id for listing in listings])
    live, off = _split(listings, result, taken_off)
    if not live + off:
        return result
    _restore(off, taken_off, actor, ip_address)
    details = {"how": how, **({"note": _note(note)} if _note(note) else {})}
    workflow.confirm_many(live + off, actor, today=today, ip_address=ip_address, details=details)
    result.done = len(live + off)
    return result


def hide(listings: list[Listing], actor: User, note: str = "", ip_address: str | None = None) -> BulkResult:
    """Take each listing off the directory until it is checked (marking it checked, or the provider's link)."""
    result = BulkResult("hide")
    taken_off = hidden_by_coordinators([listing.id for listing in listings])
    live, off = _split(listings, result, taken_off)
    result.skipped.extend((listing.name, _("already taken off until checked")) for listing in off)
    for listing in live:
        before = listing.status.value
        listing.status = ListingStatus.ARCHIVED
        db.session.flush()  # the new version, recorded so a later edit is seen to end the hiding
        record_audit(HIDDEN_ACTION, "listing", listing.id, actor=actor, ip_address=ip_address, changes={
            "status": [before, ListingStatus.ARCHIVED.value], "version": listing.version,
            **({"note": _note(note)} if _note(note) else {})})
        record_change(listing.id)
    result.done = len(live)
    db.session.commit()
    get_service().sync()
    return result


def extend(listings: list[Listing], actor: User, months: int, note: str = "",
           ip_address: str | None = None, today: date | None = None) -> BulkResult:
    """Put each listing's review off by some months, from its date (or today, if that is later)."""
    if months not in EXTEND_MONTHS:
        raise QueueError(_("Choose how long to give them"))
    today = today or reviews.current_date()
    result = BulkResult("extend")
    live, off = _split(listings, result, hidden_by_coordinators([listing.id for listing in listings]))
    for listing in live + off:
        before = listing.review_due
        after = add_months(max(before or today, today), months)
        # Not an edit (like a reminder): the version providers' drafts are checked against stays.
        db.session.execute(update(Listing).where(Listing.id == listing.id)
                           .values(review_due=after, updated_at=Listing.updated_at)
                           .execution_options(synchronize_session=False))
        record_audit("listing.review_extended", "listing", listing.id, actor=actor, ip_address=ip_address, changes={
            "review_due": [before.isoformat() if before else None, after.isoformat()], "months": months,
            **({"note": _note(note)} if _note(note) else {})})
        record_change(listing.id)
        result.done += 1
    db.session.commit()
    db.session.expire_all()
    get_service().sync()
    return result


def apply(action: str, listing_ids: list[str], actor: User, *, how: str = "", months: int | None = None,
          note: str = "", ip_address: str | None = None) -> BulkResult:
    """Run one bulk action on the chosen listings; raise QueueError (nothing changed) for a bad request."""
    listings = resolve(listing_ids)
    if action == "remind":
        return remind(listings, actor, ip_address)
    if action == "checked":
        return mark_checked(listings, actor, how, note, ip_address)
    if action == "hide":
        return hide(listings, actor, note, ip_address)
    if action == "extend":
        return extend(listings, actor, months or 0, note, ip_address)
    raise QueueError(_("Choose what to do"))


# --- the provider's "Still accurate" link --------------------------------------------------------


class LinkRefused(Exception):
    """A "Still accurate" link that cannot be used, with the HTTP status and what to tell the person."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def listing_for_link(token: str) -> Listing:
    """Return the listing a "Still accurate" link may confirm now; raise LinkRefused saying why not."""
    try:
        claim = review_links.read_token(token)
    except review_links.LinkError as error:
        if error.kind == "expired":
            raise LinkRefused(410, "expired") from None
        raise LinkRefused(400, "bad") from None
    listing = db.session.get(Listing, claim.listing_id)
    if listing is None:
        raise LinkRefused(404, "gone")
    confirmed_since = listing.assured_date is not None and claim.issued_on is not None \
        and listing.assured_date >= claim.issued_on
    if listing.review_due != claim.review_due or confirmed_since:
        raise LinkRefused(410, "used")
    if listing.status not in PUBLIC_STATUSES and listing.id not in hidden_by_coordinators([listing.id]):
        raise LinkRefused(410, "gone")
    return listing


def confirm_link(token: str, ip_address: str | None = None) -> Listing:
    """Confirm the listing a valid, unused "Still accurate" link names; raise LinkRefused otherwise."""
    listing = listing_for_link(token)
    taken_off = hidden_by_coordinators([listing.id])
    _restore([listing] if listing.id in taken_off else [], taken_off, None, ip_address)
    workflow.confirm_many([listing], None, ip_address=ip_address, details={"how": "link in reminder email"})
    return listing
