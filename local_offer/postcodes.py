"""Reading postcodes and place names as people type them: no database, no data files.

The data model (a masked venue shows only its postcode sector), the gazetteer
(which looks postcodes up) and imports all read postcodes the same way here.
"""

from __future__ import annotations

import re
import unicodedata

_FULL = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_SECTOR = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ([0-9])$")
_OUTWARD = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_AREA = re.compile(r"^[A-Z]{1,2}")


def parse_postcode(text: str) -> tuple[str, str] | None:
    """Recognise a full postcode, sector or outward code; return (kind, standard form) or None."""
    cleaned = re.sub(r"\s+", " ", (text or "").strip().upper())
    compact = cleaned.replace(" ", "")
    if match := _FULL.match(compact):
        return "postcode", f"{match.group(1)} {match.group(2)}"
    if match := _SECTOR.match(cleaned):
        return "sector", f"{match.group(1)} {match.group(2)}"
    if _OUTWARD.match(compact) and len(compact) <= 4:
        return "outward", compact
    return None


def postcode_area(code: str) -> str:
    """Return the letters that begin a postcode ("ST16 2AD" -> "ST")."""
    match = _AREA.match(code.upper())
    return match.group(0) if match else ""


def sector_of(postcode: str) -> str:
    """Return a postcode's sector ("ST16 2AD" -> "ST16 2")."""
    parsed = parse_postcode(postcode)
    if parsed and parsed[0] == "sector":
        return parsed[1]  # a venue imported with only its sector (a masked one from another directory)
    if not parsed or parsed[0] != "postcode":
        return ""
    return parsed[1][:-2]


def place_key(name: str) -> str:
    """Normalise a place name for lookup: lower case, no accents, hyphens as spaces."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    plain = re.sub(r"[-'’.,]", " ", plain)
    return re.sub(r"\s+", " ", plain).strip()
