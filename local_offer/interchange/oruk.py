"""Open Referral UK, both ways: other directories' services into listing data, our listings out as services.

*In* (``map_service``): one ORUK v1 or v3 service becomes (listing data,
organisation, warnings) for the importer, or is rejected with a reason.  Real
feeds are messy, so each field is cleaned or left out with a warning: empty
strings in enumerations become nothing, HTML waits for the one sanitiser,
bad emails and web addresses are dropped, venues whose postcode the gazetteer
cannot place are left out, terms that are not ours are named.

*Out* (``service``, ``organization``, ``location``, ``taxonomy``): the shapes of
HSDS UK 1.0 the read API and the exports serve.  Only what families may see:
published or temporarily closed listings, public contacts, masked venues at
their postcode sector's centre.  Field types follow the standard's JSON
schemas: enumerations are one of the listed values or null, strings are left
out rather than null when there is nothing to say, and optional values that
would fail their format are left out too.

The two directions share their vocabularies (attending types, access routes,
days), so what we export reads back as the same listing.
"""

from __future__ import annotations

import re

from flask import current_app

from local_offer import geo
from local_offer.listings import data as listing_data, limits
from local_offer.formats import is_email, is_web_address
from local_offer.interchange.schedules import schedules_in, schedules_out
from local_offer.interchange.fields import (
    age,
    email_address,
    organisation_details,
    plain_text,
    stable_id,
    venue_postcode,
    web_address,
)
from local_offer.models import Listing, ListingStatus, Location, Organisation, Term, Vocabulary, Weekday
from local_offer.sanitise import clean_text

#: ORUK attending types (and the variants feeds use) -> our delivery methods.
DELIVERY = {"venue": "venue", "online": "online", "phone": "phone", "telephone": "phone", "home visit": "home_visit",
            "in_person": "venue", "in person": "venue"}
#: ORUK attending access (and variants) -> our access routes.
ACCESS = {"referral": "referral", "appointment": "booking", "booking": "booking", "membership": "membership",
          "drop-in": "drop_in", "drop in": "drop_in"}
#: Our delivery methods and access routes -> the value ORUK lists for each.
ATTENDING_TYPE = {"venue": "venue", "online": "online", "phone": "phone", "home_visit": "home visit"}
ATTENDING_ACCESS = {"referral": "referral", "booking": "appointment", "membership": "membership",
                    "drop_in": "drop-in"}
#: ORUK service statuses -> ours.
STATUS = {"active": "published", "temporarily closed": "temporarily_closed", "inactive": "archived",
          "defunct": "archived"}
#: Days as ORUK and iCal name them, which is how our schedules store them.
DAYS = tuple(day.value for day in Weekday)
#: Funding sources as ORUK names them -> our listing's flags.
FUNDINGS = {"accepts_ehcp_funding": "EHC plan", "accepts_personal_budget": "Personal budget",
            "accepts_direct_payments": "Direct payments"}


# --- in: an ORUK service -> listing data ------------------------------------------------------------------


def map_service(item: dict, terms_by_id: dict[str, Term], terms_by_name: dict[str, Term]) -> tuple[dict, dict, list[str]]:
    """Map one ORUK v1 or v3 service onto (listing data, organisation, warnings); raise ValueError to reject."""
    warnings: list[str] = []
    if "_not_an_object" in item:
        raise ValueError("not a JSON object")
    if not str(item.get("id") or "").strip():
        raise ValueError("no id")
    name = " ".join(plain_text(item.get("name")).split())  # as a listing's name is kept: a second pull is no change
    if not name:
        raise ValueError("no name")
    source_org = item.get("organization")
    if not isinstance(source_org, dict) or not str(source_org.get("id") or "").strip() or \
            not plain_text(source_org.get("name"), 255):
        raise ValueError("no organisation")
    organisation = organisation_details(source_org["id"], source_org["name"], source_org.get("description"),
                                        source_org.get("url") or source_org.get("website"),
                                        source_org.get("email"), warnings)
    description_html = item.get("description") if isinstance(item.get("description"), str) else ""
    attending = [DELIVERY[value] for value in _listish(item.get("attending_type"))
                 if value.lower() in DELIVERY for value in [value.lower()]]
    access = [ACCESS[value.lower()] for value in _listish(item.get("attending_access")) if value.lower() in ACCESS]
    eligibility = (item.get("eligibilitys") or [{}])[0] if isinstance(item.get("eligibilitys"), list) else {}
    eligibility = eligibility if isinstance(eligibility, dict) else {}
    minimum = age(item.get("minimum_age", eligibility.get("minimum_age")), warnings, "youngest")
    maximum = age(item.get("maximum_age", eligibility.get("maximum_age")), warnings, "oldest")
    if minimum is not None and maximum is not None and minimum > maximum:
        warnings.append(f"ages {minimum}-{maximum} run backwards: left out")
        minimum = maximum = None
    data = listing_data.new_listing_data(name, "support_service")
    data.update({
        "status": STATUS.get(str(item.get("status") or "").strip().lower(), "published"),
        "summary": _summary(description_html), "description": "", "description_html": description_html,
        "min_age": minimum, "max_age": maximum, "level": "universal",
        "eligibility": plain_text(eligibility.get("eligibility") or item.get("eligibility_description")),
        "website": web_address(item.get("url"), warnings, "web address") or "",
        "email": email_address(item.get("email"), warnings, "email") or "",
        "delivery_methods": list(dict.fromkeys(attending)), "access_routes": list(dict.fromkeys(access)),
        "languages": [language for language in (
            plain_text(lang.get("language") or lang.get("name")) if isinstance(lang, dict) else
            plain_text(lang) for lang in _items(item.get("languages"))) if language],
        "service_area": _service_area(item, warnings),
    })
    if item.get("assured_date"):
        data["_assured_date"] = str(item["assured_date"])[:10]
    _map_costs(item, data, warnings)
    _map_contacts(item, data, warnings)
    data["schedules"] = schedules_in(item, warnings)
    data["locations"], features = _locations(item, warnings)
    data["accessibility"] = _accessibility(features, terms_by_name, warnings)
    fundings = {plain_text(f.get("source"), 60).lower() for f in _items(item.get("fundings") or item.get("funding"))
                if isinstance(f, dict)}
    for flag, source in FUNDINGS.items():
        data[flag] = source.lower() in fundings
    if data["locations"] and not data["delivery_methods"]:
        data["delivery_methods"] = ["venue"]  # a feed that gives a venue but no attending type
    areas = set(current_app.config["POSTCODE_AREAS"])
    if data["locations"] and not any(geo.postcode_area(venue["postcode"]) in areas for venue in data["locations"]):
        data["in_area"] = False
        warnings.append("its venues are outside the council's area: marked as out of area")
    _map_taxonomy(item, data, terms_by_id, terms_by_name, warnings)
    return data, organisation, warnings


def _service_area(item: dict, warnings: list[str]) -> str:
    """Return the first service area's name; one that is a paragraph rather than a name is left out with a warning.

    Our service area is a short label ("Stafford district"); v3 feeds often describe their
    coverage in sentences, which are no reason to refuse the whole service.
    """
    area = next((plain_text(area.get("service_area") or area.get("name"))
                 for area in _items(item.get("service_areas")) if isinstance(area, dict)), "")
    if len(area) > limits.SERVICE_AREA:
        warnings.append(f"{limits.too_long('service area', len(area), limits.SERVICE_AREA)}: left out")
        return ""
    return area


def _items(value) -> list:
    """Return a field that should be a list as one (anything else, a string or a number, is no list: empty)."""
    return value if isinstance(value, list) else []


def _map_costs(item: dict, data: dict, warnings: list[str]) -> None:
    """Read cost options, or the one-line ``fees`` older feeds give instead, and whether it is free."""
    data["costs"] = [{"id": stable_id(cost.get("id") or f"{item['id']}:{index}", "cost"),
                      "option": plain_text(cost.get("option")), "amount": _amount(cost.get("amount"), warnings),
                      "description": plain_text(cost.get("amount_description"))}
                     for index, cost in enumerate(_items(item.get("cost_options"))) if isinstance(cost, dict)]
    fees = plain_text(item.get("fees"))
    data["is_free"] = fees.strip().lower() in ("free", "0", "£0", "none", "no charge")
    saying_free = [cost for cost in data["costs"] if cost["amount"] in ("", "0.00")
                   and f"{cost['option']} {cost['description']}".strip().lower() in ("free", "free free", "")]
    if data["costs"] and len(saying_free) == len(data["costs"]):
        data["is_free"], data["costs"] = True, []  # "Free" as a cost option (as we send it) is no cost to keep
    if fees and not data["costs"] and not data["is_free"]:
        data["costs"] = [{"id": stable_id(f"{item['id']}:fees", "cost"), "option": "", "amount": "",
                          "description": fees}]


def _map_contacts(item: dict, data: dict, warnings: list[str]) -> None:
    """Read the contacts; a bare phone number with no person is the service's own phone."""
    data["contacts"] = []
    for contact in _items(item.get("contacts")):
        if not isinstance(contact, dict):
            continue
        phones = [p.get("number") for p in _items(contact.get("phones")) if isinstance(p, dict) and p.get("number")]
        if phones and not data["phone"] and not plain_text(contact.get("name")) \
                and not plain_text(contact.get("title")) and not contact.get("email"):
            data["phone"] = plain_text(phones[0])
            continue
        data["contacts"].append({"id": stable_id(contact.get("id") or f"{item['id']}:{len(data['contacts'])}",
                                                 "contact"),
                                 "name": plain_text(contact.get("name")),
                                 "title": plain_text(contact.get("title")),
                                 "phone": plain_text(phones[0]) if phones else "",
                                 "email": email_address(contact.get("email"), warnings, "contact email") or "",
                                 "public": True})


def _accessibility(features: list[tuple[str, str]], terms_by_name: dict[str, Term], warnings: list[str]) -> list[dict]:
    """Match the venues' accessibility features to ours by name."""
    ours = {term.name.lower(): term for term in terms_by_name.values() if term.vocabulary is Vocabulary.ACCESSIBILITY}
    chosen: list[dict] = []
    for name, details in features:
        term = ours.get(name.lower())
        if term is None:
            warnings.append(f"accessibility {name[:60]!r} is not one of our features: left out")
        elif term.code not in [a["code"] for a in chosen]:
            chosen.append({"code": term.code, "details": plain_text(details)})
    return chosen


def _map_taxonomy(item: dict, data: dict, terms_by_id: dict[str, Term], terms_by_name: dict[str, Term],
                  warnings: list[str]) -> None:
    """Sort the service's taxonomy terms (v1) and attributes (v3) into categories, needs and features."""
    categories, needs = [], []
    links = [link.get("taxonomy") for link in _items(item.get("service_taxonomys")) if isinstance(link, dict)]
    links += [link.get("taxonomy_term") for link in _items(item.get("attributes")) if isinstance(link, dict)]
    for link in links:
        if not isinstance(link, dict):
            continue
        term = terms_by_id.get(str(link.get("id"))) or terms_by_name.get(plain_text(link.get("name"), 255).lower())
        if term is None:
            warnings.append(f"taxonomy term {plain_text(link.get('name'), 60) or link.get('id')!r} is not one of ours")
        elif term.vocabulary is Vocabulary.CATEGORY:
            categories.append(term.code)
        elif term.vocabulary is Vocabulary.NEED:
            needs.append(term.code)
        elif term.code not in [a["code"] for a in data["accessibility"]]:
            data["accessibility"].append({"code": term.code, "details": ""})
    data["categories"], data["needs"] = list(dict.fromkeys(categories)), list(dict.fromkeys(needs))


def _listish(value) -> list[str]:
    """Return a list of values given as a list or as one comma-separated string."""
    if isinstance(value, list):
        return [str(v) for v in value if v]
    return [part.strip() for part in str(value or "").split(",") if part.strip()]


def _amount(value, warnings: list[str]) -> str:
    """Return an amount of money as "0.00", or "" (with a warning) when it is not a sane one."""
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


def _summary(html: str) -> str:
    """Return the first sentence of a description as the summary (feeds have no summary field)."""
    text = " ".join(clean_text(re.sub(r"<[^>]+>", " ", html or "")).split())
    if not text:
        return ""
    sentence = re.split(r"(?<=[.!?])\s", text)[0]
    return (sentence if len(sentence) <= 300 else sentence[:297].rsplit(" ", 1)[0] + "…")


def _locations(item: dict, warnings: list[str]) -> tuple[list[dict], list[tuple[str, str]]]:
    """Return the venues the gazetteer can place, and the accessibility features they list."""
    venues, features = [], []
    for link in _items(item.get("service_at_locations")):
        place = link.get("location") if isinstance(link, dict) else None
        if not isinstance(place, dict):
            continue
        addresses = _items(place.get("physical_addresses") or place.get("addresses"))
        address = addresses[0] if addresses and isinstance(addresses[0], dict) else {}
        postcode = str(address.get("postal_code") or "").strip().upper()
        parsed = geo.parse_postcode(postcode)
        masked = bool(parsed and parsed[0] == "sector")  # a home-based provider published by its sector only
        label = venue_postcode(postcode, masked, place.get("name"), warnings)
        if label is None:
            continue
        venues.append({"id": stable_id(place.get("id") or f"{item['id']}:{postcode}:{len(venues)}", "location"),
                       "link_id": stable_id(link.get("id"), "link") if link.get("id") else None,
                       "name": plain_text(place.get("name")),
                       "address_1": plain_text(address.get("address_1")),
                       "address_2": "", "town": plain_text(address.get("city")),
                       "county": plain_text(address.get("state_province") or address.get("region")),
                       "postcode": label, "mask_address": masked,
                       "latitude": place.get("latitude"), "longitude": place.get("longitude")})
        for feature in _items(place.get("accessibility_for_disabilities") or place.get("accessibility")):
            if isinstance(feature, dict) and plain_text(feature.get("accessibility")):
                features.append((plain_text(feature.get("accessibility"), 255), feature.get("details") or ""))
    return venues, features


# --- out: our records -> ORUK ------------------------------------------------------------------------------


def _email(value: str | None) -> dict:
    """Return {"email": value} when it is an email address, else nothing."""
    return {"email": value} if is_email(value) else {}


def _url(key: str, value: str | None) -> dict:
    """Return {key: value} when it is a web address, else nothing."""
    return {key: value} if is_web_address(value) else {}


def organization(organisation: Organisation) -> dict:
    """Return an organisation as an ORUK organization."""
    return {"id": organisation.id, "name": organisation.name, "description": organisation.description or "",
            **_email(organisation.email), **_url("url", organisation.website)}


def taxonomy(term: Term) -> dict:
    """Return one of our terms (categories, needs and accessibility features) as an ORUK taxonomy term."""
    return {"id": term.id, "name": term.name, "vocabulary": term.vocabulary.value,
            # the broader term itself (clients read parent.id, and parent.parent), or null at the top
            "parent": taxonomy(term.parent) if term.parent_id and term.parent is not None else None}


def location(place: Location) -> dict:
    """Return a venue as an ORUK location: a masked one shows only its town and sector, at the sector's centre."""
    point = geo.public_point(place)
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
    """Return the costs as the one line of text ORUK's ``fees`` holds."""
    if listing.is_free:
        return "Free"
    parts = []
    for cost in sorted(listing.cost_options, key=lambda cost: cost.id):
        amount = f"£{cost.amount:.2f}" if cost.amount is not None else ""
        parts.append(" ".join(part for part in (amount, cost.option, cost.amount_description) if part))
    return "; ".join(part for part in parts if part)


def _cost_options(listing: Listing) -> list[dict]:
    """Return the costs; a free service with none says so in one (clients show "no cost" as unknown)."""
    options = [{"id": cost.id, "option": cost.option or "",
                **({"amount": float(cost.amount)} if cost.amount is not None else {}),
                "amount_description": cost.amount_description or ""}
               for cost in sorted(listing.cost_options, key=lambda cost: cost.id)]
    if listing.is_free and not options:
        options = [{"id": f"{listing.id}:free", "option": "Free", "amount": 0.0, "amount_description": "Free"}]
    return options


def service(listing: Listing) -> dict:
    """Return a listing as an ORUK service with everything it embeds (no extra calls per result).

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
        # Each venue carries its sessions too: clients read them there (LGA-Service-Finder does).
        "service_at_locations": [{"id": link.id, "location": {**location(link.location),
                                                              "accessibility_for_disabilities": accessibility},
                                  "regular_schedule": schedules_out(listing, link.location_id)}
                                 for link in sorted(listing.service_at_locations, key=lambda link: link.id)],
        "regular_schedules": schedules_out(listing),
        "holiday_schedules": [],
        "eligibilitys": [{"id": f"{listing.id}:eligibility", "eligibility": listing.eligibility or "",
                          **({"minimum_age": listing.min_age} if listing.min_age is not None else {}),
                          **({"maximum_age": listing.max_age} if listing.max_age is not None else {})}],
        "cost_options": _cost_options(listing),
        "contacts": [{"id": contact.id, "name": contact.name or "", "title": contact.title or "",
                      **_email(contact.email),
                      "phones": [{"id": f"{contact.id}:phone", "number": contact.phone}] if contact.phone else []}
                     for contact in sorted(listing.public_contacts, key=lambda contact: contact.id)],
        "languages": [{"id": f"{listing.id}:{index}", "language": language}
                      for index, language in enumerate(listing.languages or [])],
        "service_areas": [{"id": f"{listing.id}:area", "service_area": listing.service_area}]
        if listing.service_area else [],
        "fundings": [{"id": f"{listing.id}:{flag.removeprefix('accepts_').removesuffix('_funding')}",
                      "source": source} for flag, source in FUNDINGS.items() if getattr(listing, flag)],
        "reviews": [],
        "service_taxonomys": [{"id": f"{listing.id}:{link.term_id}", "taxonomy": taxonomy(link.term)}
                              for link in sorted(listing.listing_terms, key=lambda link: (
                                  link.term.vocabulary.value, link.term.position, link.term.name, link.term_id))],
    }
    if listing.phone:
        body["contacts"].insert(0, {"id": f"{listing.id}:phone", "name": "", "title": "",
                                    "phones": [{"id": f"{listing.id}:phone:1", "number": listing.phone}]})
    return body
