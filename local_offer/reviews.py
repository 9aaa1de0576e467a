"""Reviews: keeping listings checked, reminding providers, and telling families when they are not.

Every public listing has a review date (``Listing.review_due``): the provider
confirms it is still accurate by then, which sets ``assured_date`` to today
and the next review ``REVIEW_PERIOD_DAYS`` (365) later.  ``flask reviews
remind``, run daily from cron, emails each provider once per review period,
``REVIEW_REMIND_DAYS`` (28) before the date; ``review_reminded_for`` remembers
which review date they were told about, so a second run sends nothing.

Administrators choose (site setting ``reviews``) whether overdue listings are
labelled for families ("Not checked since March 2025") and whether, a grace
period after the review fell due, they are hidden from search and category
pages until confirmed.  The listing page itself stays reachable for bookmarks.
Coordinators see what is overdue, due soon and hidden, and why, at
``/admin/reviews``.

    state = review_state(listing)              # "ok", "due_soon", "overdue" or "hidden"
    label = overdue_label(listing)             # "Not checked since March 2025", or None

The provider's one click ("still accurate") is ``listings.workflow.confirm_accurate``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import format_date
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import selectinload
from werkzeug.routing import BuildError

from local_offer import mail, review_links
from local_offer.notifications import external_url
from local_offer.extensions import db
from local_offer.i18n import _, ngettext
from local_offer.models import PUBLIC_STATUSES, AuditEvent, Listing, Organisation, SiteSetting, User, record_audit
from local_offer.users import email_footer

#: The ``SiteSetting`` key holding the administrators' review settings.
SETTING_KEY = "reviews"
#: Longest grace period an administrator may set (ten years).
MAX_HIDE_AFTER_DAYS = 3650

OK = "ok"
DUE_SOON = "due_soon"
OVERDUE = "overdue"
HIDDEN = "hidden"


# --- settings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewSettings:
    """What administrators chose: label overdue listings, and hide them after a grace period."""

    #: Show families "Not checked since March 2025" on overdue listings.
    label_overdue: bool = True
    #: Hide a listing from search this many days after its review fell due; None never hides.
    hide_after_days: int | None = None


def _cache() -> dict:
    """Return this app's settings cache (per app, so tests and second apps never share it)."""
    return current_app.extensions.setdefault("local_offer_reviews", {})


def _from_value(value: dict | None) -> ReviewSettings:
    """Read stored settings defensively: anything missing or malformed takes its default."""
    value = value or {}
    hide = value.get("hide_after_days")
    if not isinstance(hide, int) or isinstance(hide, bool) or not 1 <= hide <= MAX_HIDE_AFTER_DAYS:
        hide = None
    return ReviewSettings(label_overdue=bool(value.get("label_overdue", True)), hide_after_days=hide)


def settings() -> ReviewSettings:
    """Return the review settings, read from the database at most every few seconds per process.

    Search and every result card ask; ``REVIEW_SETTINGS_CACHE_SECONDS`` (10) bounds how
    long another worker takes to see an administrator's change.
    """
    cache = _cache()
    ttl = current_app.config.get("REVIEW_SETTINGS_CACHE_SECONDS", 10)
    cached = cache.get("settings")
    if cached and ttl and time.monotonic() - cached[0] < ttl:
        return cached[1]
    row = db.session.get(SiteSetting, SETTING_KEY)
    result = _from_value(row.value if row else None)
    cache["settings"] = (time.monotonic(), result)
    return result


def save_settings(label_overdue: bool, hide_after_days: int | None, actor: User,
                  ip_address: str | None = None) -> ReviewSettings:
    """Store new review settings and audit what changed; raise ValueError for a bad grace period."""
    if hide_after_days is not None and not 1 <= hide_after_days <= MAX_HIDE_AFTER_DAYS:
        raise ValueError(f"hide_after_days must be from 1 to {MAX_HIDE_AFTER_DAYS}, not {hide_after_days!r}")
    row = db.session.get(SiteSetting, SETTING_KEY) or SiteSetting(key=SETTING_KEY, value={})
    before = _from_value(row.value)
    after = ReviewSettings(label_overdue=bool(label_overdue), hide_after_days=hide_after_days)
    row.value = {"label_overdue": after.label_overdue, "hide_after_days": after.hide_after_days}
    db.session.add(row)
    changes = {name: [getattr(before, name), getattr(after, name)]
               for name in ("label_overdue", "hide_after_days") if getattr(before, name) != getattr(after, name)}
    if changes:
        record_audit("settings.reviews", "setting", None, actor=actor, changes=changes, ip_address=ip_address)
    db.session.commit()
    _cache().pop("settings", None)
    return after


# --- dates and states ----------------------------------------------------------------------------


def current_date() -> date:
    """Return today's date, as the rest of the directory counts days."""
    return date.today()


def next_review(checked: date) -> date:
    """Return when a listing checked on ``checked`` is next due for review."""
    return checked + timedelta(days=current_app.config["REVIEW_PERIOD_DAYS"])


def remind_horizon(today: date) -> date:
    """Return the latest review date that counts as due soon (and gets a reminder) on ``today``."""
    return today + timedelta(days=current_app.config["REVIEW_REMIND_DAYS"])


def hidden_cutoff(today: date, chosen: ReviewSettings | None = None) -> date | None:
    """Return the date before which a review date means hidden from search; None when hiding is off.

    A listing whose review fell due more than ``hide_after_days`` days ago is hidden:
    ``review_due < today - hide_after_days``.
    """
    hide = (chosen or settings()).hide_after_days
    return today - timedelta(days=hide) if hide else None


def hidden_since(listing: Listing, chosen: ReviewSettings | None = None) -> date | None:
    """Return the first day a listing is (or will be) hidden from search, or None when it never is."""
    hide = (chosen or settings()).hide_after_days
    if not hide or listing.review_due is None:
        return None
    return listing.review_due + timedelta(days=hide + 1)


def review_state(listing: Listing, today: date | None = None, chosen: ReviewSettings | None = None) -> str:
    """Say where a listing is in its review: ``"ok"``, ``"due_soon"``, ``"overdue"`` or ``"hidden"``.

    A listing with no review date has never been checked, so it counts as overdue (but is
    never hidden: there is no date to count a grace period from).
    """
    today = today or current_date()
    due = listing.review_due
    if due is None:
        return OVERDUE
    if due < today:
        cutoff = hidden_cutoff(today, chosen)
        return HIDDEN if cutoff is not None and due < cutoff else OVERDUE
    return DUE_SOON if due <= remind_horizon(today) else OK


def overdue_label(listing: Listing, today: date | None = None) -> str | None:
    """Return what families are told about an overdue listing, or None (not overdue, or labels off).

    "Not checked since March 2025", or "Not yet checked" when nobody ever has.
    """
    chosen = settings()
    if not chosen.label_overdue or review_state(listing, today, chosen) not in (OVERDUE, HIDDEN):
        return None
    if listing.assured_date is None:
        return _("Not yet checked")
    return _("Not checked since %(month)s", month=format_date(listing.assured_date, "MMMM yyyy"))


# --- reminders -----------------------------------------------------------------------------------


@dataclass
class ReminderLine:
    """One listing a reminder run looked at, and what happened to it."""

    listing_id: str
    name: str
    organisation: str
    review_due: date
    #: "sent" (or "would send" on a dry run), "already reminded", "no address" or "failed".
    outcome: str
    recipients: list[str] = field(default_factory=list)


@dataclass
class ReminderReport:
    """What ``remind`` did (or, on a dry run, would do)."""

    today: date
    dry_run: bool
    emails: int = 0
    listings: int = 0
    already_reminded: int = 0
    no_address: int = 0
    #: Emails the mail server refused; their listings are tried again on the next run.
    failed: int = 0
    lines: list[ReminderLine] = field(default_factory=list)


def recipients_for(organisation: Organisation) -> list[str]:
    """Return who hears about an organisation's reviews: its active accounts, else its own email."""
    members = sorted({user.email for user in organisation.members if user.active and user.email})
    if members:
        return members
    return [organisation.email.strip()] if organisation.email and organisation.email.strip() else []


def _due_listings(today: date) -> list[Listing]:
    """Return the public listings whose review is due by the reminder horizon, soonest first."""
    query = (select(Listing)
             .where(Listing.status.in_(PUBLIC_STATUSES), Listing.review_due.is_not(None),
                    Listing.review_due <= remind_horizon(today))
             .order_by(Listing.review_due, Listing.name, Listing.id)
             .options(selectinload(Listing.organisation).selectinload(Organisation.members)))
    return list(db.session.execute(query).scalars())


def remind(today: date | None = None, dry_run: bool = False,
           progress: Callable[[Iterable], Iterable] | None = None) -> ReminderReport:
    """Email providers whose listings are due for review, once per review date; safe to run daily.

    Each recipient gets one email listing all their due listings.  A listing is marked
    reminded for its current review date (without counting as an edit), so the next run
    skips it until a confirmation sets a new date.  Listings with nobody to email are
    reported every run, so coordinators can fix them.  A dry run sends and changes nothing.
    """
    today = today or current_date()
    report = ReminderReport(today=today, dry_run=dry_run)
    by_recipient: dict[str, list[Listing]] = {}
    to_mark: list[ReminderLine] = []
    for listing in _due_listings(today):
        line = ReminderLine(listing.id, listing.name, listing.organisation.name, listing.review_due, outcome="")
        report.lines.append(line)
        if listing.review_reminded_for == listing.review_due:
            line.outcome = "already reminded"
            report.already_reminded += 1
            continue
        line.recipients = recipients_for(listing.organisation)
        if not line.recipients:
            line.outcome = "no address"
            report.no_address += 1
            continue
        line.outcome = "would send" if dry_run else "sent"
        report.listings += 1
        to_mark.append(line)
        for email in line.recipients:
            by_recipient.setdefault(email, []).append(listing)
    report.emails = len(by_recipient)
    if dry_run or not by_recipient:
        return report
    link = portal_link()
    chosen = settings()
    recipients = sorted(by_recipient)
    failed: set[str] = set()
    for email in (progress(recipients) if progress else recipients):
        subject, body = reminder_message(by_recipient[email], today, link, chosen)
        try:
            mail.send(email, subject, body)
        except Exception as error:  # one bad address or mail outage must not stop the rest
            current_app.logger.warning("Review reminder to %s failed; will retry next run: %s", email, error)
            failed.add(email)
    report.emails -= len(failed)
    report.failed = len(failed)
    for line in to_mark:
        if failed.intersection(line.recipients):
            # Not marked, so the next run tries again (some people may get it twice).
            line.outcome = "failed"
            report.listings -= 1
            continue
        # A bulk UPDATE: being reminded is not an edit, so the listing's version (which
        # providers' drafts are checked against) and its updated time stay as they were.
        db.session.execute(update(Listing).where(Listing.id == line.listing_id,
                                                 Listing.review_due == line.review_due)
                           .values(review_reminded_for=line.review_due, updated_at=Listing.updated_at)
                           .execution_options(synchronize_session=False))
        record_audit("listing.review_reminded", "listing", line.listing_id,
                     changes={"review_due": line.review_due.isoformat(), "to": line.recipients})
    db.session.commit()
    return report


def portal_link() -> str:
    """Return the full address of the provider portal, in a request or from a command.

    The address is on the site's public URL (``LOCAL_OFFER_PUBLIC_URL``), in a
    request or from cron; the account page stands in if the portal is not installed.
    """
    try:
        return external_url("portal.dashboard")
    except BuildError:
        return external_url("accounts.dashboard")


def _still_accurate_link(listing: Listing) -> str | None:
    """Return the listing's signed "Still accurate" address, or None when the portal is not installed."""
    try:
        return review_links.link_for(listing)
    except BuildError:
        return None


def reminder_message(listings: list[Listing], today: date, link: str,
                     chosen: ReviewSettings | None = None) -> tuple[str, str]:
    """Return the subject and body of one provider's reminder about their due listings."""
    config = current_app.config
    chosen = chosen or settings()
    subject = ngettext("%(num)s Local Offer listing needs checking", "%(num)s Local Offer listings need checking",
                       len(listings))
    parts = [_("Hello,"),
             ngettext("This listing on the %(service)s is due to be checked:",
                      "These listings on the %(service)s are due to be checked:", len(listings),
                      service=config["SERVICE_NAME"])]
    by_organisation: dict[str, list[Listing]] = {}
    for listing in listings:
        by_organisation.setdefault(listing.organisation.name, []).append(listing)
    for organisation, items in sorted(by_organisation.items()):
        lines = [organisation]
        for listing in items:
            due = format_date(listing.review_due, "d MMMM y") if listing.review_due else None
            lines.append("- " + (_("%(name)s: not checked yet", name=listing.name) if due is None else
                                 _("%(name)s: was due by %(date)s (overdue)", name=listing.name, date=due)
                                 if listing.review_due < today else
                                 _("%(name)s: due by %(date)s", name=listing.name, date=due)))
            still_accurate = _still_accurate_link(listing)
            if still_accurate:
                lines.append("  " + _("Nothing has changed? Confirm it is still accurate:") + " " + still_accurate)
        parts.append("\n".join(lines))
    parts.append(_("Families choose support from the Local Offer. If a listing is out of date, they may travel to "
                   "a session that has moved or stopped, or miss one that would suit their child."))
    parts.append(_("If something has changed, sign in to send the changes and we will check them (you can also "
                   "confirm listings there):"))
    parts.append(link)
    parts.append(_("Each link to confirm a listing works once, for 30 days."))
    if chosen.label_overdue:
        parts.append(_("After the date, families see a note that the listing has not been checked recently."))
    if chosen.hide_after_days:
        parts.append(ngettext(
            "A listing not checked within %(num)s day of its date is hidden from search until you confirm it.",
            "A listing not checked within %(num)s days of its date is hidden from search until you confirm it.",
            chosen.hide_after_days))
    parts.append(email_footer())
    return subject, "\n\n".join(parts)


# --- the coordinators' dashboard -----------------------------------------------------------------


@dataclass
class DashboardRow:
    """One listing on the coordinators' review dashboard."""

    listing: Listing
    state: str
    organisation: str
    assured_date: date | None
    review_due: date | None
    reminded_for: date | None
    #: The first day it was hidden from search (hidden listings only).
    hidden_since: date | None = None
    #: When the provider was last reminded about this review date (from the audit log).
    reminded_at: datetime | None = None

    @property
    def reminded(self) -> bool:
        """Say whether the provider has been reminded about the current review date."""
        return self.reminded_for is not None and self.reminded_for == self.review_due


@dataclass
class Dashboard:
    """Listings hidden from search, overdue and due soon, for coordinators."""

    today: date
    settings: ReviewSettings
    hidden: list[DashboardRow] = field(default_factory=list)
    overdue: list[DashboardRow] = field(default_factory=list)
    due_soon: list[DashboardRow] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Return how many listings need attention."""
        return len(self.hidden) + len(self.overdue) + len(self.due_soon)


def _needing_review(today: date):
    """Return the condition for public listings overdue or due by the reminder horizon."""
    return and_(Listing.status.in_(PUBLIC_STATUSES),
                or_(Listing.review_due.is_(None), Listing.review_due <= remind_horizon(today)))


def dashboard(today: date | None = None) -> Dashboard:
    """Return every public listing hidden, overdue or due soon, each with its dates and why."""
    today = today or current_date()
    chosen = settings()
    board = Dashboard(today=today, settings=chosen)
    query = (select(Listing).where(_needing_review(today))
             .order_by(Listing.review_due.is_not(None), Listing.review_due, Listing.name, Listing.id)
             .options(selectinload(Listing.organisation)))
    for listing in db.session.execute(query).scalars():
        state = review_state(listing, today, chosen)
        row = DashboardRow(listing=listing, state=state, organisation=listing.organisation.name,
                           assured_date=listing.assured_date, review_due=listing.review_due,
                           reminded_for=listing.review_reminded_for,
                           hidden_since=hidden_since(listing, chosen) if state == HIDDEN else None)
        {HIDDEN: board.hidden, OVERDUE: board.overdue, DUE_SOON: board.due_soon}[state].append(row)
    reminded = [row for row in board.hidden + board.overdue + board.due_soon if row.reminded]
    when = _reminded_at([row.listing.id for row in reminded])
    for row in reminded:
        row.reminded_at = when.get(row.listing.id)
    return board


def _reminded_at(listing_ids: list[str]) -> dict[str, datetime]:
    """Return when each listing's provider was last reminded, from the audit log."""
    found: dict[str, datetime] = {}
    for start in range(0, len(listing_ids), 900):
        found.update(db.session.execute(
            select(AuditEvent.entity_id, func.max(AuditEvent.occurred_at))
            .where(AuditEvent.action == "listing.review_reminded",
                   AuditEvent.entity_id.in_(listing_ids[start:start + 900]))
            .group_by(AuditEvent.entity_id)).all())
    return found


def needing_review_count(today: date | None = None) -> int:
    """Count public listings hidden, overdue or due soon (for the coordinators' front page)."""
    today = today or current_date()
    return db.session.execute(select(func.count()).select_from(Listing).where(_needing_review(today))).scalar_one()
