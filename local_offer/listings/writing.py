"""The write path: listing data onto a listing's rows (its venues, sessions, costs, contacts and terms).

Text was cleaned when a form accepted it; it is cleaned again here because
imports reach this function without a form.  Venue postcodes are resolved
through the gazetteer whenever they are new or changed: an unknown one raises
``PublishError``, so no venue is ever stored without coordinates.  A venue
that other listings share is copied rather than changed under them.  Only the
workflow's ``publish`` calls ``apply_data``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from local_offer import geo
from local_offer.extensions import db
from local_offer.i18n import _
from local_offer.listings.data import markdown_from_html
from local_offer.listings.recurrence import Rule
from local_offer.models import (
    Contact,
    CostOption,
    Listing,
    ListingKind,
    ListingLevel,
    ListingTerm,
    Location,
    Schedule,
    ServiceAtLocation,
    Term,
    Vocabulary,
    new_id,
)
from local_offer.postcodes import parse_postcode
from local_offer.sanitise import clean_html, clean_markdown, clean_text


class PublishError(ValueError):
    """The data cannot be published as it is; ``str()`` says why, for a person to fix."""


def _term_map(vocabulary: Vocabulary) -> dict[str, Term]:
    return {term.code: term for term in db.session.execute(
        select(Term).where(Term.vocabulary == vocabulary)).scalars()}


def _parse_time(value: str | None):
    return datetime.strptime(value, "%H:%M").time() if value else None


def resolve_postcode(postcode: str, masked: bool = False) -> geo.Point:
    """Return a venue postcode's position; raise PublishError unless it is a full, known postcode.

    A masked venue may be given by its sector alone ("ST15 8"), as other directories publish them.
    """
    parsed = parse_postcode(postcode or "")
    if masked and parsed is not None and parsed[0] == "sector":
        try:
            return geo.lookup_postcode(parsed[1])
        except geo.UnknownPlace as error:
            raise PublishError(str(error)) from error
    if parsed is None or parsed[0] != "postcode":
        raise PublishError(_("Enter a full postcode, like ST16 2AD"))
    try:
        return geo.lookup_postcode(parsed[1])
    except geo.UnknownPlace as error:
        raise PublishError(str(error)) from error


def apply_data(listing: Listing, data: dict) -> None:
    """Write listing data onto a listing and its venues, times, costs, contacts and terms.

    Text was cleaned when the form accepted it; it is cleaned again here because
    imports and the API reach this function without a form.  Venue postcodes are
    resolved through the gazetteer whenever they are new or changed: an unknown
    one raises PublishError, so no venue is ever stored without coordinates.
    """
    listing.name = " ".join(clean_text(data["name"]).split())[:255]
    listing.kind = ListingKind(data["kind"])
    listing.level = ListingLevel(data.get("level") or "universal")
    listing.summary = clean_text(data.get("summary"))[:500]
    source = data.get("description") or ""
    if data.get("description_html") is not None:
        # From another directory's feed: HTML, cleaned with the same allow-list; edited later as text.
        listing.description = clean_html(data["description_html"])
        listing.description_source = ""
    elif listing.description_source or source != markdown_from_html(listing.description or ""):
        listing.description = clean_markdown(source)
        listing.description_source = source
    # else: a description stored before Markdown was kept, and untouched: leave its HTML as it is.
    listing.ofsted_urn = clean_text(data.get("ofsted_urn")) or None
    listing.sen_information_report_url = data.get("sen_information_report_url") or None
    listing.min_age, listing.max_age = data.get("min_age"), data.get("max_age")
    listing.eligibility = clean_text(data.get("eligibility"))
    listing.languages = [clean_text(language) for language in data.get("languages") or [] if clean_text(language)]
    listing.delivery_methods = list(data.get("delivery_methods") or [])
    listing.service_area = clean_text(data.get("service_area")) or None
    listing.in_area = bool(data.get("in_area", True))
    listing.is_free = bool(data.get("is_free"))
    for flag in ("accepts_ehcp_funding", "accepts_personal_budget", "accepts_direct_payments", "free_carer_entry"):
        setattr(listing, flag, bool(data.get(flag)))
    listing.access_routes = list(data.get("access_routes") or [])
    listing.how_to_access = clean_text(data.get("how_to_access"))
    listing.website = data.get("website") or None
    listing.email = data.get("email") or None
    listing.phone = clean_text(data.get("phone")) or None
    _apply_terms(listing, data)
    _apply_locations(listing, data.get("locations") or [])
    listing.schedules = _replace_rows(listing.schedules, Schedule, data.get("schedules") or [], _fill_schedule)
    listing.cost_options = _replace_rows(listing.cost_options, CostOption, data.get("costs") or [], _fill_cost)
    listing.contacts = _replace_rows(listing.contacts, Contact, data.get("contacts") or [], _fill_contact)


def _apply_terms(listing: Listing, data: dict) -> None:
    wanted: list[tuple[Term, str]] = []
    for vocabulary, key in ((Vocabulary.CATEGORY, "categories"), (Vocabulary.NEED, "needs"),
                            (Vocabulary.ACCESSIBILITY, "accessibility")):
        terms = _term_map(vocabulary)
        for item in data.get(key) or []:
            code, details = (item, "") if isinstance(item, str) else (item.get("code"), item.get("details", ""))
            if code not in terms:
                raise PublishError(_("%(code)s is not one of the council's terms.", code=code))
            wanted.append((terms[code], clean_text(details)))
    existing = {link.term_id: link for link in listing.listing_terms}
    keep = []
    for term, details in wanted:
        link = existing.get(term.id) or ListingTerm(term=term)
        link.details = details
        keep.append(link)
    listing.listing_terms = keep


def _apply_locations(listing: Listing, entries: list[dict]) -> None:
    current = {link.location_id: link for link in listing.service_at_locations}
    links = []
    for entry in entries:
        limits = {"name": 255, "address_1": 255, "address_2": 255, "town": 120, "county": 120}
        fields = {key: clean_text(entry.get(key))[:limit] for key, limit in limits.items() if key in entry}
        fields["mask_address"] = bool(entry.get("mask_address"))
        postcode = (entry.get("postcode") or "").strip().upper()
        location = db.session.get(Location, entry["id"]) if isinstance(entry.get("id"), str) \
            and len(entry["id"]) <= 36 and entry["id"].isprintable() else None
        if location is not None and any(link.listing_id != listing.id for link in location.service_at_locations) \
                and (location.postcode != postcode or any(getattr(location, k) != v for k, v in fields.items())):
            location = _new(Location, None)  # a venue other listings use is copied, not changed under them
        elif location is None:
            location = _new(Location, entry.get("id"))  # keeps a source's id when it is free
        for key, value in fields.items():
            setattr(location, key, value)
        if location.postcode != postcode or location.latitude is None or location.longitude is None:
            point = resolve_postcode(postcode, masked=fields["mask_address"])
            location.postcode, location.latitude, location.longitude = point.label, point.latitude, point.longitude
            given = (entry.get("latitude"), entry.get("longitude"))
            if not fields["mask_address"] and all(isinstance(v, (int, float)) for v in given) \
                    and geo.distance_miles(given, (point.latitude, point.longitude)) <= 0.6:
                # A source's own position, when it agrees with the postcode's, is more precise.
                location.latitude, location.longitude = float(given[0]), float(given[1])
        link = current.get(location.id)
        if link is None:
            link = ServiceAtLocation(location=location)
            if isinstance(entry.get("link_id"), str) and 0 < len(entry["link_id"]) <= 36 \
                    and db.session.get(ServiceAtLocation, entry["link_id"]) is None:
                link.id = entry["link_id"]  # keep a source's service_at_location id
        links.append(link)
    listing.service_at_locations = links


def _new(model, identifier: str | None):
    """Return a new row of ``model``, keeping a source's id when it is a free, well-formed one."""
    usable = isinstance(identifier, str) and 0 < len(identifier) <= 36 and identifier.isprintable() \
        and db.session.get(model, identifier) is None
    row = model(id=identifier if usable else new_id())
    db.session.add(row) if model is Location else None
    return row


def _replace_rows(current: list, model, entries: list[dict], fill) -> list:
    """Return rows for ``entries``: a listing's own row when the entry names its id, else a new one."""
    existing = {row.id: row for row in current}
    rows = []
    for position, entry in enumerate(entries):
        row = existing.get(entry.get("id")) or _new(model, entry.get("id"))
        fill(row, entry, position)
        rows.append(row)
    return rows


def _fill_schedule(schedule: Schedule, entry: dict, position: int) -> None:
    for name in ("opens", "closes", "valid_from", "valid_to"):
        if entry.get(name) and not isinstance(entry[name], str):
            entry = {**entry, name: str(entry[name])}
    _parse_time(entry.get("opens")), _parse_time(entry.get("closes"))  # a time that cannot be read is refused
    rule = Rule.from_data(entry)
    if rule.opens and rule.closes and rule.closes <= rule.opens:
        raise PublishError(_("A session closes before it opens."))
    if rule.valid_from and rule.valid_to and rule.valid_to < rule.valid_from:
        raise PublishError(_("A session ends before it starts."))
    schedule.freq, schedule.interval = rule.freq, rule.interval
    schedule.byday = rule.byday
    schedule.weekday = rule.days[0] if rule.days else None
    schedule.bymonthday = rule.monthday
    schedule.dates = ",".join(day.isoformat() for day in rule.dates)
    schedule.opens_at, schedule.closes_at = rule.opens, rule.closes
    schedule.valid_from, schedule.valid_to = rule.valid_from, rule.valid_to
    schedule.period = rule.period
    schedule.notes = clean_text(rule.notes)[:500]
    schedule.position = position


def _fill_cost(cost: CostOption, entry: dict, position: int) -> None:
    cost.option = clean_text(entry.get("option"))[:255]
    try:
        cost.amount = Decimal(str(entry["amount"])) if entry.get("amount") not in (None, "") else None
    except InvalidOperation as error:
        raise PublishError(_("%(amount)s is not an amount of money.", amount=entry.get("amount"))) from error
    if cost.amount is not None and (not cost.amount.is_finite() or not 0 <= cost.amount < 100_000_000):
        raise PublishError(_("%(amount)s is not an amount of money.", amount=entry.get("amount")))
    cost.amount_description = clean_text(entry.get("description"))[:255]


def _fill_contact(contact: Contact, entry: dict, position: int) -> None:
    contact.name = clean_text(entry.get("name"))[:255]
    contact.title = clean_text(entry.get("title"))[:255]
    contact.phone = clean_text(entry.get("phone"))[:50] or None
    contact.email = (entry.get("email") or "").strip()[:255] or None
    contact.is_public = bool(entry.get("public", True))
