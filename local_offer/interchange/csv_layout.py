"""The CSV layout: one row per service, for councils whose data lives in spreadsheets.

The columns are documented in the README.  Lists of codes are separated by
";"; venues, sessions, costs and contacts are JSON arrays of objects in their
cell.  ``export_csv`` writes every public listing in the layout and ``read_csv``
plus ``map_row`` read it back, so an export imported again changes nothing.
Cells that a spreadsheet would run as a formula are neutralised on the way out
and restored on the way in (``formats.spreadsheet_safe``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable

from local_offer.listings import data as listing_data, limits
from local_offer.formats import spreadsheet_safe, spreadsheet_unsafe
from local_offer.interchange.exports import public_listings_by_id
from local_offer.interchange.fields import (
    age,
    email_address,
    organisation_details,
    plain_text,
    venue_postcode,
    web_address,
)
from local_offer.interchange.oruk import ACCESS, DELIVERY
from local_offer.interchange.sources import UnreadableImport
from local_offer.models import FUNDING_FLAGS, Listing, ListingKind, ListingLevel

CSV_COLUMNS = [
    "id", "organisation_id", "organisation_name", "organisation_description", "organisation_website",
    "organisation_email", "name", "kind", "level", "status", "summary", "description", "website", "email", "phone",
    "min_age", "max_age", "eligibility", "categories", "needs", "accessibility", "languages", "delivery_methods",
    "access_routes", "how_to_access", "service_area", "in_area", "is_free", "costs", "funding", "free_carer_entry",
    "venues", "sessions", "contacts", "ofsted_urn", "sen_information_report_url", "assured_date",
]
CSV_REQUIRED = {"id", "organisation_id", "organisation_name", "name"}
#: The statuses a row may give: what families may see, or archived.
CSV_STATUSES = limits.STATUSES
_VENUE_KEYS = ("id", "name", "address_1", "address_2", "town", "county", "postcode", "mask_address")
_SESSION_KEYS = ("id", "day", "days", "freq", "interval", "ordinals", "monthday", "dates", "valid_from", "valid_to",
                 "opens", "closes", "period", "notes")
#: Session keys whose values are lists or numbers (checked by the limits like any import).
_AS_GIVEN = ("days", "ordinals", "dates", "interval", "monthday")
_COST_KEYS = ("id", "option", "amount", "description")
_CONTACT_KEYS = ("id", "name", "title", "phone", "email", "public")
_FLAGS = ("mask_address", "public")


def _codes(value: str) -> list[str]:
    """Split a cell of codes separated by ";"."""
    return [part.strip() for part in (value or "").split(";") if part.strip()]


def _yes(value: str) -> bool:
    """Read a yes/no cell."""
    return (value or "").strip().lower() in ("yes", "y", "true", "1")


def _json_rows(value: str, column: str, keys: tuple[str, ...]) -> list[dict]:
    """Read a cell holding a JSON array of objects, keeping only ``keys``; raise ValueError when it is not one."""
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
    if key in _FLAGS:
        return value if isinstance(value, bool) else _yes(str(value)) if value is not None else key == "public"
    if key in _AS_GIVEN:
        if isinstance(value, str) and value.strip().lstrip("-").isdecimal():
            return int(value)
        return value if isinstance(value, (list, int)) and not isinstance(value, bool) else None
    if value is None or isinstance(value, (list, dict)):
        return ""
    return str(value)  # kept whole: the limits reject a record whose field is too long


def _json_cell(rows: list) -> str:
    """Write a list as a JSON cell, or an empty cell for none."""
    return json.dumps(rows, ensure_ascii=False) if rows else ""


# --- out ---------------------------------------------------------------------------------------------------


def listing_row(listing: Listing) -> dict:
    """Return a listing as one row of the CSV layout."""
    data = listing_data.listing_data(listing)
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
        "accessibility": _json_cell(data["accessibility"]),
        "languages": ";".join(data["languages"]), "delivery_methods": ";".join(data["delivery_methods"]),
        "access_routes": ";".join(data["access_routes"]), "how_to_access": data["how_to_access"],
        "service_area": data["service_area"], "in_area": "yes" if data["in_area"] else "no",
        "is_free": "yes" if data["is_free"] else "no", "costs": _json_cell(data["costs"]),
        "funding": ";".join(key for key, flag in FUNDING_FLAGS.items() if data[flag]),
        "free_carer_entry": "yes" if data["free_carer_entry"] else "no",
        "venues": _json_cell([{key: venue.get(key) for key in _VENUE_KEYS} for venue in data["locations"]]),
        "sessions": _json_cell(data["schedules"]), "contacts": _json_cell(data["contacts"]),
        "ofsted_urn": data["ofsted_urn"], "sen_information_report_url": data["sen_information_report_url"],
        "assured_date": listing.assured_date.isoformat() if listing.assured_date else "",
    }


def export_csv(progress: Callable[[Iterable], Iterable] | None = None) -> str:
    """Return every public listing in the CSV layout (formula-looking cells neutralised for spreadsheets)."""
    buffer = io.StringIO()
    # Rows end in CRLF (RFC 4180): the writer then quotes any cell holding a carriage return, which
    # with "\n" alone it left bare, splitting the row in two for every reader.
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for listing in public_listings_by_id(progress):
        writer.writerow({key: spreadsheet_safe(value) for key, value in listing_row(listing).items()})
    return buffer.getvalue()


def _allow_cells_up_to(size: int) -> None:
    """Let the csv module read a cell as long as the whole text (its default stops at 131,072 characters).

    A cell can never be longer than its file, which is read into memory already; a cell over a
    field's limit is then rejected by the importer with a reason, rather than the whole file.
    """
    if size > csv.field_size_limit():
        csv.field_size_limit(size)


def count_csv_rows(text: str) -> int:
    """Return how many listings a CSV export holds (cells may contain line breaks)."""
    _allow_cells_up_to(len(text))
    return max(0, sum(1 for _row in csv.reader(io.StringIO(text, newline=""))) - 1)


# --- in ----------------------------------------------------------------------------------------------------


def read_csv(raw: bytes, where: str = "The file") -> list[dict]:
    """Read the CSV layout; raise UnreadableImport for text that is not UTF-8 or columns that are wrong."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableImport(f"{where} is not UTF-8 text (byte {error.start}). Save it as 'CSV UTF-8'.") from error
    _allow_cells_up_to(len(text))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = [name.strip() for name in reader.fieldnames or []]
    missing = sorted(CSV_REQUIRED - set(columns))
    unknown = sorted(set(columns) - set(CSV_COLUMNS))
    if missing or unknown:
        problems = ([f"missing columns: {', '.join(missing)}"] if missing else []) + \
                   ([f"unknown columns: {', '.join(unknown)}"] if unknown else [])
        raise UnreadableImport(f"{where} does not have the import layout ({'; '.join(problems)}). "
                               f"The columns are: {', '.join(CSV_COLUMNS)}.")
    rows = []
    try:
        for row in reader:
            rows.append({(key or "").strip(): spreadsheet_unsafe(value) for key, value in row.items() if key is not None})
    except csv.Error as error:
        raise UnreadableImport(f"{where} is not valid CSV (line {reader.line_num}: {error}).") from error
    return rows


def _checked_choice(value: str | None, default: str, allowed, what: str, names: str) -> str:
    """Return a cell's code (or the default for an empty cell); raise ValueError for one not allowed."""
    code = (value or default).strip()
    if code not in allowed:
        raise ValueError(f"{what} {code!r} is not {names}")
    return code


def map_row(row: dict, known: dict[str, set[str]]) -> tuple[dict, dict, list[str]]:
    """Map one CSV row onto (listing data, organisation, warnings); raise ValueError to reject it."""
    warnings: list[str] = []
    name = plain_text(row.get("name"))
    if not (row.get("id") or "").strip():
        raise ValueError("no id")
    if not name:
        raise ValueError("no name")
    if not (row.get("organisation_id") or "").strip() or not plain_text(row.get("organisation_name"), 255):
        raise ValueError("no organisation")
    kind = _checked_choice(row.get("kind"), "support_service", {item.value for item in ListingKind}, "kind",
                           "provider, activity or support_service")
    level = _checked_choice(row.get("level"), "universal", {item.value for item in ListingLevel}, "level",
                            "universal, targeted or specialist")
    status = _checked_choice(row.get("status"), "published", CSV_STATUSES, "status",
                             "published, temporarily_closed or archived")
    data = listing_data.new_listing_data(name, kind)
    minimum, maximum = age(row.get("min_age"), warnings, "youngest"), age(row.get("max_age"), warnings, "oldest")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise ValueError(f"ages run backwards ({minimum} to {maximum})")
    accessibility = _json_rows(row.get("accessibility"), "accessibility", ("code", "details"))
    data.update({
        "status": status, "level": level, "summary": plain_text(row.get("summary")),
        "description": limits.description_source(row.get("description")),
        "website": web_address(row.get("website"), warnings, "web address") or "",
        "email": email_address(row.get("email"), warnings, "email") or "",
        "phone": plain_text(row.get("phone")),
        "min_age": minimum, "max_age": maximum, "eligibility": plain_text(row.get("eligibility")),
        "languages": [plain_text(item) for item in _codes(row.get("languages"))],
        "delivery_methods": [m for m in _codes(row.get("delivery_methods")) if m in DELIVERY.values()],
        "access_routes": [a for a in _codes(row.get("access_routes")) if a in ACCESS.values()],
        "how_to_access": plain_text(row.get("how_to_access")),
        "service_area": plain_text(row.get("service_area")),
        "in_area": _yes(row.get("in_area") or "yes"), "is_free": _yes(row.get("is_free")),
        "free_carer_entry": _yes(row.get("free_carer_entry")),
        "ofsted_urn": plain_text(row.get("ofsted_urn")),
        "sen_information_report_url": web_address(row.get("sen_information_report_url"), warnings,
                                                  "SEN report address") or "",
        "costs": _json_rows(row.get("costs"), "costs", _COST_KEYS),
        "schedules": _json_rows(row.get("sessions"), "sessions", _SESSION_KEYS),
        "contacts": [{**contact, "email": email_address(contact.get("email"), warnings, "contact email") or ""}
                     for contact in _json_rows(row.get("contacts"), "contacts", _CONTACT_KEYS)],
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
    data["locations"] = _venues(row, warnings)
    if row.get("assured_date"):
        data["_assured_date"] = row["assured_date"].strip()[:10]
    organisation = organisation_details(row["organisation_id"], row["organisation_name"],
                                        row.get("organisation_description"), row.get("organisation_website"),
                                        row.get("organisation_email"), warnings)
    return data, organisation, warnings


def _venues(row: dict, warnings: list[str]) -> list[dict]:
    """Read the venues cell, leaving out (with a warning) any the gazetteer cannot place."""
    venues = []
    for venue in _json_rows(row.get("venues"), "venues", _VENUE_KEYS):
        masked = bool(venue.get("mask_address"))
        label = venue_postcode(str(venue.get("postcode") or ""), masked, venue.get("name"), warnings)
        if label is not None:
            venues.append({**{key: venue.get(key) or "" for key in _VENUE_KEYS if key not in ("id", "mask_address")},
                           "id": venue.get("id"), "postcode": label, "mask_address": masked})
    return venues
