"""Open Referral UK (HSDS UK 1.0) shapes of our records, for the read API.

Only what families may see: published or temporarily closed listings, public
contacts, masked venues at their postcode sector's centre.  Field types follow
the standard's JSON schemas: enumerations are one of the listed values or null,
strings are left out rather than null when there is nothing to say, and
optional values that would fail their format (an email that is not one, a web
address without http) are left out too.
"""

from __future__ import annotations

from local_offer.formats import is_email, is_web_address
from local_offer.geo import public_point
from local_offer.models import Listing, ListingStatus, Location, Organisation, Term, Vocabulary

ATTENDING_TYPE = {"venue": "venue", "online": "online", "phone": "phone", "home_visit": "home visit"}
ATTENDING_ACCESS = {"referral": "referral", "booking": "appointment", "membership": "membership",
                    "drop_in": "drop-in"}
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _email(value: str | None) -> dict:
    return {"email": value} if is_email(value) else {}


def _url(key: str, value: str | None) -> dict:
    return {key: value} if is_web_address(value) else {}


def organization(organisation: Organisation) -> dict:
    """An ORUK organization."""
    return {"id": organisation.id, "name": organisation.name, "description": organisation.description or "",
            **_email(organisation.email), **_url("url", organisation.website)}


def taxonomy(term: Term) -> dict:
    """An ORUK taxonomy term (ours: categories, needs and accessibility features)."""
    return {"id": term.id, "name": term.name, "vocabulary": term.vocabulary.value,
            **({"parent": term.parent_id} if term.parent_id else {})}


def location(place: Location) -> dict:
    """An ORUK location: a masked venue shows only its town and postcode sector, at the sector's centre."""
    point = public_point(place)
    address = {"id": place.id, "address_1": "" if place.mask_address else ", ".join(
        part for part in (place.address_1, place.address_2) if part),
        "city": place.town or "", "state_province": place.county or "",
        "postal_code": place.postcode_sector if place.mask_address else place.postcode, "country": "GB"}
    body = {"id": place.id, "name": place.town if place.mask_address else (place.name or place.town or ""),
            "physical_addresses": [address]}
    if point is not None:
        body["latitude"], body["longitude"] = point[0], point[1]
    return body


def _fees(listing: Listing) -> str:
    if listing.is_free:
        return "Free"
    parts = []
    for cost in sorted(listing.cost_options, key=lambda cost: cost.id):
        amount = f"£{cost.amount:.2f}" if cost.amount is not None else ""
        parts.append(" ".join(part for part in (amount, cost.option, cost.amount_description) if part))
    return "; ".join(part for part in parts if part)


def service(listing: Listing) -> dict:
    """An ORUK service: one of our listings with everything it embeds (no extra calls per result).

    Lists the database keeps in no particular order (venues, costs, contacts, terms) are sorted,
    so the same data always gives the same document, on PostgreSQL as on SQLite.
    """
    accessibility = [{"id": f"{listing.id}:{link.term_id}", "accessibility": link.term.name,
                      "details": link.details or ""} for link in listing.terms(Vocabulary.ACCESSIBILITY)]
    attending = [ATTENDING_TYPE[m] for m in listing.delivery_methods or [] if m in ATTENDING_TYPE]
    access = [ATTENDING_ACCESS[a] for a in listing.access_routes or [] if a in ATTENDING_ACCESS]
    body = {
        "id": listing.id,
        "name": listing.name,
        "description": listing.description or listing.summary or "",
        "url": listing.website if is_web_address(listing.website) else "",
        **_email(listing.email),
        "status": "temporarily closed" if listing.status is ListingStatus.TEMPORARILY_CLOSED else "active",
        "fees": _fees(listing),
        "accreditations": None,
        "deliverable_type": None,
        "attending_type": attending[0] if attending else None,
        "attending_access": access[0] if access else None,
        **({"assured_date": listing.assured_date.isoformat()} if listing.assured_date else {}),
        "organization": organization(listing.organisation),
        "service_at_locations": [{"id": link.id, "location": {**location(link.location),
                                                              "accessibility_for_disabilities": accessibility}}
                                 for link in sorted(listing.service_at_locations, key=lambda link: link.id)],
        "regular_schedules": [{
            "id": schedule.id,
            **({"weekday": schedule.weekday.value, "byday": schedule.weekday.value, "freq": "WEEKLY"}
               if schedule.weekday else {}),
            **({"opens_at": schedule.opens_at.strftime("%H:%M")} if schedule.opens_at else {}),
            **({"closes_at": schedule.closes_at.strftime("%H:%M")} if schedule.closes_at else {}),
            **({"valid_from": schedule.valid_from.isoformat()} if schedule.valid_from else {}),
            **({"valid_to": schedule.valid_to.isoformat()} if schedule.valid_to else {}),
            "description": " ".join(part for part in (schedule.period.value.replace("_", " "), schedule.notes)
                                    if part),
        } for schedule in listing.schedules],
        "holiday_schedules": [],
        "eligibilitys": [{"id": f"{listing.id}:eligibility", "eligibility": listing.eligibility or "",
                          **({"minimum_age": listing.min_age} if listing.min_age is not None else {}),
                          **({"maximum_age": listing.max_age} if listing.max_age is not None else {})}],
        "cost_options": [{"id": cost.id, "option": cost.option or "",
                          **({"amount": float(cost.amount)} if cost.amount is not None else {}),
                          "amount_description": cost.amount_description or ""}
                         for cost in sorted(listing.cost_options, key=lambda cost: cost.id)],
        "contacts": [{"id": contact.id, "name": contact.name or "", "title": contact.title or "",
                      **_email(contact.email),
                      "phones": [{"id": f"{contact.id}:phone", "number": contact.phone}] if contact.phone else []}
                     for contact in sorted(listing.public_contacts, key=lambda contact: contact.id)],
        "languages": [{"id": f"{listing.id}:{index}", "language": language}
                      for index, language in enumerate(listing.languages or [])],
        "service_areas": [{"id": f"{listing.id}:area", "service_area": listing.service_area}]
        if listing.service_area else [],
        "fundings": [{"id": f"{listing.id}:{key}", "source": label} for key, label in (
            ("ehcp", "EHC plan"), ("personal_budget", "Personal budget"), ("direct_payments", "Direct payments"))
            if getattr(listing, f"accepts_{key}_funding" if key == "ehcp" else f"accepts_{key}")],
        "reviews": [],
        "service_taxonomys": [{"id": f"{listing.id}:{link.term_id}", "taxonomy": taxonomy(link.term)}
                              for link in sorted(listing.listing_terms, key=lambda link: (
                                  link.term.vocabulary.value, link.term.position, link.term.name, link.term_id))],
    }
    if listing.phone:
        body["contacts"].insert(0, {"id": f"{listing.id}:phone", "name": "", "title": "",
                                    "phones": [{"id": f"{listing.id}:phone:1", "number": listing.phone}]})
    return body
