"""A listing as plain data: the shape revisions store, forms edit, imports write and differences compare.

Nothing here touches the database: ``listing_data`` reads a loaded listing,
and everything else works on plain JSON-able dicts.  ``changed_fields`` and
``diff`` say what differs between two versions as a person sees it (ids and
coordinates are not differences); ``merge`` is the three-way merge approval
uses, so a field someone else changed meanwhile is never silently overwritten.
The moderation and portal pages render differences with the ``diff_table``
macro (templates/macros/changes.html), marking changed words in long text.
"""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass, field
from datetime import date

from local_offer.i18n import _
from local_offer.listings import plain_text, when
from local_offer.listings.recurrence import Rule
from local_offer.listings.labels import FIELD_LABELS, STATUS_LABELS
from local_offer.models import Listing, Vocabulary
from local_offer.sanitise import clean_text

#: The portal's sections, in the order of its task list, with the fields of the listing data each edits.
SECTION_FIELDS = {
    "about": ("name", "kind", "summary", "description", "categories", "ofsted_urn", "sen_information_report_url"),
    "who": ("min_age", "max_age", "level", "eligibility", "needs", "languages"),
    "when_where": ("delivery_methods", "service_area", "in_area", "locations", "schedules"),
    "cost": ("is_free", "costs", "accepts_ehcp_funding", "accepts_personal_budget", "accepts_direct_payments",
             "free_carer_entry"),
    "access": ("accessibility", "access_routes", "how_to_access"),
    "contacts": ("website", "email", "phone", "contacts"),
}
SECTIONS = tuple(SECTION_FIELDS)
STATUS_FIELD = "status"
CONTENT_FIELDS = [name for fields in SECTION_FIELDS.values() for name in fields]
#: Long text whose changes are shown word by word.
LONG_TEXT = ("description", "summary", "eligibility", "how_to_access")


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
        "schedules": [{"id": schedule.id, **Rule.of(schedule).to_data()} for schedule in listing.schedules],
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
    text = re.sub(r"(?i)<li[^>]*>", "- ", text)
    text = re.sub(r"(?i)</(p|li|ul|ol)>|<br\s*/?>", "\n", text)
    text = re.sub(r"(?i)<a [^>]*href=\"([^\"]+)\"[^>]*>(.*?)</a>", r"[\2](\1)", text)
    text = re.sub(r"(?i)</?strong>", "**", text)
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"\n{3,}", "\n\n", html.unescape(text)).strip()


@dataclass(frozen=True)
class Words:
    """A run of words on one side of a difference; ``changed`` when removed (before) or added (after)."""

    text: str
    changed: bool = False


@dataclass
class Change:
    """One field that differs between two versions, ready to show a person."""

    field: str
    label: str
    section: str
    before: str
    after: str
    #: For long text, the words of each side with what changed marked (else empty: show before/after whole).
    before_words: list[Words] = field(default_factory=list)
    after_words: list[Words] = field(default_factory=list)


def display_value(field: str, value) -> str:
    """Return a field's value as readable text."""
    if value in (None, "", []):
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if field == "status":
        return str(STATUS_LABELS.get(value, value))
    if field == "description" and isinstance(value, str):
        return plain_text.to_plain(value) or "—"  # as the provider wrote it, without Markdown's marks
    if field == "locations":
        return "\n".join(", ".join(part for part in (v.get("name"), v.get("address_1"), v.get("town"),
                                                      v.get("postcode")) if part)
                         + (" " + _("(address hidden)") if v.get("mask_address") else "") for v in value)
    if field == "schedules":
        return "\n".join(when.in_words(value, today=date.min))  # a moderator sees every session, ended or not
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


def word_diff(before: str, after: str) -> tuple[list[Words], list[Words]]:
    """Split two texts into runs of words, marking those removed from the first and added in the second."""
    old, new = before.split(" "), after.split(" ")
    left, right = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        removed, added = " ".join(old[i1:i2]), " ".join(new[j1:j2])
        if tag == "equal":
            left.append(Words(removed))
            right.append(Words(added))
            continue
        if removed:
            left.append(Words(removed, changed=True))
        if added:
            right.append(Words(added, changed=True))
    return left, right


def section_of(field: str) -> str:
    """Return the portal section that edits a field."""
    return next((section for section, fields in SECTION_FIELDS.items() if field in fields), "about")


def label_of(field: str) -> str:
    """Return a field's label."""
    return str(FIELD_LABELS.get(field, field))


def changed_fields(before: dict | None, after: dict) -> list[str]:
    """Return the fields (content and status) whose visible value differs."""
    before = before or {}
    return [name for name in [STATUS_FIELD] + CONTENT_FIELDS
            if _comparable(name, before.get(name)) != _comparable(name, after.get(name))]


def diff(before: dict | None, after: dict) -> list[Change]:
    """Return the differences between two versions of a listing, field by field."""
    changes = []
    for name in changed_fields(before, after):
        old, new = display_value(name, (before or {}).get(name)), display_value(name, after.get(name))
        change = Change(name, label_of(name), section_of(name), old, new)
        if name in LONG_TEXT and before:
            change.before_words, change.after_words = word_diff(old, new)
        changes.append(change)
    return changes


def merge(base: dict | None, live: dict, proposed: dict) -> tuple[dict, list[str]]:
    """Merge a change made against ``base`` into the ``live`` listing; return (merged, conflicts).

    A name the change did not touch keeps the live value (someone else may have
    changed it since); a name both sides changed differently is a conflict.
    """
    if base is None:
        return dict(proposed), []
    merged, conflicts = dict(live), []
    for name in [STATUS_FIELD] + CONTENT_FIELDS:
        mine = _comparable(name, proposed.get(name))
        if mine == _comparable(name, base.get(name)):
            continue
        theirs = _comparable(name, live.get(name))
        if theirs != _comparable(name, base.get(name)) and theirs != mine:
            conflicts.append(name)
        merged[name] = proposed.get(name)
    return merged, conflicts


def audit_value(value):
    """Keep audit entries readable and bounded: long text is cut, lists are kept."""
    if isinstance(value, str) and len(value) > 500:
        return value[:500] + "…"
    return value
