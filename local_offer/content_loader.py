"""Seed the database from ``content/``: vocabularies, then (optionally) the demo directory.

Loading is idempotent: every record has a stable id (vocabulary terms derive
theirs from their code), rows that exist are never overwritten, so running it
again duplicates nothing and never undoes a coordinator's edit.  Descriptions
pass through the one sanitiser, like everything else that enters the system.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import yaml
from sqlalchemy import select

from local_offer import geo
from local_offer.extensions import db
from local_offer.models import (
    Contact,
    CostOption,
    Listing,
    ListingKind,
    ListingLevel,
    ListingStatus,
    ListingTerm,
    Location,
    Organisation,
    Schedule,
    SchedulePeriod,
    ServiceAtLocation,
    SynonymGroup,
    Term,
    Vocabulary,
    Weekday,
    record_audit,
    record_change,
)
from local_offer.sanitise import clean_markdown, clean_text

#: Namespace for ids derived from vocabulary codes, so every install agrees on them.
TERM_NAMESPACE = uuid.UUID("3c5c8f1e-8a55-4d5e-9f0a-5b6f0c2d7e11")
VOCABULARY_FILES = {
    Vocabulary.CATEGORY: "categories.yaml",
    Vocabulary.NEED: "needs.yaml",
    Vocabulary.ACCESSIBILITY: "accessibility.yaml",
}
_TERM_KEYS = {"code", "name", "description", "children"}
#: How long after a person checks a listing its next review falls due.
REVIEW_PERIOD = timedelta(days=365)


class ContentError(ValueError):
    """A content file is malformed; the message names the file and the record."""


@dataclass
class LoadReport:
    """What a load added and what it left alone."""

    added: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, added: bool) -> None:
        """Count one record as added or as already there."""
        bucket = self.added if added else self.skipped
        bucket[kind] = bucket.get(kind, 0) + 1


def term_id(vocabulary: Vocabulary, code: str) -> str:
    """Return the stable id of a vocabulary term."""
    return str(uuid.uuid5(TERM_NAMESPACE, f"{vocabulary.value}:{code}"))


def _read_yaml(path: Path):
    """Parse a YAML file, naming it in any error."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ContentError(f"{path}: not valid YAML ({error})") from error


def load_vocabularies(folder: Path, report: LoadReport) -> None:
    """Add any vocabulary terms that are not in the database yet."""
    for vocabulary, filename in VOCABULARY_FILES.items():
        path = folder / filename
        if path.is_file():
            _load_terms(vocabulary, _read_yaml(path) or [], None, report, str(path))


def _load_terms(vocabulary: Vocabulary, entries: list, parent: Term | None,
                report: LoadReport, source: str) -> None:
    """Add one level of a vocabulary tree, then the levels below it."""
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict) or not entry.get("code") or not entry.get("name"):
            raise ContentError(f"{source}: every term needs a code and a name ({entry!r})")
        unknown = [key for key in entry if key not in _TERM_KEYS and not
                   (len(key) == 2 and isinstance(entry[key], dict))]
        if unknown:
            # Usually an unquoted comma in a one-line entry: "name: Arts, drama" splits the name.
            raise ContentError(f"{source}: term {entry['code']!r} has unknown keys {unknown}; "
                               "quote values that contain commas")
        identifier = term_id(vocabulary, entry["code"])
        term = db.session.get(Term, identifier)
        translations = {
            key: value for key, value in entry.items() if isinstance(value, dict) and len(key) == 2
        }
        if term is None:
            term = Term(
                id=identifier,
                vocabulary=vocabulary,
                code=entry["code"],
                name=entry["name"],
                description=entry.get("description", ""),
                translations=translations,
                parent=parent,
                position=position,
            )
            db.session.add(term)
            report.count(f"{vocabulary.value} terms", True)
        else:
            # Fill in languages added to the seed since; never change what is there.
            merged = dict(translations)
            merged.update(term.translations or {})
            if merged != (term.translations or {}):
                term.translations = merged
            report.count(f"{vocabulary.value} terms", False)
        _load_terms(vocabulary, entry.get("children") or [], term, report, source)


def load_synonyms(path: Path, report: LoadReport) -> None:
    """Add the synonym groups from the seed file when there are none yet (coordinators own them after)."""
    if not path.is_file():
        return
    groups = _read_yaml(path) or []
    if db.session.execute(select(SynonymGroup.id).limit(1)).first() is not None:
        report.count("synonym groups", False)
        return
    for group in groups:
        if not isinstance(group, list) or len(group) < 2 or not all(isinstance(t, str) for t in group):
            raise ContentError(f"{path}: each synonym group is a list of two or more words ({group!r})")
        db.session.add(SynonymGroup(terms=[clean_text(term) for term in group]))
        report.count("synonym groups", True)


def load_demo(path: Path, report: LoadReport, today: date | None = None,
              progress: Callable[[Iterable], Iterable] | None = None) -> None:
    """Add the demo organisations and listings that are not in the database yet."""
    data = _read_yaml(path) or {}
    today = today or date.today()
    for entry in data.get("organisations", []):
        if db.session.get(Organisation, entry["id"]) is not None:
            report.count("organisations", False)
            continue
        db.session.add(
            Organisation(
                id=entry["id"],
                name=clean_text(entry["name"]),
                description=clean_text(entry.get("description", "")),
                website=entry.get("website"),
                email=entry.get("email"),
                phone=entry.get("phone"),
                is_demo=True,
            )
        )
        report.count("organisations", True)
    db.session.flush()
    entries = data.get("listings", [])
    for entry in progress(entries) if progress else entries:
        try:
            added = _load_listing(entry, today)
        except (KeyError, ValueError, TypeError) as error:
            raise ContentError(f"{path}: listing {entry.get('id', '?')}: {error}") from error
        report.count("listings", added)


def _terms(vocabulary: Vocabulary, items: list) -> list[ListingTerm]:
    """Link a listing to terms given as codes or as {code, details}."""
    links = []
    for item in items or []:
        code, details = (item, "") if isinstance(item, str) else (item["code"], item.get("details", ""))
        term = db.session.get(Term, term_id(vocabulary, code))
        if term is None:
            raise ValueError(f"unknown {vocabulary.value} {code!r}")
        links.append(ListingTerm(term=term, details=clean_text(details)))
    return links


def _time(value: str | None):
    """Parse "HH:MM" into a time, or None."""
    return datetime.strptime(value, "%H:%M").time() if value else None


def _load_listing(entry: dict, today: date) -> bool:
    """Add one demo listing with its venues, sessions, costs, contacts and terms."""
    if db.session.get(Listing, entry["id"]) is not None:
        return False
    funding = entry.get("funding") or {}
    ages = entry.get("ages") or [None, None]
    checked = entry.get("checked_days_ago")
    assured = today - timedelta(days=int(checked)) if checked is not None else None
    listing = Listing(
        id=entry["id"],
        organisation_id=entry["organisation"],
        name=clean_text(entry["name"]),
        summary=clean_text(entry.get("summary", "")),
        description=clean_markdown(entry.get("description", "")),
        description_source=entry.get("description", ""),
        status=ListingStatus(entry.get("status", "published")),
        kind=ListingKind(entry["kind"]),
        level=ListingLevel(entry["level"]),
        in_area=bool(entry.get("in_area", True)),
        service_area=entry.get("service_area"),
        delivery_methods=list(entry.get("delivery") or []),
        access_routes=list(entry.get("access") or []),
        how_to_access=clean_text(entry.get("how_to_access", "")),
        eligibility=clean_text(entry.get("eligibility", "")),
        min_age=ages[0],
        max_age=ages[1],
        is_free=bool(entry.get("free", False)),
        accepts_ehcp_funding=bool(funding.get("ehcp")),
        accepts_personal_budget=bool(funding.get("personal_budget")),
        accepts_direct_payments=bool(funding.get("direct_payments")),
        free_carer_entry=bool(entry.get("free_carer_entry", False)),
        languages=list(entry.get("languages") or []),
        website=entry.get("website"),
        email=entry.get("email"),
        phone=entry.get("phone"),
        sen_information_report_url=entry.get("sen_information_report_url"),
        ofsted_urn=entry.get("ofsted_urn"),
        assured_date=assured,
        review_due=assured + REVIEW_PERIOD if assured else None,
    )
    listing.listing_terms = (
        _terms(Vocabulary.CATEGORY, entry.get("categories"))
        + _terms(Vocabulary.NEED, entry.get("needs"))
        + _terms(Vocabulary.ACCESSIBILITY, entry.get("accessibility"))
    )
    for place in entry.get("locations") or []:
        location = db.session.get(Location, place["id"])
        if location is None:
            latitude, longitude = place.get("latitude"), place.get("longitude")
            if (latitude is None or longitude is None) and place.get("postcode"):
                try:
                    point = geo.lookup_postcode(place["postcode"])
                except geo.UnknownPlace as error:
                    raise ValueError(f"location {place['id']}: {error}") from error
                latitude, longitude = point.latitude, point.longitude
            location = Location(
                id=place["id"],
                name=place.get("name", ""),
                address_1=place.get("address_1", ""),
                address_2=place.get("address_2", ""),
                town=place.get("town", ""),
                county=place.get("county", ""),
                postcode=place.get("postcode", ""),
                latitude=latitude,
                longitude=longitude,
                mask_address=bool(place.get("mask_address", False)),
            )
        listing.service_at_locations.append(ServiceAtLocation(location=location))
    for position, session in enumerate(entry.get("schedules") or []):
        listing.schedules.append(
            Schedule(
                weekday=Weekday(session["day"]) if session.get("day") else None,
                opens_at=_time(session.get("opens")),
                closes_at=_time(session.get("closes")),
                period=SchedulePeriod(session.get("period", "all_year")),
                notes=clean_text(session.get("notes", "")),
                position=position,
            )
        )
    for cost in entry.get("costs") or []:
        amount = cost.get("amount")
        listing.cost_options.append(
            CostOption(
                option=clean_text(cost.get("option", "")),
                amount=Decimal(str(amount)) if amount is not None else None,
                amount_description=clean_text(cost.get("description", "")),
            )
        )
    for person in entry.get("contacts") or []:
        listing.contacts.append(
            Contact(
                name=clean_text(person.get("name", "")),
                title=clean_text(person.get("title", "")),
                phone=person.get("phone"),
                email=person.get("email"),
                is_public=bool(person.get("public", True)),
            )
        )
    db.session.add(listing)
    record_audit("listing.seeded", "listing", listing.id, changes={"source": "demo content"})
    record_change(listing.id)
    return True


#: Demo accounts, one of each role (documented in the README; demo data only).
DEMO_PASSWORD = "local-offer-demo"
DEMO_ACCOUNTS = [
    ("admin@demo.example.gov.uk", "Demo administrator", "admin", None),
    ("coordinator@demo.example.gov.uk", "Demo coordinator", "coordinator", None),
    ("provider@demo.example.org", "Demo provider (Moorlands Otters)", "provider", "6f1c2a40-1d0b-4c51-9a57-0d2f0c1a0001"),
]


def load_demo_accounts(report: LoadReport) -> None:
    """Add one demo account of each role, when the demo directory is loaded."""
    from werkzeug.security import generate_password_hash

    from local_offer.models import Role, User

    for email, name, role, organisation_id in DEMO_ACCOUNTS:
        if db.session.execute(select(User).where(User.email == email)).scalar_one_or_none() is not None:
            report.count("demo accounts", False)
            continue
        organisation = db.session.get(Organisation, organisation_id) if organisation_id else None
        user = User(email=email, name=name, role=Role(role), organisations=[organisation] if organisation else [],
                    password_hash=generate_password_hash(DEMO_PASSWORD))
        db.session.add(user)
        db.session.flush()
        record_audit("user.created", "user", user.id, changes={"email": email, "role": role, "via": "demo content"})
        report.count("demo accounts", True)
