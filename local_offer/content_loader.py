"""Seed the database from ``content/``: vocabularies, then (optionally) the demo directory.

Loading is idempotent: every record has a stable id (vocabulary terms derive
theirs from their code), rows that exist are never overwritten, so running it
again duplicates nothing and never undoes a coordinator's edit.  Demo listings
are mapped onto listing data and handed to the import pipeline
(``interchange.importer``), published at once: they are cleaned, audited and
given their next review date (``REVIEW_PERIOD_DAYS``) exactly as imported ones are.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import yaml
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from local_offer import geo
from local_offer.extensions import db
from local_offer.interchange import fields
from local_offer.interchange.importer import Mapper, organisation_for, run_import
from local_offer.listings import data as listing_data, limits, recurrence
from local_offer.models import (
    Listing,
    Organisation,
    RelatedTerms,
    Role,
    SynonymGroup,
    Term,
    User,
    Vocabulary,
    record_audit,
)
from local_offer.related_terms import distinct_words, problems as related_problems
from local_offer.sanitise import clean_text

#: Namespace for ids derived from vocabulary codes, so every install agrees on them.
TERM_NAMESPACE = uuid.UUID("3c5c8f1e-8a55-4d5e-9f0a-5b6f0c2d7e11")
VOCABULARY_FILES = {
    Vocabulary.CATEGORY: "categories.yaml",
    Vocabulary.NEED: "needs.yaml",
    Vocabulary.ACCESSIBILITY: "accessibility.yaml",
}
_TERM_KEYS = {"code", "name", "description", "children"}
#: libyaml's safe loader when PyYAML was built with it: it reads the demo files seven times faster.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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


def read_yaml(path: Path):
    """Parse a YAML file, naming it in any error."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as error:
        raise ContentError(f"{path}: not valid YAML ({error})") from error


def load_vocabularies(folder: Path, report: LoadReport) -> None:
    """Add any vocabulary terms that are not in the database yet."""
    for vocabulary, filename in VOCABULARY_FILES.items():
        path = folder / filename
        if path.is_file():
            _load_terms(vocabulary, read_yaml(path) or [], None, report, str(path))


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
    groups = read_yaml(path) or []
    if db.session.execute(select(SynonymGroup.id).limit(1)).first() is not None:
        report.count("synonym groups", False)
        return
    for group in groups:
        if not isinstance(group, list) or len(group) < 2 or not all(isinstance(t, str) for t in group):
            raise ContentError(f"{path}: each synonym group is a list of two or more words ({group!r})")
        db.session.add(SynonymGroup(terms=[clean_text(term) for term in group]))
        report.count("synonym groups", True)


def load_related_terms(path: Path, report: LoadReport) -> None:
    """Add the related terms from the seed file when there are none yet (coordinators own them after).

    Each entry is ``families_say`` (the ways families say it) and ``look_for`` (the service
    words that help), cleaned and checked against the limits the coordinators' page keeps.
    """
    if not path.is_file():
        return
    entries = read_yaml(path) or []
    if not isinstance(entries, list):
        raise ContentError(f"{path}: expected a list of entries, each with families_say and look_for")
    if db.session.execute(select(RelatedTerms.id).limit(1)).first() is not None:
        report.count("related terms", False)
        return
    said: set[str] = set()
    for entry in entries:
        phrases, terms = _related_words(entry, "families_say"), _related_words(entry, "look_for")
        if phrases is None or terms is None or set(entry) != {"families_say", "look_for"}:
            raise ContentError(f"{path}: each entry has families_say and look_for, both lists of words; "
                               f"quote words that contain commas ({entry!r})")
        wrong = related_problems(phrases, terms)
        if wrong:
            raise ContentError(f"{path}: {'; '.join(wrong.values())} ({entry!r})")
        repeated = [phrase for phrase in phrases if phrase.casefold() in said]
        if repeated:
            raise ContentError(f"{path}: {repeated[0]!r} is in two entries; keep each phrase in one")
        said.update(phrase.casefold() for phrase in phrases)
        db.session.add(RelatedTerms(phrases=phrases, terms=terms))
        report.count("related terms", True)


def _related_words(entry, key: str) -> list[str] | None:
    """Return an entry's words under ``key``, cleaned and without repeats; None when they are not a list of words."""
    words = entry.get(key) if isinstance(entry, dict) else None
    if not isinstance(words, list) or not all(isinstance(word, str) for word in words):
        return None
    return distinct_words(words)


def build_demo_areas(paths: Iterable[Path]) -> None:
    """Build the gazetteer areas the demo venues are in, before anything else is loaded.

    Building an area commits, so it is done first: a mistake found later in a demo file
    then leaves nothing of the load behind but the gazetteer (data from packaged files).
    """
    geo.ensure_areas(str(place.get("postcode") or "") for path in paths
                     for entry in (read_yaml(path) or {}).get("listings", []) if isinstance(entry, dict)
                     for place in entry.get("locations") or [] if isinstance(place, dict))


def load_demo(path: Path, report: LoadReport, today: date | None = None,
              progress: Callable[[Iterable], Iterable] | None = None) -> None:
    """Add the demo organisations and listings that are not in the database yet.

    Listings go through the import pipeline and are published at once, so they are cleaned,
    audited (``listing.seeded``) and given a review date exactly as imported ones are.
    """
    data = read_yaml(path) or {}
    today = today or date.today()
    for entry in data.get("organisations", []):
        try:
            details = _demo_organisation(entry)
        except (KeyError, ValueError) as error:
            raise ContentError(f"{path}: organisation {entry.get('id', '?')}: {error}") from error
        _organisation, added = organisation_for(details, refresh=False)
        report.count("organisations", added)
    db.session.flush()
    # Every new listing is read and checked before any is written, so a mistake in the file
    # leaves the database as it was (each listing is published, and committed, on its own).
    prepared = _checked_demo_listings(path, data.get("listings", []), today)
    mapper = Mapper(to_listing=lambda entry: prepared[entry["id"]], identify=_identify_demo, partial=False,
                    only_new=True, audit_action="listing.seeded", audit_note=_demo_note, audit_fields=False)
    # The caller syncs search once, after everything it loads.
    outcome = run_import(data.get("listings", []), mapper, apply=True, publish=True, progress=progress, sync=False)
    for result in outcome.outcomes:
        if result.action == "rejected":
            raise ContentError(f"{path}: listing {result.source_id or '?'}: {result.reason}")
        report.count("listings", result.action == "created")


def _checked_demo_listings(path: Path, entries: list, today: date) -> dict[str, tuple[dict, dict, list[str]]]:
    """Map every demo listing not in the database yet, refusing the file at its first mistake.

    Demo content is ours: anything an import would only warn about is a mistake to fix in the file.
    """
    known = {vocabulary: set(db.session.execute(select(Term.code).where(Term.vocabulary == vocabulary)).scalars())
             for vocabulary in Vocabulary}
    prepared = {}
    for entry in entries:
        if not isinstance(entry, dict) or not entry.get("id"):
            raise ContentError(f"{path}: every listing needs an id ({str(entry)[:80]!r})")
        if db.session.get(Listing, fields.stable_id(entry["id"], "service")) is not None:
            continue
        try:
            mapped = _demo_listing(entry, today)
            data, _organisation, warnings = mapped
            for vocabulary, key in ((Vocabulary.CATEGORY, "categories"), (Vocabulary.NEED, "needs"),
                                    (Vocabulary.ACCESSIBILITY, "accessibility")):
                for item in data[key]:
                    code = item if isinstance(item, str) else item["code"]
                    if code not in known[vocabulary]:
                        raise ValueError(f"unknown {vocabulary.value} {code!r}")
            warnings += limits.problems(data)  # the portal's limits, checked before anything is written
            if warnings:
                raise ValueError("; ".join(warnings))
        except (KeyError, ValueError, TypeError) as error:
            raise ContentError(f"{path}: listing {entry.get('id', '?')}: {error}") from error
        prepared[entry["id"]] = mapped
    return prepared


def _demo_note(source_id: str) -> dict:
    """Say in the audit log where a demo listing came from."""
    return {"source": "demo content"}


def _identify_demo(entry) -> tuple[str, str]:
    """Return a demo listing's id and name."""
    entry = entry if isinstance(entry, dict) else {}
    return str(entry.get("id") or ""), str(entry.get("name") or "")[:120]


def _demo_organisation(entry: dict) -> dict:
    """Map a demo organisation onto the details the importer writes, marked as demo data."""
    warnings: list[str] = []
    details = fields.organisation_details(entry["id"], entry["name"], entry.get("description"), entry.get("website"),
                                   entry.get("email"), warnings)
    if warnings:
        raise ValueError("; ".join(warnings))
    return {**details, "phone": fields.plain_text(entry.get("phone")), "is_demo": True}


def _demo_listing(entry: dict, today: date) -> tuple[dict, dict, list[str]]:
    """Map one demo listing onto (listing data, its organisation, warnings) for the import pipeline.

    Text is left for the publish path to clean (it cleans every text field once); what it
    does not check, ages, addresses and venue postcodes, is checked here as imports check it.
    Its last check is ``checked_days_ago`` days before ``today``, so the demo never goes stale.
    """
    warnings: list[str] = []
    funding = entry.get("funding") or {}
    ages = entry.get("ages") or [None, None]
    data = listing_data.new_listing_data(entry["name"], entry["kind"])
    data.update({key: entry.get(key, "") for key in (
        "summary", "service_area", "how_to_access", "eligibility", "phone", "ofsted_urn")})
    data.update({
        "status": entry.get("status", "published"), "level": entry["level"],
        "description": limits.description_source(entry.get("description")),
        "in_area": bool(entry.get("in_area", True)),
        "delivery_methods": list(entry.get("delivery") or []), "access_routes": list(entry.get("access") or []),
        "min_age": fields.age(ages[0], warnings, "youngest"), "max_age": fields.age(ages[1], warnings, "oldest"),
        "is_free": bool(entry.get("free", False)), "accepts_ehcp_funding": bool(funding.get("ehcp")),
        "accepts_personal_budget": bool(funding.get("personal_budget")),
        "accepts_direct_payments": bool(funding.get("direct_payments")),
        "free_carer_entry": bool(entry.get("free_carer_entry", False)),
        "languages": list(entry.get("languages") or []),
        "website": fields.web_address(entry.get("website"), warnings, "web address") or "",
        "email": fields.email_address(entry.get("email"), warnings, "email") or "",
        "sen_information_report_url": fields.web_address(entry.get("sen_information_report_url"), warnings,
                                                  "SEN report address") or "",
        "categories": list(entry.get("categories") or []), "needs": list(entry.get("needs") or []),
        "accessibility": [{"code": item, "details": ""} if isinstance(item, str) else
                          {"code": item["code"], "details": item.get("details", "")}
                          for item in entry.get("accessibility") or []],
        "locations": [_demo_venue(place, warnings) for place in entry.get("locations") or []],
        "schedules": [recurrence.upgrade_data(session) for session in entry.get("schedules") or []],
        "costs": [{"option": cost.get("option", ""), "description": cost.get("description", ""),
                   "amount": "" if cost.get("amount") is None else str(cost["amount"])}
                  for cost in entry.get("costs") or []],
        "contacts": [{"name": person.get("name", ""), "title": person.get("title", ""),
                      "phone": person.get("phone", ""),
                      "email": fields.email_address(person.get("email"), warnings, "contact email") or "",
                      "public": bool(person.get("public", True))} for person in entry.get("contacts") or []],
    })
    checked = entry.get("checked_days_ago")
    if checked is not None:
        data["_assured_date"] = (today - timedelta(days=int(checked))).isoformat()
    return data, {"id": entry["organisation"]}, warnings


def _demo_venue(place: dict, warnings: list[str]) -> dict:
    """Map a demo venue onto listing data; the same id in several listings is one shared venue."""
    masked = bool(place.get("mask_address", False))
    postcode = fields.venue_postcode(str(place.get("postcode") or ""), masked, place.get("name"), warnings)
    return {**{key: place.get(key, "") for key in ("name", "address_1", "address_2", "town", "county")},
            "id": place["id"], "postcode": postcode or "", "mask_address": masked,
            "latitude": place.get("latitude"), "longitude": place.get("longitude")}


#: Demo accounts, one of each role (documented in the README; demo data only).
DEMO_PASSWORD = "local-offer-demo"
DEMO_ACCOUNTS = [
    ("admin@demo.example.gov.uk", "Demo administrator", "admin", None),
    ("coordinator@demo.example.gov.uk", "Demo coordinator", "coordinator", None),
    ("provider@demo.example.org", "Demo provider (Moorlands Otters)", "provider", "6f1c2a40-1d0b-4c51-9a57-0d2f0c1a0001"),
]


def load_demo_accounts(report: LoadReport) -> None:
    """Add one demo account of each role, when the demo directory is loaded."""
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
