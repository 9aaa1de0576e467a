"""The one import pipeline every source feeds: Open Referral feeds, CSV files, uploads and the demo content.

A source yields records; a ``Mapper`` turns each into (listing data,
organisation, warnings) or rejects it with a reason.  One loop then does the
rest for every source alike: the duplicate check, the dry run or the write,
the outcome of each record, and a single search sync at the end.  Writing goes
through the one publish path (``listings.workflow.publish``), or leaves a pending
change for a coordinator, so cleaning, the audit log and the review date are
the same however the data came in.

One bad record never stops the others: it is rejected on its own with a reason.
Source ids are kept (ids that are not UUIDs become stable ones), so a second
import updates rather than duplicates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from local_offer.listings import data as listing_data, limits, workflow, writing
from local_offer.extensions import db
from local_offer.interchange import csv_layout, oruk
from local_offer.interchange.fields import plain_text, stable_id
from local_offer.interchange.report import ImportReport, Outcome
from local_offer.models import Listing, ListingKind, ListingLevel, ListingRevision, ListingStatus, Organisation
from local_offer.models import RevisionStatus, Term, record_audit, utcnow
from local_offer.sanitise import clean_html
from local_offer.search import get_service

#: What a mapper raises for a record it cannot use: the record is rejected, the import goes on.
REJECTIONS = (ValueError, TypeError, KeyError, AttributeError)
#: What a feed does not carry, kept from the live listing when an import updates it.
KEPT_ON_UPDATE = ("kind", "level", "how_to_access", "ofsted_urn", "sen_information_report_url")


def _nameless(position: int) -> str:
    """Leave the id of a record without one blank: the report still gives its name and reason."""
    return ""


def _source_note(source_id: str) -> dict:
    """Note the source's own id in the audit log."""
    return {"source_id": source_id}


@dataclass(frozen=True)
class Mapper:
    """How one kind of record becomes listing data, and how the pipeline treats what it makes."""

    #: Return (listing data, organisation details, warnings) for a record; raise one of REJECTIONS to reject it.
    to_listing: Callable[[Any], tuple[dict, dict, list[str]]]
    #: Return (source id, name) for the report, whatever state the record is in.
    identify: Callable[[Any], tuple[str, str]]
    #: What the report calls a rejected record without an id, from its position (counted from 1).
    unidentified: Callable[[int], str] = _nameless
    #: The format lacks fields (kind, level, private contacts...): an update keeps the live listing's.
    partial: bool = True
    #: Add what is missing and never change what is there (seed content that people may have edited since).
    only_new: bool = False
    #: The audit action of a published record, and what the entry notes about its source.
    audit_action: str = "listing.imported"
    audit_note: Callable[[str], dict] = _source_note
    #: Audit every field a published record sets (seed content records only its note).
    audit_fields: bool = True


def run_import(records: Iterable, mapper: Mapper, *, apply: bool, publish: bool,
               progress: Callable[[Iterable], Iterable] | None = None, sync: bool = True) -> ImportReport:
    """Map, check and (with ``apply``) write each record; return what happened to each.

    ``publish`` makes each record live at once; otherwise it waits as a pending change for a
    coordinator.  ``sync`` updates the search index once at the end (callers that load more
    afterwards sync themselves).
    """
    report = ImportReport(applied=apply)
    seen: set[str] = set()
    changed = False
    for position, record in enumerate(progress(records) if progress else records, start=1):
        source_id, name = mapper.identify(record)
        if mapper.only_new and source_id and db.session.get(Listing, stable_id(source_id, "service")) is not None:
            report.outcomes.append(Outcome(source_id, name, "skipped", "already there"))
            continue
        try:
            data, organisation, warnings = mapper.to_listing(record)
        except REJECTIONS as error:
            report.outcomes.append(Outcome(source_id or mapper.unidentified(position), name, "rejected",
                                           str(error) or type(error).__name__))
            continue
        over = limits.problems(data) + limits.organisation_problems(organisation)
        if over:  # the portal would refuse it: rejected whole, never stored cut short
            report.outcomes.append(Outcome(source_id or mapper.unidentified(position), name, "rejected",
                                           "; ".join(over), warnings))
            continue
        listing_id = stable_id(source_id, "service")
        if listing_id in seen:
            report.outcomes.append(Outcome(source_id, name, "rejected", "duplicate id in this import"))
            continue
        seen.add(listing_id)
        outcome = _write(listing_id, data, organisation, warnings, source_id, mapper, apply=apply, publish=publish)
        report.outcomes.append(outcome)
        changed = changed or (apply and outcome.action in ("created", "updated"))
    if changed and sync:
        get_service().sync()
    return report


def _identify_service(item) -> tuple[str, str]:
    """Return an ORUK service's id and name, as far as it has them."""
    if not isinstance(item, dict):
        return "", ""
    return str(item.get("id") or "")[:200], plain_text(item.get("name"), 120)


def _identify_row(row: dict) -> tuple[str, str]:
    """Return a CSV row's id and name."""
    return (row.get("id") or "").strip()[:200], plain_text(row.get("name"), 120)


def _csv_line(position: int) -> str:
    """Name a row by its line in the file (the header is line 1)."""
    return f"line {position + 1}"


def import_records(records: Iterable[dict], *, apply: bool, publish: bool,
                   progress: Callable[[Iterable], Iterable] | None = None) -> ImportReport:
    """Import ORUK service records (from ``sources``) through the pipeline."""
    terms = db.session.execute(select(Term)).scalars().all()
    by_id, by_name = {term.id: term for term in terms}, {term.name.lower(): term for term in terms}
    mapper = Mapper(to_listing=lambda item: oruk.map_service(item, by_id, by_name), identify=_identify_service)
    return run_import(records, mapper, apply=apply, publish=publish, progress=progress)


def import_csv(rows: list[dict], *, apply: bool, publish: bool,
               progress: Callable[[Iterable], Iterable] | None = None) -> ImportReport:
    """Import rows of the CSV layout (from ``csv_layout.read_csv``) through the pipeline."""
    known: dict[str, set[str]] = {"category": set(), "need": set(), "accessibility": set()}
    for term in db.session.execute(select(Term)).scalars():
        known[term.vocabulary.value].add(term.code)
    mapper = Mapper(to_listing=lambda row: csv_layout.map_row(row, known), identify=_identify_row,
                    unidentified=_csv_line, partial=False)  # the CSV layout carries every field itself
    return run_import(rows, mapper, apply=apply, publish=publish, progress=progress)


# --- writing one record ------------------------------------------------------------------------------------


def organisation_for(details: dict, *, refresh: bool) -> tuple[Organisation, bool]:
    """Return the organisation ``details`` names and whether it is new; ``refresh`` updates a known one.

    Details are already cleaned by the mapper; empty ones never blank what is there.
    """
    owner = db.session.get(Organisation, details["id"])
    created = owner is None
    if created:
        owner = Organisation(id=details["id"], name=details["name"], is_demo=bool(details.get("is_demo")))
        db.session.add(owner)
    if created or refresh:
        owner.name = details["name"]
        for key in ("description", "website", "email", "phone"):
            setattr(owner, key, details.get(key) or getattr(owner, key))
    return owner, created


def _write(listing_id: str, data: dict, organisation: dict, warnings: list[str], source_id: str, mapper: Mapper, *,
           apply: bool, publish: bool) -> Outcome:
    """Write one record (or say what would happen); any failure rejects this record only."""
    try:
        return _write_unguarded(listing_id, data, organisation, warnings, source_id, mapper, apply=apply,
                                publish=publish)
    except Exception as error:  # never abort the whole import for one record  # noqa: BLE001
        db.session.rollback()
        return Outcome(source_id, data.get("name", ""), "rejected",
                       f"could not be stored ({type(error).__name__}: {str(error)[:120]})", warnings)


def _write_unguarded(listing_id: str, data: dict, organisation: dict, warnings: list[str], source_id: str,
                     mapper: Mapper, *, apply: bool, publish: bool) -> Outcome:
    """Write one record (or say what would happen), raising whatever goes wrong."""
    listing = db.session.get(Listing, listing_id)
    assured = _assured_date(data, warnings)
    if listing is not None and mapper.partial:
        _keep_what_the_feed_lacks(listing, data)
    if listing is not None:
        revision = workflow.open_revision(listing)
        if revision is not None and revision.created_by_id is not None:
            return Outcome(source_id, data["name"], "skipped",
                           "a person's change to this listing is waiting for checks; it is kept", warnings)
    if listing is not None and (listing.is_visible or listing.status is ListingStatus.ARCHIVED) \
            and _same(listing, data):
        return Outcome(source_id, data["name"], "skipped", "no change", warnings)
    action = "updated" if listing is not None else "created"
    if not apply:
        return Outcome(source_id, data["name"], action, "dry run", warnings)
    try:
        # Organisation details change with a published import; pending ones leave them to coordinators.
        known = None if mapper.only_new else db.session.get(Organisation, organisation["id"])
        refresh = not mapper.only_new and (publish or known is None or not known.listings)
        owner, _created = organisation_for(organisation, refresh=refresh)
        if listing is not None and listing.organisation_id != owner.id and not publish:
            warnings.append("the feed gives another organisation: kept the current one until a coordinator checks")
            owner = listing.organisation
        if listing is None:
            # Empty collections, not unloaded ones: writing the data then asks the database nothing about them.
            listing = Listing(id=listing_id, organisation=owner, name=data["name"], kind=ListingKind.SUPPORT_SERVICE,
                              level=ListingLevel.UNIVERSAL, status=ListingStatus.DRAFT, listing_terms=[],
                              service_at_locations=[], schedules=[], cost_options=[], contacts=[])
            db.session.add(listing)
        listing.organisation = owner
        if publish:
            workflow.publish(listing, data, actor=None, action=mapper.audit_action, assured=assured,
                             extra=mapper.audit_note(source_id), sync=False, audit_fields=mapper.audit_fields)
        else:
            db.session.flush()  # a new listing gets its version, which the pending change is based on
            _wait_for_a_coordinator(listing, data, source_id)
    except writing.PublishError as error:
        db.session.rollback()
        return Outcome(source_id, data["name"], "rejected", str(error), warnings)
    return Outcome(source_id, data["name"], action, "" if publish else "waiting for a coordinator", warnings)


def _assured_date(data: dict, warnings: list[str]) -> date | None:
    """Take the date the source last checked the record out of its data, if it gives a real one."""
    assured = data.pop("_assured_date", None)
    if assured is None:
        return None
    try:
        return date.fromisoformat(assured)
    except ValueError:
        warnings.append(f"assured date {assured!r} is not a date: left out")
        return None


def _keep_what_the_feed_lacks(listing: Listing, data: dict) -> None:
    """Carry over what an update from a feed has no field for: kind, level, private contacts, masked addresses."""
    live = listing_data.listing_data(listing)
    for key in KEPT_ON_UPDATE:
        if not data.get(key) or key in ("kind", "level"):
            data[key] = live[key]
    data["contacts"] = list(data.get("contacts") or []) + [c for c in live["contacts"] if not c.get("public", True)]
    masked = {venue["id"]: venue for venue in live["locations"] if venue.get("mask_address")}
    data["locations"] = [masked.get(venue.get("id"), venue) for venue in data.get("locations") or []]


def _wait_for_a_coordinator(listing: Listing, data: dict, source_id: str) -> None:
    """Leave the record as a pending change in the moderation queue, and commit it."""
    if data.get("description_html") is not None:
        # A change waiting for a coordinator is edited as text in the portal: keep it as text.
        data["description"] = listing_data.markdown_from_html(clean_html(data.pop("description_html")))
    revision = workflow.open_revision(listing)
    base = listing_data.listing_data(listing) if listing.is_visible else None
    if revision is None:
        revision = ListingRevision(listing=listing, base_data=base, base_version=listing.version)
        db.session.add(revision)
    revision.data, revision.status, revision.submitted_at = data, RevisionStatus.PENDING, utcnow()
    revision.note = f"Imported (source id {source_id})."
    if listing.status is ListingStatus.DRAFT:
        listing.status = ListingStatus.PENDING
    record_audit("listing.import_pending", "listing", listing.id, changes={"source_id": source_id})
    db.session.commit()


def _same(listing: Listing, data: dict) -> bool:
    """Say whether importing ``data`` again would leave the live listing as it is."""
    live = listing_data.listing_data(listing)
    html = data.get("description_html")
    if html is not None:
        if clean_html(html) != (listing.description or ""):
            return False
        data = {**data, "description": live["description"]}  # compared as HTML above
    return not listing_data.changed_fields(live, data)
