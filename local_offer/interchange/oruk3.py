"""Our listings in Open Referral UK version 3 (HSDS-UK 3.0) shapes, for the v3 API and exports.

v3 links taxonomy terms through ``attributes``, merges addresses into
``location.addresses``, carries sessions as ``schedules`` in iCalendar's fields
(the same ones v1 sends: ``interchange/schedules.py``) and gives every entity a
UUID.  Entities we do not keep as rows of their own (a service's languages, an
address, a term's link) get a stable UUID made from what they belong to, so the
same data always gives the same document.  Our three vocabularies (categories,
needs, accessibility) are v3 taxonomies.
"""

from __future__ import annotations

import uuid
from datetime import timezone

from babel import Locale

from local_offer import geo
from local_offer.formats import is_email, is_web_address
from local_offer.interchange.fields import ID_NAMESPACE
from local_offer.interchange.oruk import ATTENDING_ACCESS, ATTENDING_TYPE, FUNDINGS, _fees
from local_offer.interchange.schedules import schedules_out
from local_offer.models import Listing, ListingStatus, Location, Organisation, ServiceAtLocation, Term, Vocabulary

#: What each vocabulary is, for v3's required taxonomy description.
VOCABULARY_DESCRIPTIONS = {
    Vocabulary.CATEGORY: "The kinds of service, activity and support families look for.",
    Vocabulary.NEED: "Special educational needs and disabilities a service is set up to support.",
    Vocabulary.ACCESSIBILITY: "Accessibility features and support at a service or its venue.",
}
#: Language names as English names them -> ISO 639 codes (British Sign Language has no two-letter one).
_LANGUAGE_CODES = {name.lower(): code for code, name in Locale("en").languages.items() if "_" not in code}
_LANGUAGE_CODES.update({"british sign language": "bfi", "bsl": "bfi", "makaton": "", "english": "en"})


def made_id(*parts: str) -> str:
    """A stable UUID for an entity kept as part of another ("listing-id:language:0")."""
    return str(uuid.uuid5(ID_NAMESPACE, ":".join(("v3",) + parts)))


def taxonomy_id(vocabulary: Vocabulary) -> str:
    """The v3 taxonomy id of one of our vocabularies."""
    return made_id("taxonomy", vocabulary.value)


def vocabulary_of(identifier: str) -> Vocabulary | None:
    """The vocabulary a v3 taxonomy id (or its name) stands for, or None."""
    for vocabulary in Vocabulary:
        if identifier in (taxonomy_id(vocabulary), vocabulary.value):
            return vocabulary
    return None


def _email(value: str | None) -> dict:
    return {"email": value} if is_email(value) else {}


def _url(key: str, value: str | None) -> dict:
    return {key: value} if is_web_address(value) else {}


def _stamp(moment) -> str:
    """An ISO 8601 date-time in UTC ("2026-12-06T04:38:10Z")."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def taxonomy(vocabulary: Vocabulary, terms: list[Term] | None = None) -> dict:
    """One of our vocabularies as a v3 taxonomy, with its terms when given."""
    body = {"id": taxonomy_id(vocabulary), "name": vocabulary.value,
            "description": VOCABULARY_DESCRIPTIONS[vocabulary], "version": "1"}
    if terms is not None:
        body["taxonomy_terms"] = [taxonomy_term(term) for term in terms]
    return body


def taxonomy_term(term: Term) -> dict:
    """One of our terms as a v3 taxonomy term."""
    return {"id": term.id, "name": term.name, "description": term.description or term.name,
            **({"parent_id": term.parent_id} if term.parent_id else {}),
            "taxonomy": term.vocabulary.value, "taxonomy_id": taxonomy_id(term.vocabulary), "term": term.code}


def organization(organisation: Organisation, services: list[dict] | None = None) -> dict:
    """An organisation as a v3 organization (with its services when given)."""
    body = {"id": organisation.id, "name": organisation.name, "description": organisation.description or "",
            **_email(organisation.email), **_url("website", organisation.website)}
    if services is not None:
        body["services"] = services
    return body


def location(place: Location, features: list[tuple[str, str]] = ()) -> dict:
    """A venue as a v3 location: a masked one shows only its town and sector, at the sector's centre."""
    point = geo.public_point(place)
    address = {"id": made_id(place.id, "address"), "location_id": place.id,
               "address_1": "" if place.mask_address else ", ".join(
                   part for part in (place.address_1, place.address_2) if part),
               "city": place.town or "", "state_province": place.county or "",
               "postal_code": place.postcode_sector if place.mask_address else place.postcode,
               "country": "GB", "address_type": "physical"}
    body = {"id": place.id, "location_type": "physical",
            "name": place.town if place.mask_address else (place.name or place.town or ""),
            "addresses": [address],
            "accessibility": [{"id": made_id(place.id, "accessibility", name), "location_id": place.id,
                               "accessibility": name, "description": name, "details": details}
                              for name, details in features]}
    if point is not None:
        body["latitude"], body["longitude"] = point[0], point[1]
    return body


def _schedules(listing: Listing, location_id: str | None = None) -> list[dict]:
    """The sessions in v3's schedule shape: iCalendar fields, UUIDs, our notes in ``notes``."""
    found = []
    notes = {schedule.id: schedule.notes or "" for schedule in listing.schedules}
    for entry in schedules_out(listing, location_id):
        source = entry["id"].split(":")[0]
        period = entry.pop("description", "")
        note = notes.get(source, "")
        entry.pop("weekday", None)
        entry["id"] = entry["id"] if ":" not in entry["id"] else made_id(entry["id"])
        entry["service_id"] = listing.id
        entry["description"] = period[:-len(note)].strip() if note and period.endswith(note) else period
        if note:
            entry["notes"] = note
        if "bymonthday" in entry:
            entry["bymonthday"] = str(entry["bymonthday"])
        for name in ("opens_at", "closes_at"):
            if name in entry:
                entry[name] = f"{entry[name]}:00"
        found.append(entry)
    return found


def _languages(listing: Listing) -> list[dict]:
    found = []
    for index, name in enumerate(listing.languages or []):
        code = _LANGUAGE_CODES.get(name.strip().lower())
        found.append({"id": made_id(listing.id, "language", str(index)), "service_id": listing.id, "name": name,
                      **({"code": code} if code else {})})
    return found


def service_brief(listing: Listing) -> dict:
    """A service as v3 lists give it: its own fields and its organisation, nothing nested further."""
    return {
        "id": listing.id, "organization_id": listing.organisation_id, "name": listing.name,
        "description": listing.description or listing.summary or "",
        **_url("url", listing.website), **_email(listing.email),
        "status": "temporarily closed" if listing.status is ListingStatus.TEMPORARILY_CLOSED else "active",
        "fees": _fees(listing),
        **({"minimum_age": listing.min_age} if listing.min_age is not None else {}),
        **({"maximum_age": listing.max_age} if listing.max_age is not None else {}),
        **({"assured_date": listing.assured_date.isoformat()} if listing.assured_date else {}),
        "last_modified": _stamp(listing.updated_at),
        "organization": organization(listing.organisation),
    }


def service_at_location(link: ServiceAtLocation, features: list[tuple[str, str]] = (),
                        with_service: bool = False) -> dict:
    """A service at one of its venues, with the venue (and the service when asked)."""
    body = {"id": link.id, "service_id": link.listing_id, "location_id": link.location_id,
            "location": location(link.location, features)}
    if with_service:
        body["service"] = service_brief(link.listing)
    return body


def service(listing: Listing) -> dict:
    """A service fully nested, as ``/services/{id}`` gives it."""
    features = [(link.term.name, link.details or "") for link in listing.terms(Vocabulary.ACCESSIBILITY)]
    attending = [ATTENDING_TYPE[m] for m in listing.delivery_methods or [] if m in ATTENDING_TYPE]
    access = [ATTENDING_ACCESS[a] for a in listing.access_routes or [] if a in ATTENDING_ACCESS]
    costs = [{"id": cost.id, "service_id": listing.id, "option": cost.option or "",
              **({"amount": float(cost.amount)} if cost.amount is not None else {}),
              "amount_description": cost.amount_description or ""}
             for cost in sorted(listing.cost_options, key=lambda cost: cost.id)]
    if listing.is_free and not costs:
        costs = [{"id": made_id(listing.id, "free"), "service_id": listing.id, "option": "Free", "amount": 0.0,
                  "amount_description": "Free"}]
    contacts = [{"id": contact.id, "service_id": listing.id, "name": contact.name or "", "title": contact.title or "",
                 **_email(contact.email),
                 "phones": [{"id": made_id(contact.id, "phone"), "number": contact.phone}] if contact.phone else []}
                for contact in sorted(listing.public_contacts, key=lambda contact: contact.id)]
    if listing.phone:
        contacts.insert(0, {"id": made_id(listing.id, "phone"), "service_id": listing.id, "name": "", "title": "",
                            "phones": [{"id": made_id(listing.id, "phone", "1"), "number": listing.phone}]})
    return {
        **service_brief(listing),
        **({"eligibility_description": listing.eligibility} if listing.eligibility else {}),
        **({"attending_type": attending[0]} if attending else {}),
        **({"attending_access": access[0]} if access else {}),
        "schedules": _schedules(listing),
        "service_areas": [{"id": made_id(listing.id, "area"), "service_id": listing.id,
                           "name": listing.service_area, "service_area": listing.service_area}]
        if listing.service_area else [],
        "service_at_locations": [service_at_location(link, features)
                                 for link in sorted(listing.service_at_locations, key=lambda link: link.id)],
        "languages": _languages(listing),
        "funding": [{"id": made_id(listing.id, "funding", flag), "service_id": listing.id, "source": source}
                    for flag, source in FUNDINGS.items() if getattr(listing, flag)],
        "cost_options": costs,
        "contacts": contacts,
        "attributes": [{"id": made_id(listing.id, "attribute", link.term_id), "link_id": listing.id,
                        "link_type": "service", "taxonomy_term_id": link.term_id,
                        "taxonomy_term": taxonomy_term(link.term)}
                       for link in sorted(listing.listing_terms, key=lambda link: (
                           link.term.vocabulary.value, link.term.position, link.term.name, link.term_id))],
    }
