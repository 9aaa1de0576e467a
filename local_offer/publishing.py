"""The one way a listing's content changes: as data, compared, merged and published.

A listing's content travels as plain JSON-able *listing data* (``listing_data``),
the shape a ``ListingRevision`` stores, the portal's forms edit, and imports and
the API will write.  ``publish`` is the single publish path: it applies the data
to the database, records the change in the audit log and in the search outbox
in the same transaction, commits, then asks the search façade to index it.  If
indexing fails the database is still right and ``flask index sync`` retries.

Optimistic locking works at two levels.  Each row has a version counter, so a
form submitted against an older version is refused (``StaleEdit``).  And each
revision keeps ``base_data``, the live listing as it was when the change began:
approval is a three-way merge, so a field someone else changed meanwhile is
never silently overwritten (``Conflict`` lists the fields changed on both sides).
"""

from __future__ import annotations

import difflib
import html
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from local_offer import geo
from local_offer.extensions import db
from local_offer.i18n import _, _l
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
    RevisionStatus,
    Schedule,
    SchedulePeriod,
    ServiceAtLocation,
    Term,
    User,
    Vocabulary,
    Weekday,
    record_audit,
    utcnow,
)
from local_offer.sanitise import clean_html, clean_markdown, clean_text

#: The portal's sections, in the order of its task list.
SECTIONS = ("about", "who", "when_where", "cost", "access", "contacts")
SECTION_TITLES = {
    "about": _l("About the listing"),
    "who": _l("Who it is for"),
    "when_where": _l("When and where"),
    "cost": _l("Cost and funding"),
    "access": _l("Accessibility and support"),
    "contacts": _l("Contact details"),
}
#: Which fields of the listing data each section edits, with the label a diff shows.
SECTION_FIELDS: dict[str, dict[str, object]] = {
    "about": {"name": _l("Listing name"), "kind": _l("Kind of listing"), "summary": _l("Summary"),
              "description": _l("Description"), "categories": _l("Categories"),
              "ofsted_urn": _l("Ofsted URN"), "sen_information_report_url": _l("SEN information report")},
    "who": {"min_age": _l("Youngest age"), "max_age": _l("Oldest age"), "level": _l("Who can use it"),
            "eligibility": _l("Who it is for"), "needs": _l("Needs it supports"), "languages": _l("Languages")},
    "when_where": {"delivery_methods": _l("How it is offered"), "service_area": _l("Area it covers"),
                   "in_area": _l("In the council's area"), "locations": _l("Venues"),
                   "schedules": _l("Times")},
    "cost": {"is_free": _l("Free"), "costs": _l("Costs"), "accepts_ehcp_funding": _l("EHC plan funding"),
             "accepts_personal_budget": _l("Personal budgets"), "accepts_direct_payments": _l("Direct payments"),
             "free_carer_entry": _l("Free entry for carers")},
    "access": {"accessibility": _l("Accessibility"), "access_routes": _l("How to get a place"),
               "how_to_access": _l("How to access it")},
    "contacts": {"website": _l("Website"), "email": _l("Email"), "phone": _l("Phone"),
                 "contacts": _l("People to contact")},
}
STATUS_FIELD = "status"
CONTENT_FIELDS = [name for fields in SECTION_FIELDS.values() for name in fields]
#: The statuses a provider may ask for, and how a diff names them.
STATUS_LABELS = {
    "draft": _l("Draft"), "pending": _l("Waiting for checks"), "published": _l("Published"),
    "temporarily_closed": _l("Temporarily closed"), "archived": _l("Archived"),
}
OPEN_REVISIONS = (RevisionStatus.DRAFT, RevisionStatus.PENDING, RevisionStatus.RETURNED)
DESCRIPTION_MAX = 20_000


class PublishError(ValueError):
    """The data cannot be published as it is; ``str()`` says why, for a person to fix."""


class StaleEdit(RuntimeError):
    """A form was filled in against an older version of the listing or change."""


class Conflict(RuntimeError):
    """The live listing changed meanwhile in fields this change also changes."""

    def __init__(self, fields: list[str], merged: dict):
        super().__init__(", ".join(fields))
        self.fields = fields
        self.merged = merged


# --- listing <-> data ---------------------------------------------------------------------


def _time_text(value) -> str:
    return value.strftime("%H:%M") if value else ""


def listing_data(listing: Listing) -> dict:
    """Return a listing's content as plain data (what a revision stores and a diff compares)."""
    def codes(vocabulary):
        return [link.term.code for link in listing.terms(vocabulary)]

    return {
        "status": listing.status.value,
        "name": listing.name,
        "kind": listing.kind.value if listing.kind else "",
        "summary": listing.summary or "",
        "description": listing.description_source or markdown_from_html(listing.description or ""),
        "categories": codes(Vocabulary.CATEGORY),
        "ofsted_urn": listing.ofsted_urn or "",
        "sen_information_report_url": listing.sen_information_report_url or "",
        "min_age": listing.min_age,
        "max_age": listing.max_age,
        "level": listing.level.value if listing.level else "",
        "eligibility": listing.eligibility or "",
        "needs": codes(Vocabulary.NEED),
        "languages": list(listing.languages or []),
        "delivery_methods": list(listing.delivery_methods or []),
        "service_area": listing.service_area or "",
        "in_area": bool(listing.in_area),
        "locations": [{
            "id": link.location.id, "link_id": link.id, "name": link.location.name, "address_1": link.location.address_1,
            "address_2": link.location.address_2, "town": link.location.town, "county": link.location.county or "",
            "postcode": link.location.postcode,
            "mask_address": bool(link.location.mask_address), "latitude": link.location.latitude,
            "longitude": link.location.longitude,
        } for link in listing.service_at_locations],
        "schedules": [{
            "id": schedule.id, "day": schedule.weekday.value if schedule.weekday else "",
            "opens": _time_text(schedule.opens_at), "closes": _time_text(schedule.closes_at),
            "period": schedule.period.value if schedule.period else "all_year", "notes": schedule.notes or "",
        } for schedule in listing.schedules],
        "is_free": bool(listing.is_free),
        "costs": [{
            "id": cost.id, "option": cost.option or "",
            "amount": f"{cost.amount:.2f}" if cost.amount is not None else "",
            "description": cost.amount_description or "",
        } for cost in listing.cost_options],
        "accepts_ehcp_funding": bool(listing.accepts_ehcp_funding),
        "accepts_personal_budget": bool(listing.accepts_personal_budget),
        "accepts_direct_payments": bool(listing.accepts_direct_payments),
        "free_carer_entry": bool(listing.free_carer_entry),
        "accessibility": [{"code": link.term.code, "details": link.details or ""}
                          for link in listing.terms(Vocabulary.ACCESSIBILITY)],
        "access_routes": list(listing.access_routes or []),
        "how_to_access": listing.how_to_access or "",
        "website": listing.website or "",
        "email": listing.email or "",
        "phone": listing.phone or "",
        "contacts": [{
            "id": contact.id, "name": contact.name or "", "title": contact.title or "",
            "phone": contact.phone or "", "email": contact.email or "", "public": bool(contact.is_public),
        } for contact in listing.contacts],
    }


def new_listing_data(name: str, kind: str) -> dict:
    """Return the data of a listing being written for the first time."""
    return {
        "status": "published", "name": clean_text(name), "kind": kind, "summary": "", "description": "",
        "categories": [], "ofsted_urn": "", "sen_information_report_url": "", "min_age": None,
        "max_age": None, "level": "universal", "eligibility": "", "needs": [], "languages": [],
        "delivery_methods": [], "service_area": "", "in_area": True, "locations": [], "schedules": [],
        "is_free": False, "costs": [], "accepts_ehcp_funding": False, "accepts_personal_budget": False,
        "accepts_direct_payments": False, "free_carer_entry": False, "accessibility": [],
        "access_routes": [], "how_to_access": "", "website": "", "email": "", "phone": "", "contacts": [],
    }


def markdown_from_html(text: str) -> str:
    """Turn stored description HTML (from a listing with no Markdown kept) back into editable text."""
    import re

    text = re.sub(r"(?i)<li[^>]*>", "- ", text)
    text = re.sub(r"(?i)</(p|li|ul|ol)>|<br\s*/?>", "\n", text)
    text = re.sub(r"(?i)<a [^>]*href=\"([^\"]+)\"[^>]*>(.*?)</a>", r"[\2](\1)", text)
    text = re.sub(r"(?i)</?strong>", "**", text)
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"\n{3,}", "\n\n", html.unescape(text)).strip()


def _term_map(vocabulary: Vocabulary) -> dict[str, Term]:
    return {term.code: term for term in db.session.execute(
        select(Term).where(Term.vocabulary == vocabulary)).scalars()}


def _parse_time(value: str | None):
    return datetime.strptime(value, "%H:%M").time() if value else None


def resolve_postcode(postcode: str, masked: bool = False) -> geo.Point:
    """Return a venue postcode's position; raise PublishError unless it is a full, known postcode.

    A masked venue may be given by its sector alone ("ST15 8"), as other directories publish them.
    """
    parsed = geo.parse_postcode(postcode or "")
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
            and len(entry["id"]) <= 36 else None
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
    from local_offer.models import new_id

    usable = isinstance(identifier, str) and 0 < len(identifier) <= 36 and db.session.get(model, identifier) is None
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
    schedule.weekday = Weekday(entry["day"]) if entry.get("day") else None
    schedule.opens_at = _parse_time(entry.get("opens"))
    schedule.closes_at = _parse_time(entry.get("closes"))
    if schedule.opens_at and schedule.closes_at and schedule.closes_at <= schedule.opens_at:
        raise PublishError(_("A session closes before it opens."))
    schedule.period = SchedulePeriod(entry.get("period") or "all_year")
    schedule.notes = clean_text(entry.get("notes"))[:500]
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


# --- differences and merging --------------------------------------------------------------


@dataclass
class Change:
    """One field that differs between two versions, ready to show a person."""

    field: str
    label: str
    section: str
    before: Markup
    after: Markup


def _display(field: str, value) -> str:
    """Return a field's value as readable text."""
    if value in (None, "", []):
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if field == "status":
        return str(STATUS_LABELS.get(value, value))
    if field == "locations":
        return "\n".join(", ".join(part for part in (v.get("name"), v.get("address_1"), v.get("town"),
                                                      v.get("postcode")) if part)
                         + (" " + _("(address hidden)") if v.get("mask_address") else "") for v in value)
    if field == "schedules":
        return "\n".join(" ".join(part for part in (v.get("day"), v.get("opens") and f"{v['opens']}–{v.get('closes')}",
                                                    v.get("period", "").replace("_", " "), v.get("notes")) if part)
                         for v in value)
    if field == "costs":
        return "\n".join(" ".join(part for part in (v.get("option"), v.get("amount") and f"£{v['amount']}",
                                                    v.get("description")) if part) for v in value)
    if field == "contacts":
        return "\n".join(" ".join(part for part in (v.get("name"), v.get("title"), v.get("phone"), v.get("email"),
                                                    "" if v.get("public", True) else _("(private)")) if part)
                         for v in value)
    if field == "accessibility":
        return "\n".join(v["code"] + (f": {v['details']}" if v.get("details") else "") for v in value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def _comparable(field: str, value):
    """Drop what a person does not see (ids, coordinates) before comparing a field."""
    if field in ("locations", "schedules", "costs", "contacts") and isinstance(value, list):
        hidden = {"id", "link_id", "latitude", "longitude"}
        rows = [{k: v for k, v in item.items() if k not in hidden} for item in value]
        if field != "schedules":  # venues, costs and contacts have no order the database keeps
            rows.sort(key=lambda row: sorted((k, str(v)) for k, v in row.items()))
        return rows or None
    if value in (None, "", []):
        return None
    return value


def _word_diff(before: str, after: str) -> tuple[Markup, Markup]:
    """Mark removed and added words, so a long description's change can be seen at a glance."""
    old, new = before.split(" "), after.split(" ")
    left, right = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        removed, added = html.escape(" ".join(old[i1:i2])), html.escape(" ".join(new[j1:j2]))
        if tag == "equal":
            left.append(removed)
            right.append(added)
            continue
        if removed:
            left.append(f'<del class="lo-diff-del"><span class="govuk-visually-hidden">{html.escape(_("removed:"))} '
                        f'</span>{removed}</del>')
        if added:
            right.append(f'<ins class="lo-diff-ins"><span class="govuk-visually-hidden">{html.escape(_("added:"))} '
                         f'</span>{added}</ins>')
    return Markup(" ".join(left)), Markup(" ".join(right))


def section_of(field: str) -> str:
    """Return the portal section that edits a field."""
    return next((section for section, fields in SECTION_FIELDS.items() if field in fields), "about")


def label_of(field: str) -> str:
    """Return a field's label."""
    if field == STATUS_FIELD:
        return _("Status")
    return str(SECTION_FIELDS[section_of(field)].get(field, field))


def changed_fields(before: dict | None, after: dict) -> list[str]:
    """Return the fields (content and status) whose visible value differs."""
    before = before or {}
    return [field for field in [STATUS_FIELD] + CONTENT_FIELDS
            if _comparable(field, before.get(field)) != _comparable(field, after.get(field))]


def diff(before: dict | None, after: dict) -> list[Change]:
    """Return the differences between two versions of a listing, field by field."""
    changes = []
    for field in changed_fields(before, after):
        old, new = _display(field, (before or {}).get(field)), _display(field, after.get(field))
        if field in ("description", "summary", "eligibility", "how_to_access") and before:
            left, right = _word_diff(old, new)
        else:
            left, right = Markup.escape(old), Markup.escape(new)
        changes.append(Change(field, label_of(field), section_of(field), left, right))
    return changes


def merge(base: dict | None, live: dict, proposed: dict) -> tuple[dict, list[str]]:
    """Merge a change made against ``base`` into the ``live`` listing; return (merged, conflicts).

    A field the change did not touch keeps the live value (someone else may have
    changed it since); a field both sides changed differently is a conflict.
    """
    if base is None:
        return dict(proposed), []
    merged, conflicts = dict(live), []
    for field in [STATUS_FIELD] + CONTENT_FIELDS:
        mine = _comparable(field, proposed.get(field))
        if mine == _comparable(field, base.get(field)):
            continue
        theirs = _comparable(field, live.get(field))
        if theirs != _comparable(field, base.get(field)) and theirs != mine:
            conflicts.append(field)
        merged[field] = proposed.get(field)
    return merged, conflicts


# --- the publish path ---------------------------------------------------------------------


def publish(listing: Listing, data: dict, *, actor: User | None, action: str,
            assured: date | None = None, extra: dict | None = None, ip_address: str | None = None,
            sync: bool = True) -> None:
    """Make ``data`` the live version of ``listing``: database, audit and search, in one path.

    Used by moderation (approval and direct edits), and by imports and the API.
    The caller has added any other rows it wants committed with the change
    (a revision's decision, say).  Raises PublishError (nothing written) when the
    data cannot be published, StaleEdit when someone else saved the listing first.
    """
    from local_offer.models import record_change
    from local_offer.search import get_service

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
            from local_offer.reviews import next_review

            listing.review_due = next_review(assured)
        changes = {field: [_plain((before or {}).get(field)), _plain(data.get(field))]
                   for field in changed_fields(before, data)}
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


def _plain(value):
    """Keep audit entries readable and bounded: long text is cut, lists are kept."""
    if isinstance(value, str) and len(value) > 500:
        return value[:500] + "…"
    return value


# --- revisions ----------------------------------------------------------------------------


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
    return conflicts
