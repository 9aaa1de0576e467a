"""A listing as families would see it with a change applied, built in memory and never stored.

The coordinators' "Preview as families will see it" and the providers' preview
before sending both render the public listing page (``directory/listing.html``)
from ``preview_listing``: a *transient* ``Listing`` (and transient venues,
sessions, costs, contacts and term links) filled from the change's data the way
``writing.apply_data`` would fill the real rows, but never added to the session.
Its only link to stored rows is the organisation, set without the back-reference
(``set_committed_value``), and the vocabulary terms, which have no way back to
it; so no flush can ever write it, and reading the page changes nothing.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from local_offer.extensions import db
from local_offer.listings.data import STATUS_FIELD, listing_data, markdown_from_html, merge
from local_offer.listings.recurrence import Rule
from local_offer.models import (
    Contact,
    CostOption,
    Listing,
    ListingKind,
    ListingLevel,
    ListingRevision,
    ListingStatus,
    ListingTerm,
    Location,
    Schedule,
    ServiceAtLocation,
    Term,
    Vocabulary,
)
from local_offer.reviews import current_date, next_review
from local_offer.sanitise import clean_markdown, clean_text


def proposed_data(revision: ListingRevision) -> dict:
    """Return what approving the change now would publish (a change to a live listing merged with it, as approval does)."""
    if revision.base_data is None:
        return dict(revision.data)
    return merge(revision.base_data, listing_data(revision.listing), revision.data)[0]


def _enum(enum, value, default):
    return enum(value) if value in enum._value2member_map_ else default


def _description(listing: Listing, source: str) -> str:
    """Return the description's HTML as publishing would store it (an untouched old description keeps its HTML)."""
    if not listing.description_source and listing.description and source == markdown_from_html(listing.description):
        return listing.description
    return clean_markdown(source)


def _terms(data: dict) -> list[ListingTerm]:
    """Return transient links to the council's terms the data names (terms no longer there are left out)."""
    wanted = []
    for vocabulary, key in ((Vocabulary.CATEGORY, "categories"), (Vocabulary.NEED, "needs"),
                            (Vocabulary.ACCESSIBILITY, "accessibility")):
        for item in data.get(key) or []:
            code, details = (item, "") if isinstance(item, str) else (item.get("code"), item.get("details", ""))
            wanted.append((vocabulary, code, clean_text(details)))
    codes = sorted({code for _vocabulary, code, _details in wanted if isinstance(code, str)})
    terms = {(term.vocabulary, term.code): term for term in db.session.execute(
        select(Term).where(Term.code.in_(codes))).scalars()} if codes else {}
    return [ListingTerm(term=terms[(vocabulary, code)], term_id=terms[(vocabulary, code)].id, details=details)
            for vocabulary, code, details in wanted if (vocabulary, code) in terms]


def _venues(entries: list[dict]) -> list[ServiceAtLocation]:
    """Return transient venues (copies: a stored venue is never touched) with their links."""
    links = []
    for entry in entries:
        location = Location(
            name=clean_text(entry.get("name")), address_1=clean_text(entry.get("address_1")),
            address_2=clean_text(entry.get("address_2")), town=clean_text(entry.get("town")),
            county=clean_text(entry.get("county")), postcode=(entry.get("postcode") or "").strip().upper(),
            mask_address=bool(entry.get("mask_address")),
            latitude=entry.get("latitude") if isinstance(entry.get("latitude"), (int, float)) else None,
            longitude=entry.get("longitude") if isinstance(entry.get("longitude"), (int, float)) else None)
        links.append(ServiceAtLocation(location=location))
    return links


def _sessions(entries: list[dict]) -> list[Schedule]:
    """Return transient sessions read as the publish path reads them (what cannot be read is left out)."""
    rows = []
    for position, entry in enumerate(entries):
        try:
            rule = Rule.from_data({key: value if value is None or isinstance(value, (str, list, int)) else str(value)
                                   for key, value in entry.items()})
        except (ValueError, TypeError, AttributeError):
            continue
        rows.append(Schedule(freq=rule.freq, interval=rule.interval, byday=rule.byday,
                             weekday=rule.days[0] if rule.days else None, bymonthday=rule.monthday,
                             dates=",".join(day.isoformat() for day in rule.dates), opens_at=rule.opens,
                             closes_at=rule.closes, valid_from=rule.valid_from, valid_to=rule.valid_to,
                             period=rule.period, notes=clean_text(rule.notes)[:500], position=position))
    return rows


def _amount(value) -> Decimal | None:
    try:
        amount = Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None
    return amount if amount is not None and amount.is_finite() else None


def preview_listing(listing: Listing, data: dict, assured: date | None = None) -> Listing:
    """Return an unsaved copy of ``listing`` showing ``data``, as families would see it once published.

    ``assured``: the date approval would record as checked (the review dates follow from it);
    today when not given.  The copy is never in the session: nothing it holds can be written.
    """
    assured = assured or current_date()
    status = _enum(ListingStatus, data.get(STATUS_FIELD), ListingStatus.PUBLISHED)
    copy = Listing(
        id=listing.id, organisation_id=listing.organisation_id,
        name=" ".join(clean_text(data.get("name") or listing.name).split())[:255],
        kind=_enum(ListingKind, data.get("kind"), listing.kind or ListingKind.PROVIDER),
        level=_enum(ListingLevel, data.get("level"), ListingLevel.UNIVERSAL),
        status=ListingStatus.PUBLISHED if status in (ListingStatus.DRAFT, ListingStatus.PENDING) else status,
        summary=clean_text(data.get("summary"))[:500],
        description=_description(listing, data.get("description") or ""),
        description_source=data.get("description") or "",
        ofsted_urn=clean_text(data.get("ofsted_urn")) or None,
        sen_information_report_url=data.get("sen_information_report_url") or None,
        min_age=data.get("min_age"), max_age=data.get("max_age"),
        eligibility=clean_text(data.get("eligibility")),
        languages=[clean_text(language) for language in data.get("languages") or [] if clean_text(language)],
        delivery_methods=list(data.get("delivery_methods") or []),
        service_area=clean_text(data.get("service_area")) or None,
        in_area=bool(data.get("in_area", True)), is_free=bool(data.get("is_free")),
        accepts_ehcp_funding=bool(data.get("accepts_ehcp_funding")),
        accepts_personal_budget=bool(data.get("accepts_personal_budget")),
        accepts_direct_payments=bool(data.get("accepts_direct_payments")),
        free_carer_entry=bool(data.get("free_carer_entry")),
        access_routes=list(data.get("access_routes") or []),
        how_to_access=clean_text(data.get("how_to_access")),
        website=data.get("website") or None, email=data.get("email") or None,
        phone=clean_text(data.get("phone")) or None,
        assured_date=assured, review_due=next_review(assured),
        created_at=listing.created_at, updated_at=listing.updated_at, feed_id=None)
    # The organisation is stored: set without its back-reference, so it never lists (nor saves) this copy.
    set_committed_value(copy, "organisation", listing.organisation)
    set_committed_value(copy, "feed", None)
    copy.listing_terms = _terms(data)
    copy.service_at_locations = _venues(data.get("locations") or [])
    copy.schedules = _sessions(data.get("schedules") or [])
    copy.cost_options = [CostOption(option=clean_text(entry.get("option"))[:255], amount=_amount(entry.get("amount")),
                                    amount_description=clean_text(entry.get("description"))[:255])
                         for entry in data.get("costs") or []]
    copy.contacts = [Contact(name=clean_text(entry.get("name")), title=clean_text(entry.get("title")),
                             phone=clean_text(entry.get("phone")) or None,
                             email=(entry.get("email") or "").strip() or None,
                             is_public=bool(entry.get("public", True)))
                     for entry in data.get("contacts") or []]
    return copy


def revision_preview(revision: ListingRevision) -> Listing:
    """Return the listing as families would see it if this change were approved now (checked on the day it was sent)."""
    sent = revision.submitted_at.date() if revision.submitted_at else None
    return preview_listing(revision.listing, proposed_data(revision), assured=sent)


def draft_preview(listing: Listing, revision: ListingRevision | None) -> Listing:
    """Return the listing as families would see it with the provider's open change (or as it is, with none)."""
    return preview_listing(listing, proposed_data(revision) if revision is not None else listing_data(listing))
