"""Imports and exports: Open Referral UK JSON (v1, and v3 services) and the documented CSV layout.

Every record is mapped onto *listing data* (see ``publishing``) and goes through
the one publish path (``--publish``) or waits as a pending change for a
coordinator.  Real feeds are messy, so each record is cleaned or rejected on
its own with a reason, and the import goes on: empty strings in enumerations
become nothing, HTML is sanitised, bad emails and web addresses are dropped
with a warning, duplicate ids and records without an organisation are
rejected, venues whose postcode the gazetteer cannot place are left out.
Source ids are kept (ids that are not UUIDs are turned into stable ones), so a
second import updates rather than duplicates.
"""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from sqlalchemy import select

from local_offer import geo, publishing
from local_offer.formats import is_email, is_web_address, spreadsheet_safe, spreadsheet_unsafe
from local_offer.extensions import db
from local_offer.models import (
    Listing,
    ListingKind,
    ListingLevel,
    ListingRevision,
    ListingStatus,
    Organisation,
    RevisionStatus,
    Term,
    record_audit,
    utcnow,
)
from local_offer.sanitise import clean_html, clean_text

ID_NAMESPACE = uuid.UUID("7a0f3c52-9b1e-4d8a-a8f3-2c6b1e9d4f70")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
DELIVERY = {"venue": "venue", "online": "online", "phone": "phone", "telephone": "phone", "home visit": "home_visit",
            "in_person": "venue", "in person": "venue"}
ACCESS = {"referral": "referral", "appointment": "booking", "booking": "booking", "membership": "membership",
          "drop-in": "drop_in", "drop in": "drop_in"}
STATUS = {"active": "published", "temporarily closed": "temporarily_closed", "inactive": "archived",
          "defunct": "archived"}
DAY_NAMES = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"}
#: Pages followed at most from a remote feed that never says it is on its last page.
MAX_PAGES = 500


class ImportError_(ValueError):
    """The whole input cannot be read (not JSON, wrong columns, bad encoding); the message says why."""


def stable_id(value, kind: str) -> str:
    """Keep a source's UUID; turn any other id into a stable UUID (the same every import)."""
    text = str(value).strip()
    if _UUID.match(text):
        return text.lower()
    return str(uuid.uuid5(ID_NAMESPACE, f"{kind}:{text}"))


@dataclass
class Outcome:
    """What happened (or would happen) to one record, and why."""

    source_id: str
    name: str
    action: str  # created | updated | skipped | rejected
    reason: str = ""
    warnings: list[str] = field(default_factory=list)


@dataclass
class Report:
    """Everything an import did or would do."""

    outcomes: list[Outcome] = field(default_factory=list)
    applied: bool = False

    @property
    def counts(self) -> Counter:
        """Return how many records had each outcome."""
        return Counter(outcome.action for outcome in self.outcomes)


# --- reading ORUK ------------------------------------------------------------------------------------


def read_source(source: str, fetch: Callable[[str], bytes] | None = None) -> Iterator[dict]:
    """Yield service records from a file or URL: a v1 page (following a remote feed page by page),
    a bare array of services, a v3 page or a single v3 service."""
    if re.match(r"^https?://", source):
        yield from _remote(source, fetch or _fetch)
        return
    try:
        with open(source, "rb") as handle:
            raw = handle.read()
    except OSError as error:
        raise ImportError_(f"Cannot read {source}: {error.strerror or error}") from error
    yield from _records(_json(raw, source))


def _fetch(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "local-offer-import"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (an address a coordinator gave)
        return response.read(50 * 1024 * 1024)


def _json(raw: bytes, where: str):
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise ImportError_(f"{where} is not UTF-8 text ({error.reason} at byte {error.start}).") from error
    except json.JSONDecodeError as error:
        raise ImportError_(f"{where} is not JSON ({error.msg} at line {error.lineno}).") from error
    except RecursionError as error:
        raise ImportError_(f"{where} is nested too deeply to be Open Referral data.") from error


def _records(document) -> Iterator[dict]:
    if isinstance(document, list):
        items = document
    elif isinstance(document, dict) and isinstance(document.get("content"), list):
        items = document["content"]
    elif isinstance(document, dict) and isinstance(document.get("contents"), list):
        items = document["contents"]
    elif isinstance(document, dict) and "name" in document and "id" in document:
        items = [document]
    else:
        raise ImportError_("This is JSON, but not Open Referral services: expected a page with 'content' "
                           "(v1) or 'contents' (v3), a list of services, or one service.")
    for item in items:
        yield item if isinstance(item, dict) else {"_not_an_object": item}


def _remote(url: str, fetch: Callable[[str], bytes]) -> Iterator[dict]:
    page = 1
    seen: set[str] = set()
    seen_pages: set[tuple] = set()
    while page <= MAX_PAGES:
        address = _with_page(url, page)
        if address in seen:
            break
        seen.add(address)
        try:
            document = _json(fetch(address), address)
        except OSError as error:
            raise ImportError_(f"Cannot fetch {address}: {error}") from error
        records = list(_records(document))
        ids = tuple(str(record.get("id")) for record in records)
        if ids and ids in seen_pages:
            return  # the feed ignores ?page= and sends the same page again
        seen_pages.add(ids)
        yield from records
        if not isinstance(document, dict) or not records or not ("content" in document or "contents" in document):
            return
        if document.get("last") is True or document.get("last_page") is True:
            return
        total_pages = document.get("totalPages", document.get("total_pages"))
        if isinstance(total_pages, int) and page >= total_pages:
            return
        page += 1
    # A feed that never says it is on its last page stops here rather than looping for ever.


def _with_page(url: str, page: int) -> str:
    parts = urllib.parse.urlsplit(url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if k != "page"]
    query.append(("page", str(page)))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


# --- mapping ORUK onto listing data -------------------------------------------------------------------


def _text(value, limit: int = 5000) -> str:
    return clean_text(value if isinstance(value, str) else "")[:limit]


def _age(value, warnings: list[str], which: str):
    if value in (None, ""):
        return None
    try:
        number = int(float(value))
    except (TypeError, ValueError, OverflowError):
        warnings.append(f"{which} age {str(value)[:20]!r} is not a number: left out")
        return None
    if not 0 <= number <= 25:
        warnings.append(f"{which} age {number} is outside 0-25: left out")
        return None
    return number


def _time(value) -> str:
    match = re.match(r"^(\d{1,2}):(\d{2})", str(value or ""))
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        return ""
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def _days(item: dict) -> list[str]:
    days = []
    if item.get("weekday"):
        days.append(str(item["weekday"]).upper()[:2])
    for part in str(item.get("byday") or "").split(","):
        part = re.sub(r"[^A-Z]", "", part.upper())[-2:]
        if part:
            days.append(part)
    return [day for day in dict.fromkeys(days) if day in DAY_NAMES] or [""]


def map_service(item: dict, terms_by_id: dict[str, Term], terms_by_name: dict[str, Term]) -> tuple[dict, dict, list[str]]:
    """Map one ORUK v1 or v3 service onto (listing data, organisation, warnings); raise ValueError to reject."""
    warnings: list[str] = []
    if "_not_an_object" in item:
        raise ValueError("not a JSON object")
    if not str(item.get("id") or "").strip():
        raise ValueError("no id")
    name = _text(item.get("name"), 255)
    if not name:
        raise ValueError("no name")
    source_org = item.get("organization")
    if not isinstance(source_org, dict) or not str(source_org.get("id") or "").strip() or \
            not _text(source_org.get("name"), 255):
        raise ValueError("no organisation")
    organisation = {"id": stable_id(source_org["id"], "organisation"), "name": _text(source_org["name"], 255),
                    "description": _text(source_org.get("description"), 5000),
                    "website": _checked_url(source_org.get("url") or source_org.get("website"), warnings,
                                            "organisation web address"),
                    "email": _checked_email(source_org.get("email"), warnings, "organisation email")}
    description_html = item.get("description") if isinstance(item.get("description"), str) else ""
    status = STATUS.get(str(item.get("status") or "").strip().lower(), "published")
    attending = [DELIVERY[value] for value in _listish(item.get("attending_type"))
                 if value.lower() in DELIVERY for value in [value.lower()]]
    access = [ACCESS[value.lower()] for value in _listish(item.get("attending_access")) if value.lower() in ACCESS]
    eligibility = (item.get("eligibilitys") or [{}])[0] if isinstance(item.get("eligibilitys"), list) else {}
    minimum = _age(item.get("minimum_age", eligibility.get("minimum_age") if isinstance(eligibility, dict) else None),
                   warnings, "youngest")
    maximum = _age(item.get("maximum_age", eligibility.get("maximum_age") if isinstance(eligibility, dict) else None),
                   warnings, "oldest")
    if minimum is not None and maximum is not None and minimum > maximum:
        warnings.append(f"ages {minimum}-{maximum} run backwards: left out")
        minimum = maximum = None
    data = publishing.new_listing_data(name, "support_service")
    data.update({
        "status": status, "summary": _summary(description_html, name), "description": "",
        "description_html": description_html,
        "min_age": minimum, "max_age": maximum, "level": "universal",
        "eligibility": _text(eligibility.get("eligibility") if isinstance(eligibility, dict) else "", 2000),
        "website": _checked_url(item.get("url"), warnings, "web address") or "",
        "email": _checked_email(item.get("email"), warnings, "email") or "",
        "delivery_methods": list(dict.fromkeys(attending)), "access_routes": list(dict.fromkeys(access)),
        "languages": [_text(lang.get("language") or lang.get("name"), 60) if isinstance(lang, dict) else _text(lang, 60)
                      for lang in item.get("languages") or []],
        "service_area": next((_text(area.get("service_area") or area.get("name"), 120)
                              for area in item.get("service_areas") or [] if isinstance(area, dict)), ""),
    })
    data["languages"] = [language for language in data["languages"] if language]
    if item.get("assured_date"):
        data["_assured_date"] = str(item["assured_date"])[:10]
    data["costs"] = [{"id": stable_id(cost.get("id") or f"{item['id']}:{index}", "cost"),
                      "option": _text(cost.get("option"), 255), "amount": _amount(cost.get("amount"), warnings),
                      "description": _text(cost.get("amount_description"), 255)}
                     for index, cost in enumerate(item.get("cost_options") or []) if isinstance(cost, dict)]
    fees = _text(item.get("fees"), 255)
    data["is_free"] = fees.strip().lower() in ("free", "0", "£0", "none", "no charge")
    if fees and not data["costs"]:
        if not data["is_free"]:
            data["costs"] = [{"id": stable_id(f"{item['id']}:fees", "cost"), "option": "", "amount": "",
                              "description": fees}]
    data["contacts"] = []
    for contact in item.get("contacts") or []:
        if not isinstance(contact, dict):
            continue
        phones = [p.get("number") for p in contact.get("phones") or [] if isinstance(p, dict) and p.get("number")]
        if phones and not data["phone"] and not _text(contact.get("name")) and not _text(contact.get("title")) \
                and not contact.get("email"):
            data["phone"] = _text(phones[0], 50)  # a bare number is the service's own phone
            continue
        data["contacts"].append({"id": stable_id(contact.get("id") or f"{item['id']}:{len(data['contacts'])}",
                                                 "contact"),
                                 "name": _text(contact.get("name"), 255), "title": _text(contact.get("title"), 255),
                                 "phone": _text(phones[0], 50) if phones else "",
                                 "email": _checked_email(contact.get("email"), warnings, "contact email") or "",
                                 "public": True})
    data["schedules"] = []
    for schedule in list(item.get("regular_schedules") or []) + list(item.get("schedules") or []):
        if not isinstance(schedule, dict):
            continue
        opens, closes = _time(schedule.get("opens_at")), _time(schedule.get("closes_at"))
        if opens and closes and closes <= opens:
            warnings.append(f"a session closing before it opens ({opens}-{closes}): times left out")
            opens = closes = ""
        days = _days(schedule)
        period, notes = _period(_text(schedule.get("description") or schedule.get("notes"), 500))
        for day in days:
            source = schedule.get("id") or f"{item['id']}:{len(data['schedules'])}"
            data["schedules"].append({"id": stable_id(source if len(days) == 1 else f"{source}:{day}", "schedule"),
                                      "day": day, "opens": opens, "closes": closes, "period": period,
                                      "notes": notes})
    data["locations"], features = _locations(item, warnings)
    accessibility_terms = {term.name.lower(): term for term in terms_by_name.values()
                           if term.vocabulary.value == "accessibility"}
    data["accessibility"] = []
    for name, details in features:
        term = accessibility_terms.get(name.lower())
        if term is None:
            warnings.append(f"accessibility {name[:60]!r} is not one of our features: left out")
        elif term.code not in [a["code"] for a in data["accessibility"]]:
            data["accessibility"].append({"code": term.code, "details": _text(details, 500)})
    fundings = {_text(f.get("source"), 60).lower() for f in item.get("fundings") or item.get("funding") or []
                if isinstance(f, dict)}
    data["accepts_ehcp_funding"] = "ehc plan" in fundings
    data["accepts_personal_budget"] = "personal budget" in fundings
    data["accepts_direct_payments"] = "direct payments" in fundings
    if data["locations"] and not data["delivery_methods"]:
        data["delivery_methods"] = ["venue"]  # a feed that gives a venue but no attending type
    areas = set(current_app.config["POSTCODE_AREAS"])
    if data["locations"] and not any(geo.postcode_area(venue["postcode"]) in areas for venue in data["locations"]):
        data["in_area"] = False
        warnings.append("its venues are outside the council's area: marked as out of area")
    categories, needs = [], []
    links = [link.get("taxonomy") for link in item.get("service_taxonomys") or [] if isinstance(link, dict)]
    links += [link.get("taxonomy_term") for link in item.get("attributes") or [] if isinstance(link, dict)]
    for link in links:
        if not isinstance(link, dict):
            continue
        term = terms_by_id.get(str(link.get("id"))) or terms_by_name.get(_text(link.get("name"), 255).lower())
        if term is None:
            warnings.append(f"taxonomy term {_text(link.get('name'), 60) or link.get('id')!r} is not one of ours")
        elif term.vocabulary.value == "category":
            categories.append(term.code)
        elif term.vocabulary.value == "need":
            needs.append(term.code)
        elif term.code not in [a["code"] for a in data["accessibility"]]:
            data["accessibility"].append({"code": term.code, "details": ""})
    data["categories"], data["needs"] = list(dict.fromkeys(categories)), list(dict.fromkeys(needs))
    return data, organisation, warnings


def _period(text: str) -> tuple[str, str]:
    """Read "term time ..." or "school holidays ..." at the start of a schedule's description."""
    for period in ("all year", "term time", "school holidays"):
        if text.lower().startswith(period):
            return period.replace(" ", "_"), text[len(period):].strip()
    return "all_year", text


def _listish(value) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value if v]
    return [part.strip() for part in str(value or "").split(",") if part.strip()]


def _checked_url(value, warnings: list[str], what: str) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    if is_web_address(text):
        return text
    warnings.append(f"{what} {text[:60]!r} is not a web address: left out")
    return None


def _checked_email(value, warnings: list[str], what: str) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    if is_email(text):
        return text
    warnings.append(f"{what} {text[:60]!r} is not an email address: left out")
    return None


def _amount(value, warnings: list[str]) -> str:
    if value in (None, ""):
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        warnings.append(f"cost {str(value)[:20]!r} is not an amount: left out")
        return ""
    if not 0 <= number < 100000:  # also refuses inf and nan
        warnings.append(f"cost {number} is out of range: left out")
        return ""
    return f"{number:.2f}"


def _summary(html: str, name: str) -> str:
    text = " ".join(clean_text(re.sub(r"<[^>]+>", " ", html or "")).split())
    if not text:
        return ""
    sentence = re.split(r"(?<=[.!?])\s", text)[0]
    return (sentence if len(sentence) <= 300 else sentence[:297].rsplit(" ", 1)[0] + "…")


def _locations(item: dict, warnings: list[str]) -> tuple[list[dict], list[tuple[str, str]]]:
    venues, features = [], []
    for link in item.get("service_at_locations") or []:
        place = link.get("location") if isinstance(link, dict) else None
        if not isinstance(place, dict):
            continue
        addresses = place.get("physical_addresses") or place.get("addresses") or []
        address = addresses[0] if addresses and isinstance(addresses[0], dict) else {}
        postcode = str(address.get("postal_code") or "").strip().upper()
        parsed = geo.parse_postcode(postcode)
        masked = bool(parsed and parsed[0] == "sector")  # a home-based provider published by its sector only
        try:
            point = publishing.resolve_postcode(postcode, masked=masked)
        except publishing.PublishError as error:
            warnings.append(f"venue {_text(place.get('name'), 60)!r} left out: {error}")
            continue
        venues.append({"id": stable_id(place.get("id") or f"{item['id']}:{postcode}:{len(venues)}", "location"),
                       "link_id": stable_id(link.get("id"), "link") if link.get("id") else None,
                       "name": _text(place.get("name"), 255), "address_1": _text(address.get("address_1"), 255),
                       "address_2": "", "town": _text(address.get("city"), 120),
                       "county": _text(address.get("state_province") or address.get("region"), 120),
                       "postcode": point.label, "mask_address": masked,
                       "latitude": place.get("latitude"), "longitude": place.get("longitude")})
        for feature in place.get("accessibility_for_disabilities") or place.get("accessibility") or []:
            if isinstance(feature, dict) and _text(feature.get("accessibility")):
                features.append((_text(feature.get("accessibility"), 255), feature.get("details") or ""))
    return venues, features


# --- applying -------------------------------------------------------------------------------------------


def import_records(records: Iterable[dict], *, apply: bool, publish: bool,
                   progress: Callable[[Iterable], Iterable] | None = None) -> Report:
    """Map, check and (with ``apply``) write each record; return what happened to each."""
    report = Report(applied=apply)
    terms = db.session.execute(select(Term)).scalars().all()
    by_id, by_name = {term.id: term for term in terms}, {term.name.lower(): term for term in terms}
    seen: set[str] = set()
    changed = False
    for item in (progress(records) if progress else records):
        source_id = str(item.get("id") or "")[:200] if isinstance(item, dict) else ""
        name = _text(item.get("name"), 120) if isinstance(item, dict) else ""
        try:
            data, organisation, warnings = map_service(item, by_id, by_name)
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            report.outcomes.append(Outcome(source_id, name, "rejected", str(error) or type(error).__name__))
            continue
        listing_id = stable_id(source_id, "service")
        if listing_id in seen:
            report.outcomes.append(Outcome(source_id, name, "rejected", "duplicate id in this import"))
            continue
        seen.add(listing_id)
        outcome = _apply_one(listing_id, data, organisation, warnings, source_id, apply=apply, publish=publish)
        report.outcomes.append(outcome)
        changed = changed or (apply and outcome.action in ("created", "updated"))
    if apply and changed:
        from local_offer.search import get_service

        get_service().sync()
    return report


#: What a feed does not carry, kept from the live listing when an import updates it.
KEPT_ON_UPDATE = ("kind", "level", "how_to_access", "ofsted_urn", "sen_information_report_url")


def _keep_what_the_feed_lacks(listing: Listing, data: dict, warnings: list[str]) -> None:
    """Carry over what an update from a feed has no field for: kind, level, private contacts, masked addresses."""
    live = publishing.listing_data(listing)
    for key in KEPT_ON_UPDATE:
        if not data.get(key) or key in ("kind", "level"):
            data[key] = live[key]
    data["contacts"] = list(data.get("contacts") or []) + [c for c in live["contacts"] if not c.get("public", True)]
    masked = {venue["id"]: venue for venue in live["locations"] if venue.get("mask_address")}
    data["locations"] = [masked.get(venue.get("id"), venue) for venue in data.get("locations") or []]


def _apply_one(listing_id: str, data: dict, organisation: dict, warnings: list[str], source_id: str, *,
               apply: bool, publish: bool, from_feed: bool = True) -> Outcome:
    """Write one record (or say what would happen); any failure rejects this record only."""
    try:
        return _apply_one_unsafe(listing_id, data, organisation, warnings, source_id, apply=apply, publish=publish,
                                 from_feed=from_feed)
    except Exception as error:  # never abort the whole import for one record  # noqa: BLE001
        db.session.rollback()
        return Outcome(source_id, data.get("name", ""), "rejected",
                       f"could not be stored ({type(error).__name__}: {str(error)[:120]})", warnings)


def _apply_one_unsafe(listing_id: str, data: dict, organisation: dict, warnings: list[str], source_id: str, *,
                      apply: bool, publish: bool, from_feed: bool) -> Outcome:
    listing = db.session.get(Listing, listing_id)
    assured = data.pop("_assured_date", None)
    if assured is not None:
        try:
            assured_date = date.fromisoformat(assured)
        except ValueError:
            warnings.append(f"assured date {assured!r} is not a date: left out")
            assured_date = None
    else:
        assured_date = None
    if listing is not None and from_feed:  # the CSV layout carries all of these itself
        _keep_what_the_feed_lacks(listing, data, warnings)
    if listing is not None:
        revision = publishing.open_revision(listing)
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
        owner = db.session.get(Organisation, organisation["id"])
        if owner is None:
            owner = Organisation(id=organisation["id"], name=organisation["name"])
            db.session.add(owner)
        if publish or not owner.listings:
            # Organisation details change with a published import; pending ones leave them to coordinators.
            owner.name, owner.description = organisation["name"], organisation["description"] or owner.description
            owner.website = organisation["website"] or owner.website
            owner.email = organisation["email"] or owner.email
        if listing is not None and listing.organisation_id != owner.id and not publish:
            warnings.append("the feed gives another organisation: kept the current one until a coordinator checks")
            owner = listing.organisation
        if listing is None:
            listing = Listing(id=listing_id, organisation=owner, name=data["name"], kind=ListingKind.SUPPORT_SERVICE,
                              level=ListingLevel.UNIVERSAL, status=ListingStatus.DRAFT)
            db.session.add(listing)
        listing.organisation = owner
        db.session.flush()
        if publish:
            publishing.publish(listing, data, actor=None, action="listing.imported", assured=assured_date,
                               extra={"source_id": source_id}, sync=False)
        else:
            if data.get("description_html") is not None:
                # A change waiting for a coordinator is edited as text in the portal: keep it as text.
                data["description"] = publishing.markdown_from_html(clean_html(data.pop("description_html")))
            revision = publishing.open_revision(listing)
            base = publishing.listing_data(listing) if listing.is_visible else None
            if revision is None:
                revision = ListingRevision(listing=listing, base_data=base, base_version=listing.version)
                db.session.add(revision)
            revision.data, revision.status, revision.submitted_at = data, RevisionStatus.PENDING, utcnow()
            revision.note = f"Imported (source id {source_id})."
            if listing.status is ListingStatus.DRAFT:
                listing.status = ListingStatus.PENDING
            record_audit("listing.import_pending", "listing", listing.id, changes={"source_id": source_id})
            db.session.commit()
    except publishing.PublishError as error:
        db.session.rollback()
        return Outcome(source_id, data["name"], "rejected", str(error), warnings)
    return Outcome(source_id, data["name"], action, "" if publish else "waiting for a coordinator", warnings)


def _same(listing: Listing, data: dict) -> bool:
    """Say whether importing ``data`` again would leave the live listing as it is."""
    live = publishing.listing_data(listing)
    html = data.get("description_html")
    if html is not None:
        if clean_html(html) != (listing.description or ""):
            return False
        data = {**data, "description": live["description"]}  # compared as HTML above
    return not publishing.changed_fields(live, data)


# --- exporting ------------------------------------------------------------------------------------------


def export_oruk(progress: Callable[[Iterable], Iterable] | None = None) -> list[dict]:
    """Return every public listing as an ORUK v1 service (a bare array, as feeds are often shared)."""
    from local_offer.api import oruk
    from local_offer.listings import PUBLIC_STATUSES, LISTING_LOAD

    ids = db.session.execute(select(Listing.id).where(Listing.status.in_(PUBLIC_STATUSES)).order_by(Listing.id)
                             ).scalars().all()
    services = []
    chunks = range(0, len(ids), 500)
    for start in (progress(chunks) if progress else chunks):
        batch = db.session.execute(select(Listing).where(Listing.id.in_(ids[start:start + 500]))
                                   .options(*LISTING_LOAD).order_by(Listing.id)).scalars().all()
        services.extend(oruk.service(listing) for listing in batch)
    return services


def to_json(services: list[dict]) -> str:
    """Return services as ORUK JSON text, in a stable order (so two exports of the same data are identical)."""
    return json.dumps(services, ensure_ascii=False, indent=1, sort_keys=True)


def read_bytes(raw: bytes, where: str = "The file") -> list[dict]:
    """Read uploaded ORUK JSON into service records; raise ImportError_ when it cannot be."""
    return list(_records(_json(raw, where)))


def report_lines(report: Report) -> list[str]:
    """Return the report as lines of text for a person."""
    lines = []
    for outcome in report.outcomes:
        line = f"{outcome.action:9} {outcome.source_id[:40]:40} {outcome.name[:50]}"
        if outcome.reason:
            line += f"  ({outcome.reason})"
        lines.append(line)
        lines.extend(f"{'':9} warning: {warning}" for warning in outcome.warnings)
    counts = report.counts
    verb = "" if report.applied else "would be "
    lines.append(", ".join(f"{counts.get(action, 0)} {verb}{action}"
                           for action in ("created", "updated", "skipped", "rejected")))
    return lines



# --- the CSV layout -----------------------------------------------------------------------------------------

#: One row per service. Lists of codes are separated by ";"; venues, sessions, costs and contacts are
#: JSON arrays of objects with the keys shown (documented in the README).
CSV_COLUMNS = [
    "id", "organisation_id", "organisation_name", "organisation_description", "organisation_website",
    "organisation_email", "name", "kind", "level", "status", "summary", "description", "website", "email", "phone",
    "min_age", "max_age", "eligibility", "categories", "needs", "accessibility", "languages", "delivery_methods",
    "access_routes", "how_to_access", "service_area", "in_area", "is_free", "costs", "funding", "free_carer_entry",
    "venues", "sessions", "contacts", "ofsted_urn", "sen_information_report_url", "assured_date",
]
CSV_REQUIRED = {"id", "organisation_id", "organisation_name", "name"}
FUNDING_FLAGS = {"ehcp": "accepts_ehcp_funding", "personal_budget": "accepts_personal_budget",
                 "direct_payments": "accepts_direct_payments"}
_VENUE_KEYS = ("id", "name", "address_1", "address_2", "town", "county", "postcode", "mask_address")
_SESSION_KEYS = ("id", "day", "opens", "closes", "period", "notes")
_COST_KEYS = ("id", "option", "amount", "description")
_CONTACT_KEYS = ("id", "name", "title", "phone", "email", "public")


def _codes(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(";") if part.strip()]


def _yes(value: str) -> bool:
    return (value or "").strip().lower() in ("yes", "y", "true", "1")


def _json_rows(value: str, column: str, keys: tuple[str, ...]) -> list[dict]:
    if not (value or "").strip():
        return []
    try:
        rows = json.loads(value)
    except (json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"{column} is not a JSON list ({getattr(error, 'msg', 'nested too deeply')})") from error
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ValueError(f"{column} must be a JSON list of objects")
    return [{key: _cell(key, row.get(key)) for key in keys if key in row} for row in rows]


def _cell(key: str, value):
    """Make one value of a JSON cell the type the listing data expects (text, or yes/no for flags)."""
    if key in ("mask_address", "public"):
        return value if isinstance(value, bool) else _yes(str(value)) if value is not None else key == "public"
    if value is None or isinstance(value, (list, dict)):
        return ""
    return str(value)[:500]


def listing_row(listing: Listing) -> dict:
    """Return a listing as one row of the CSV layout."""
    data = publishing.listing_data(listing)
    for key in ("locations", "costs", "contacts"):  # no order the database keeps: sort for stable files
        data[key] = sorted(data[key], key=lambda row: row.get("id") or "")
    organisation = listing.organisation
    return {
        "id": listing.id, "organisation_id": organisation.id, "organisation_name": organisation.name,
        "organisation_description": organisation.description or "", "organisation_website": organisation.website or "",
        "organisation_email": organisation.email or "", "name": data["name"], "kind": data["kind"],
        "level": data["level"], "status": data["status"], "summary": data["summary"],
        "description": data["description"], "website": data["website"], "email": data["email"],
        "phone": data["phone"], "min_age": "" if data["min_age"] is None else data["min_age"],
        "max_age": "" if data["max_age"] is None else data["max_age"], "eligibility": data["eligibility"],
        "categories": ";".join(data["categories"]), "needs": ";".join(data["needs"]),
        "accessibility": json.dumps(data["accessibility"], ensure_ascii=False) if data["accessibility"] else "",
        "languages": ";".join(data["languages"]), "delivery_methods": ";".join(data["delivery_methods"]),
        "access_routes": ";".join(data["access_routes"]), "how_to_access": data["how_to_access"],
        "service_area": data["service_area"], "in_area": "yes" if data["in_area"] else "no",
        "is_free": "yes" if data["is_free"] else "no",
        "costs": json.dumps(data["costs"], ensure_ascii=False) if data["costs"] else "",
        "funding": ";".join(key for key, flag in FUNDING_FLAGS.items() if data[flag]),
        "free_carer_entry": "yes" if data["free_carer_entry"] else "no",
        "venues": json.dumps([{key: venue.get(key) for key in _VENUE_KEYS} for venue in data["locations"]],
                             ensure_ascii=False) if data["locations"] else "",
        "sessions": json.dumps(data["schedules"], ensure_ascii=False) if data["schedules"] else "",
        "contacts": json.dumps(data["contacts"], ensure_ascii=False) if data["contacts"] else "",
        "ofsted_urn": data["ofsted_urn"], "sen_information_report_url": data["sen_information_report_url"],
        "assured_date": listing.assured_date.isoformat() if listing.assured_date else "",
    }


def export_csv(progress: Callable[[Iterable], Iterable] | None = None) -> str:
    """Return every public listing in the CSV layout (formula-looking cells neutralised for spreadsheets)."""
    from local_offer.listings import PUBLIC_STATUSES, LISTING_LOAD

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    ids = db.session.execute(select(Listing.id).where(Listing.status.in_(PUBLIC_STATUSES)).order_by(Listing.id)
                             ).scalars().all()
    chunks = range(0, len(ids), 500)
    for start in (progress(chunks) if progress else chunks):
        batch = db.session.execute(select(Listing).where(Listing.id.in_(ids[start:start + 500]))
                                   .options(*LISTING_LOAD).order_by(Listing.id)).scalars().all()
        for listing in batch:
            writer.writerow({key: spreadsheet_safe(value) for key, value in listing_row(listing).items()})
    return buffer.getvalue()


def read_csv(raw: bytes, where: str = "The file") -> list[dict]:
    """Read the CSV layout; raise ImportError_ for text that is not UTF-8 or columns that are wrong."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportError_(f"{where} is not UTF-8 text (byte {error.start}). Save it as 'CSV UTF-8'.") from error
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = [name.strip() for name in reader.fieldnames or []]
    missing = sorted(CSV_REQUIRED - set(columns))
    unknown = sorted(set(columns) - set(CSV_COLUMNS))
    if missing or unknown:
        problems = ([f"missing columns: {', '.join(missing)}"] if missing else []) + \
                   ([f"unknown columns: {', '.join(unknown)}"] if unknown else [])
        raise ImportError_(f"{where} does not have the import layout ({'; '.join(problems)}). "
                           f"The columns are: {', '.join(CSV_COLUMNS)}.")
    rows = []
    try:
        for row in reader:
            rows.append({(key or "").strip(): spreadsheet_unsafe(value) for key, value in row.items() if key is not None})
    except csv.Error as error:
        raise ImportError_(f"{where} is not valid CSV (line {reader.line_num}: {error}).") from error
    return rows


def map_row(row: dict, known: dict[str, set[str]]) -> tuple[dict, dict, list[str]]:
    """Map one CSV row onto (listing data, organisation, warnings); raise ValueError to reject it."""
    warnings: list[str] = []
    name = _text(row.get("name"), 255)
    if not (row.get("id") or "").strip():
        raise ValueError("no id")
    if not name:
        raise ValueError("no name")
    if not (row.get("organisation_id") or "").strip() or not _text(row.get("organisation_name"), 255):
        raise ValueError("no organisation")
    kind = (row.get("kind") or "support_service").strip()
    if kind not in {item.value for item in ListingKind}:
        raise ValueError(f"kind {kind!r} is not provider, activity or support_service")
    level = (row.get("level") or "universal").strip()
    if level not in {item.value for item in ListingLevel}:
        raise ValueError(f"level {level!r} is not universal, targeted or specialist")
    status = (row.get("status") or "published").strip()
    if status not in ("published", "temporarily_closed", "archived"):
        raise ValueError(f"status {status!r} is not published, temporarily_closed or archived")
    data = publishing.new_listing_data(name, kind)
    minimum, maximum = _age(row.get("min_age"), warnings, "youngest"), _age(row.get("max_age"), warnings, "oldest")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise ValueError(f"ages run backwards ({minimum} to {maximum})")
    accessibility = _json_rows(row.get("accessibility"), "accessibility", ("code", "details"))
    data.update({
        "status": status, "level": level, "summary": _text(row.get("summary"), 500),
        "description": (row.get("description") or "")[:publishing.DESCRIPTION_MAX],
        "website": _checked_url(row.get("website"), warnings, "web address") or "",
        "email": _checked_email(row.get("email"), warnings, "email") or "", "phone": _text(row.get("phone"), 50),
        "min_age": minimum, "max_age": maximum, "eligibility": _text(row.get("eligibility"), 2000),
        "languages": [_text(item, 60) for item in _codes(row.get("languages"))],
        "delivery_methods": [m for m in _codes(row.get("delivery_methods")) if m in DELIVERY.values()],
        "access_routes": [a for a in _codes(row.get("access_routes")) if a in ACCESS.values()],
        "how_to_access": _text(row.get("how_to_access"), 2000), "service_area": _text(row.get("service_area"), 120),
        "in_area": _yes(row.get("in_area") or "yes"), "is_free": _yes(row.get("is_free")),
        "free_carer_entry": _yes(row.get("free_carer_entry")),
        "ofsted_urn": _text(row.get("ofsted_urn"), 10),
        "sen_information_report_url": _checked_url(row.get("sen_information_report_url"), warnings,
                                                   "SEN report address") or "",
        "costs": _json_rows(row.get("costs"), "costs", _COST_KEYS),
        "schedules": _json_rows(row.get("sessions"), "sessions", _SESSION_KEYS),
        "contacts": _json_rows(row.get("contacts"), "contacts", _CONTACT_KEYS),
    })
    for key, flag in FUNDING_FLAGS.items():
        data[flag] = key in _codes(row.get("funding"))
    for vocabulary, column in (("category", "categories"), ("need", "needs")):
        codes = _codes(row.get(column))
        unknown = [code for code in codes if code not in known[vocabulary]]
        if unknown:
            warnings.append(f"{column} {', '.join(unknown)} not in our vocabularies: left out")
        data[column] = list(dict.fromkeys(code for code in codes if code in known[vocabulary]))
    data["accessibility"] = [item for item in accessibility if item.get("code") in known["accessibility"]]
    if len(data["accessibility"]) < len(accessibility):
        warnings.append("some accessibility codes are not ours: left out")
    venues = []
    for venue in _json_rows(row.get("venues"), "venues", _VENUE_KEYS):
        try:
            point = publishing.resolve_postcode(str(venue.get("postcode") or ""), masked=bool(venue.get("mask_address")))
        except publishing.PublishError as error:
            warnings.append(f"venue {_text(venue.get('name'), 60)!r} left out: {error}")
            continue
        venues.append({**{key: venue.get(key) or "" for key in _VENUE_KEYS if key not in ("id", "mask_address")},
                       "id": venue.get("id"), "postcode": point.label, "mask_address": bool(venue.get("mask_address"))})
    data["locations"] = venues
    if row.get("assured_date"):
        data["_assured_date"] = row["assured_date"].strip()[:10]
    organisation = {"id": stable_id(row["organisation_id"], "organisation"),
                    "name": _text(row["organisation_name"], 255),
                    "description": _text(row.get("organisation_description"), 5000),
                    "website": _checked_url(row.get("organisation_website"), warnings, "organisation web address"),
                    "email": _checked_email(row.get("organisation_email"), warnings, "organisation email")}
    return data, organisation, warnings


def import_csv(rows: list[dict], *, apply: bool, publish: bool,
               progress: Callable[[Iterable], Iterable] | None = None) -> Report:
    """Check and (with ``apply``) write rows of the CSV layout through the same path as ORUK imports."""
    report = Report(applied=apply)
    known: dict[str, set[str]] = {"category": set(), "need": set(), "accessibility": set()}
    for term in db.session.execute(select(Term)).scalars():
        known[term.vocabulary.value].add(term.code)
    seen: set[str] = set()
    changed = False
    for line, row in enumerate(progress(rows) if progress else rows, start=2):
        source_id = (row.get("id") or "").strip()[:200]
        name = _text(row.get("name"), 120)
        try:
            data, organisation, warnings = map_row(row, known)
        except (ValueError, TypeError) as error:
            report.outcomes.append(Outcome(source_id or f"line {line}", name, "rejected", str(error)))
            continue
        listing_id = stable_id(source_id, "service")
        if listing_id in seen:
            report.outcomes.append(Outcome(source_id, name, "rejected", "duplicate id in this import"))
            continue
        seen.add(listing_id)
        outcome = _apply_one(listing_id, data, organisation, warnings, source_id, apply=apply, publish=publish,
                             from_feed=False)
        report.outcomes.append(outcome)
        changed = changed or (apply and outcome.action in ("created", "updated"))
    if apply and changed:
        from local_offer.search import get_service

        get_service().sync()
    return report


def count_csv_rows(text: str) -> int:
    """Return how many listings a CSV export holds (cells may contain line breaks)."""
    return max(0, sum(1 for _row in csv.reader(io.StringIO(text, newline=""))) - 1)
